/** Job kind → handler. Each handler parses nothing itself: ToWorker already validated the options. */
import type { Job } from '../../protocol/messages';
import type { JobContext } from '../context';
import { echoJob } from './echo';

export async function runJob(job: Job, ctx: JobContext): Promise<unknown> {
  switch (job.kind) {
    case 'echo':
      return echoJob(job.options, ctx);
    default:
      throw new Error(`job kind '${job.kind}' is not available in this build`);
  }
}
