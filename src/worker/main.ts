/**
 * Worker process entry (bundled to dist/worker.js, started with child_process.fork). Heavy work
 * runs here so nothing the engine does can hang or crash the CLI or the editor. Messages are
 * the typed protocol of src/protocol/messages.ts.
 */
import type { FromWorker } from '../protocol/messages';
import { WorkerHost } from './host';
import { runJob } from './jobs';
import { initBackend } from './backend';

if (!process.send) {
  process.stderr.write('trialbook worker: start me with child_process.fork (no IPC channel)\n');
  process.exit(2);
}

const send = (msg: FromWorker, done?: () => void): void => {
  if (!process.connected) {
    done?.();
    return;
  }
  process.send!(msg, undefined, {}, () => done?.());
};

const host = new WorkerHost({
  send,
  runJob,
  initBackend,
  exit: (code) => process.exit(code),
});

process.on('message', (m) => host.onMessage(m));
process.on('uncaughtException', (e) => host.onFatal(e));
process.on('unhandledRejection', (e) => host.onFatal(e));
// The parent is gone (CLI killed, editor closed): never outlive it.
process.on('disconnect', () => process.exit(0));
// Ctrl-C in a terminal reaches the whole process group: the parent decides (it sends cancel).
process.on('SIGINT', () => {});
host.start();
