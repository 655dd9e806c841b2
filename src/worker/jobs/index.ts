/**
 * Job kind → handler. Options were validated by ToWorker at the boundary. Handlers are loaded on
 * first use, so the worker starts (and answers split jobs) without loading
 * TensorFlow.js.
 */
import type { Job } from '../../protocol/messages';
import type { JobContext } from '../context';

export async function runJob(job: Job, ctx: JobContext): Promise<unknown> {
  switch (job.kind) {
    case 'split':
      return (await import('./split')).splitJob(job.options, ctx);
    case 'tokenize':
      return (await import('./tokenize')).tokenizeJob(job.options, ctx);
    case 'lengths':
      return (await import('./tokenize')).lengthsJob(job.options, ctx);
    case 'trial':
      return (await import('./trial')).trialJob(job.options, ctx);
    case 'evaluate':
      return (await import('./evaluate')).evaluateJob(job.options, ctx);
    case 'predict':
      return (await import('./predict')).predictJob(job.options, ctx);
    case 'pretrain':
      return (await import('./pretrain')).pretrainJob(job.options, ctx);
    case 'runtime':
      return ctx.backend(job.options.backend);
  }
}
