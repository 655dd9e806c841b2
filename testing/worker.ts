/** The worker process as the tests run it (bundled to dist/testing/worker.js): every real job, and echo. */
import { toWorker } from '../src/protocol/messages';
import { runJob } from '../src/worker/jobs';
import { serveWorker } from '../src/worker/serve';
import { echoJob, TestJob } from './echo-job';

serveWorker<TestJob>({ messages: toWorker(TestJob), runJob: (job, ctx) => (job.kind === 'echo' ? echoJob(job.options, ctx) : runJob(job, ctx)) });
