/**
 * Worker process entry (bundled to dist/worker.js, started with child_process.fork). Heavy work
 * runs here so nothing the engine does can hang or crash the CLI or the editor.
 */
import { ToWorker } from '../protocol/messages';
import { runJob } from './jobs';
import { serveWorker } from './serve';

serveWorker({ messages: ToWorker, runJob });
