/**
 * A worker process's wiring around its job loop (./host.ts): the IPC channel, console output as
 * log messages, and never outliving the parent. Messages are the typed protocol of
 * src/protocol/messages.ts.
 */
import type { FromWorker } from '../protocol/messages';
import { WorkerHost, type HostDeps } from './host';
import { initBackend } from './backend';

/** Serves jobs in this process (started with child_process.fork) until the parent goes. */
export function serveWorker<J>(jobs: Pick<HostDeps<J>, 'messages' | 'runJob'>): void {
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

  const host = new WorkerHost<J>({
    send,
    ...jobs,
    initBackend,
    exit: (code) => process.exit(code),
  });

  // Library chatter (console.*) becomes log messages instead of raw stderr, which stays for what
  // only the process can say (V8 fatal errors, native aborts). tfjs's "install the node backend"
  // banner is debug-level noise.
  const BANNER = /^=+$|looks like you are running TensorFlow\.js in Node\.js|^\s*$/;
  const route = (level: 'debug' | 'info' | 'warn' | 'error') => (...args: unknown[]) => {
    const text = args.map((a) => (typeof a === 'string' ? a : a instanceof Error ? a.message : safeJson(a))).join(' ');
    send({ type: 'log', level: BANNER.test(text) ? 'debug' : level, text });
  };
  function safeJson(v: unknown): string {
    try {
      return JSON.stringify(v) ?? String(v);
    } catch {
      return String(v);
    }
  }
  console.log = route('info');
  console.info = route('info');
  console.debug = route('debug');
  console.warn = route('warn');
  console.error = route('error');

  process.on('message', (m) => host.onMessage(m));
  process.on('uncaughtException', (e) => host.onFatal(e));
  process.on('unhandledRejection', (e) => host.onFatal(e));
  // The parent is gone (CLI killed, editor closed): never outlive it.
  process.on('disconnect', () => process.exit(0));
  // Ctrl-C in a terminal (or `timeout`, or kill -TERM -PGID) reaches the whole process group: while
  // the parent is there it decides (it sends cancel); without a parent the signal ends the worker.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (!process.connected) process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
  host.start();
}
