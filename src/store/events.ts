/**
 * The events a study is made of: the same JSON in both stores (a line of the journal, a row of
 * PostgreSQL's events table), replayed into trials by replay.ts. The journal checks every line
 * it reads against this schema; the type is the schema's, so the two never drift apart.
 */
import { z } from 'zod';
import { Metric, Params } from '../protocol/messages';
import { CheckpointOrigin } from '../protocol/run-events';

const Tag = z.record(z.string(), z.unknown());
const TrialNo = z.number().int().min(0);
export const TrialEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('created'), trial: TrialNo, params: Params, tag: Tag.optional(), epochs: z.number().optional(), resumeFrom: z.number().optional(), repeat: z.number().optional(), seed: z.number().optional(), at: z.number() }),
  z.object({ type: z.literal('started'), trial: TrialNo, worker: z.string(), attempt: z.number().optional(), resume: z.boolean().optional(), at: z.number() }),
  z.object({ type: z.literal('metric'), trial: TrialNo, metric: Metric, at: z.number() }),
  z.object({ type: z.literal('finished'), trial: TrialNo, value: z.number(), values: z.array(z.number()).optional(), result: Tag, at: z.number() }),
  z.object({ type: z.literal('failed'), trial: TrialNo, reason: z.string(), cause: z.string().optional(), at: z.number() }),
  z.object({ type: z.literal('pruned'), trial: TrialNo, epoch: z.number(), at: z.number() }),
  z.object({ type: z.literal('heartbeat'), trial: TrialNo, worker: z.string(), at: z.number() }),
  CheckpointOrigin.extend({ type: z.literal('checkpoint'), trial: TrialNo, at: z.number() }),
]);
export type TrialEvent = z.infer<typeof TrialEvent>;
