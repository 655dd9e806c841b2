/**
 * WorkerClient against the tests' worker process (dist/testing/worker.js: every real job, and
 * the echo job of testing/echo-job.ts): streaming, cancel, kill after an ignored cancel,
 * crashes, malformed messages, errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { WorkerClient } from '../../src/worker/client';
import { isWorkerJobError, type WorkerJobError } from '../../src/worker/errors';
import type { Metric } from '../../src/protocol/messages';
import { ECHO, echo, TestJob } from '../../testing/echo-job';
import { testWorkerPath } from '../helpers';

function client(t: { after: (fn: () => Promise<void> | void) => void }, opts: ConstructorParameters<typeof WorkerClient>[0] = {}): WorkerClient {
  const c = new WorkerClient({ workerPath: testWorkerPath, jobs: TestJob, ...opts });
  t.after(() => c.close());
  return c;
}

async function rejection(p: Promise<unknown>): Promise<WorkerJobError> {
  try {
    await p;
  } catch (e) {
    assert.ok(isWorkerJobError(e), `expected a WorkerJobError, got ${e}`);
    return e;
  }
  assert.fail('the job should have failed');
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('the tests\' worker bundle exists (run npm run build first)', () => {
  assert.ok(existsSync(testWorkerPath), testWorkerPath);
});

test('echo round trip streams metrics, progress and logs in order', async (t) => {
  const c = client(t);
  const metrics: Metric[] = [];
  const progress: number[] = [];
  const logs: string[] = [];
  const r = await c.run<{ value: unknown; metricsSent: number; pid: number }>(
    echo({ value: { a: [1, 'two'] }, metrics: 4, delayMs: 5, logs: ['hello', 'world'] }),
    { onMetric: (m) => metrics.push(m), onProgress: (p) => progress.push(p.done), onLog: (_l, text) => logs.push(text) },
  );
  assert.deepEqual(r.value, { a: [1, 'two'] });
  assert.equal(r.metricsSent, 4);
  assert.notEqual(r.pid, process.pid, 'the job ran in another process');
  assert.deepEqual(metrics.map((m) => m.epoch), [1, 2, 3, 4]);
  assert.equal(metrics[1].train_loss, 0.5);
  assert.deepEqual(progress, [1, 2, 3, 4]);
  assert.deepEqual(logs, ['hello', 'world']);
  assert.equal(c.info?.pid, r.pid);
  assert.ok((c.info?.rssMiB ?? 0) > 10, 'the result reports the worker RSS');
  // Jobs run one after another on the same worker.
  const [a, b] = await Promise.all([
    c.run<{ pid: number; value: unknown }>(echo({ value: 1, metrics: 2, delayMs: 10 })),
    c.run<{ pid: number; value: unknown }>(echo({ value: 2 })),
  ]);
  assert.equal(a.value, 1);
  assert.equal(b.value, 2);
  assert.equal(a.pid, r.pid);
  assert.equal(b.pid, r.pid);
  assert.equal(c.workersStarted, 1);
});

test('cancel stops a job within one step; the worker stays and runs the next job', async (t) => {
  const c = client(t, { cancelTimeoutMs: 5000 });
  let seen = 0;
  let atCancel = -1;
  const job = c.run(echo({ metrics: 1000, delayMs: 20 }), {
    onMetric: () => {
      seen++;
      if (seen === 3) {
        atCancel = seen;
        c.cancel(job.id);
      }
    },
  });
  const started = Date.now();
  const e = await rejection(job);
  assert.equal(e.cause, 'cancelled');
  assert.ok(Date.now() - started < 3000);
  assert.ok(seen - atCancel <= 1, `at most one more step after the cancel (got ${seen - atCancel})`);
  const pid = c.info?.pid;
  const next = await c.run<{ pid: number }>(echo({ value: 'next' }));
  assert.equal(next.pid, pid, 'no restart was needed');
  assert.equal(c.workersStarted, 1);
});

test('cancel through an AbortSignal, and cancel of a queued job', async (t) => {
  const c = client(t);
  const ac = new AbortController();
  const first = c.run(echo({ metrics: 1000, delayMs: 10 }), { signal: ac.signal, onMetric: () => ac.abort() });
  const queued = c.run(echo({ value: 'never' }));
  c.cancel(queued.id);
  assert.equal((await rejection(queued)).cause, 'cancelled');
  assert.equal((await rejection(first)).cause, 'cancelled');
});

test('a job that ignores cancel is killed after the timeout and reported cancelled', async (t) => {
  const c = client(t, { cancelTimeoutMs: 400 });
  let pid = 0;
  const job = c.run(echo({ metrics: 100000, delayMs: 10, ignoreCancel: true }), {
    onMetric: (m) => {
      if (m.epoch === 2) {
        pid = c.info!.pid!;
        c.cancel(job.id);
      }
    },
  });
  const started = Date.now();
  const e = await rejection(job);
  const waited = Date.now() - started;
  assert.equal(e.cause, 'cancelled');
  assert.match(e.message, /killed/);
  assert.ok(waited >= 350 && waited < 3000, `killed after the timeout (${waited} ms)`);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(alive(pid), false, 'the old worker is gone');
  const next = await c.run<{ pid: number }>(echo({}));
  assert.notEqual(next.pid, pid);
});

test('a worker spinning without reading messages is killed on cancel too', async (t) => {
  const c = client(t, { cancelTimeoutMs: 300 });
  const job = c.run(echo({ fail: 'spin' }), {});
  await new Promise((r) => setTimeout(r, 300));
  c.cancel(job.id);
  assert.equal((await rejection(job)).cause, 'cancelled');
});

test('worker SIGKILLed mid-job: the caller gets crash with the signal; the next job gets a fresh worker', async (t) => {
  const c = client(t);
  let pid = 0;
  const job = c.run(echo({ metrics: 1000, delayMs: 10, logs: ['loading data'] }), {
    onMetric: (m) => {
      if (m.epoch === 3) {
        pid = c.info!.pid!;
        process.kill(pid, 'SIGKILL');
      }
    },
  });
  const e = await rejection(job);
  assert.equal(e.cause, 'crash');
  assert.match(e.message, /SIGKILL/);
  assert.match(e.message, /loading data/, 'the message carries the last log lines');
  const next = await c.run<{ pid: number; value: unknown }>(echo({ value: 'after crash' }));
  assert.equal(next.value, 'after crash');
  assert.notEqual(next.pid, pid);
  assert.equal(c.workersStarted, 2);
});

test('a worker that exits during a job reports its exit code; an uncaught exception fails the job and the worker', async (t) => {
  const c = client(t);
  const e = await rejection(c.run(echo({ fail: 'exit' })));
  assert.equal(e.cause, 'crash');
  assert.match(e.message, /exit code 3/);
  const pid = (await c.run<{ pid: number }>(echo({}))).pid;
  const u = await rejection(c.run(echo({ fail: 'uncaught' })));
  assert.equal(u.cause, 'internal');
  assert.match(u.message, /deliberate uncaught exception/);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(alive(pid), false, 'the worker exits after an uncaught exception');
  assert.equal((await c.run<{ value: unknown }>(echo({ value: 5 }))).value, 5);
});

test('a malformed message from the worker is logged and ignored', async (t) => {
  const lines: string[] = [];
  const c = client(t, { onLog: (_l, text) => lines.push(text) });
  const metrics: Metric[] = [];
  const r = await c.run<{ value: unknown }>(echo({ malformed: true, metrics: 2, value: 'ok' }), { onMetric: (m) => metrics.push(m) });
  assert.equal(r.value, 'ok');
  assert.equal(metrics.length, 2, 'the malformed metric did not reach the handler');
  assert.ok(lines.some((l) => /ignored an invalid message from the worker \(type metric; metric\.epoch/.test(l)), lines.join('\n'));
});

test('errors arrive with their cause and message, never a stack', async (t) => {
  const c = client(t);
  const user = await rejection(c.run(echo({ fail: 'user' })));
  assert.equal(user.cause, 'user');
  assert.equal(user.message, 'echo.tsv:3: label "maybe" is not one of 0, 1');
  assert.equal(user.detail, undefined);
  const nan = await rejection(c.run(echo({ fail: 'nan' })));
  assert.equal(nan.cause, 'nan');
  const oom = await rejection(c.run(echo({ fail: 'oom' })));
  assert.equal(oom.cause, 'oom');
  const internal = await rejection(c.run(echo({ fail: 'internal' })));
  assert.equal(internal.cause, 'internal');
  assert.equal(internal.message, 'echo: deliberate internal failure');
  for (const e of [user, nan, oom, internal]) assert.doesNotMatch(`${e.message} ${e.detail ?? ''}`, /\n\s+at /);
  // Bad options are rejected at the boundary as an internal error, not a crash.
  const bad = await rejection(c.run(echo({ metrics: -1 })));
  assert.equal(bad.cause, 'internal');
  assert.match(bad.message, /metrics/);
  assert.equal(c.workersStarted, 1);
});

test('a V8 heap overflow in the worker is reported as oom, and the next job runs', async (t) => {
  const c = client(t, { heapMiB: 48 });
  const e = await rejection(c.run(echo({ fail: 'heap', logs: ['filling the heap'] })));
  assert.equal(e.cause, 'oom', e.message);
  assert.match(e.message, /ran out of memory/);
  assert.equal((await c.run<{ value: unknown }>(echo({ value: 'fine' }))).value, 'fine');
});

test('recycleAfter starts a fresh worker every N jobs', async (t) => {
  const c = client(t, { recycleAfter: 2, recycleKinds: [ECHO] });
  const pids: number[] = [];
  for (let i = 0; i < 5; i++) pids.push((await c.run<{ pid: number }>(echo({}))).pid);
  assert.equal(pids[0], pids[1]);
  assert.notEqual(pids[1], pids[2]);
  assert.equal(pids[2], pids[3]);
  assert.notEqual(pids[3], pids[4]);
  assert.equal(c.workersStarted, 3);
  // By default only trial jobs count: echo jobs share one worker.
  const d = client(t);
  const a = await d.run<{ pid: number }>(echo({}));
  const b = await d.run<{ pid: number }>(echo({}));
  assert.equal(a.pid, b.pid);
});

test('a worker that cannot start fails the job as crash, and the client recovers', async (t) => {
  const c = client(t, { workerPath: '/nonexistent/worker.js' });
  const e = await rejection(c.run(echo({})));
  assert.equal(e.cause, 'crash');
  assert.match(e.message, /exit code 1|Cannot find module/);
});
