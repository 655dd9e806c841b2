/**
 * The real objective: one trial = one `trial` job in a worker process (one worker per parallel
 * slot). A worker that dies fails the trial with cause 'crash'; the client starts a fresh one
 * for the next trial.
 */
import type { TrainParams } from '../core/params';
import type { LoadedStudy } from '../core/study';
import type { TrainResult } from '../engine/types';
import { WorkerClient, type WorkerClientOptions } from '../worker/client';
import { isWorkerJobError } from '../worker/errors';
import { objectiveValue, trialJobInput } from '../worker/jobs/trial-types';
import type { FailureReason } from '../protocol/run-events';
import { TrialFailure } from './failure-policy';
import type { Objective, ObjectiveHooks, ObjectiveResult, TrialSpec } from './objective';

export class WorkerObjective implements Objective {
  readonly name = 'worker';
  private readonly client: WorkerClient;

  constructor(private readonly loaded: LoadedStudy, clientOptions: WorkerClientOptions = {}) {
    this.client = new WorkerClient(clientOptions);
  }

  async run(spec: TrialSpec, hooks: ObjectiveHooks): Promise<ObjectiveResult> {
    let r: TrainResult;
    try {
      // The study as this process loaded it: editing the file mid-run changes no running study.
      const job = trialJobInput(this.loaded, spec.params as unknown as TrainParams, { checkpointDir: spec.checkpointDir, resume: spec.resume, ...(spec.saveBestTo ? { saveTo: spec.saveBestTo } : {}) });
      r = await this.client.run<TrainResult>(job, { onMetric: hooks.onMetric, onLog: hooks.onLog, signal: hooks.signal });
    } catch (e) {
      if (isWorkerJobError(e)) {
        const reason: FailureReason = e.cause === 'internal' ? 'error' : e.cause;
        throw new TrialFailure(e.message, reason);
      }
      throw e;
    }
    const value = objectiveValue(r, this.loaded.study.objective.metric);
    // The curve is already in the journal as metric events: do not store it twice.
    const { curve: _curve, ...rest } = r;
    return { value, result: rest as unknown as Record<string, unknown> };
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
