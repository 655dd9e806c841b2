/**
 * The PyTorch peer (torch_bert.py) at its best on this machine: every thread setting worth trying
 * on its cores (torch threads × BLAS threads, never more than the cores), and OpenBLAS's kernels
 * for this CPU (the user's OPENBLAS_CORETYPE, else the one Trialbook chooses from the CPU flags:
 * OpenBLAS 0.3.21 misdetects some VMs as Prescott, which would make PyTorch a straw man).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { openblasCoreForPeers } from '../../src/engine/native-blas';

const PY = '/usr/bin/python3';
const PEER = join(__dirname, 'torch_bert.py');

export interface TorchRun {
  preset: string;
  seq: number;
  batch: number;
  steps: number;
  /** A JSON file listing real token counts: length-bucketed batches, padded per batch. */
  lengthsFile?: string;
  /** CPU autocast to bf16. */
  bf16?: boolean;
}

export interface TorchResult {
  train_ex_s?: number;
  infer_ex_s?: number;
  train_setting?: string;
  infer_setting?: string;
  openblas_coretype?: string;
  peak_rss_mib?: number;
  runs?: unknown[];
  error?: string;
}

/** Thread settings: one core (1×1), all cores in BLAS (1×N), all in torch (N×1). */
function settings(): Array<{ torch: number; blas: number }> {
  const n = cpus().length;
  const out = [{ torch: 1, blas: 1 }];
  if (n > 1) out.push({ torch: 1, blas: n }, { torch: n, blas: 1 });
  return out;
}

export function torchAvailable(): string | undefined {
  if (!existsSync(PY) || spawnSync(PY, ['-c', 'import torch'], { stdio: 'ignore' }).status !== 0) return 'python3-torch is not installed (apt-get install -y python3-torch libopenblas0-pthread)';
  return undefined;
}

/** The best training and the best inference speed over the thread settings, in one call each. */
export function torchPeer(run: TorchRun): TorchResult {
  const missing = torchAvailable();
  if (missing) return { error: missing };
  const core = openblasCoreForPeers();
  const args = ['--preset', run.preset, '--seq', String(run.seq), '--batch', String(run.batch), '--steps', String(run.steps)];
  if (run.lengthsFile) args.push('--lengths', run.lengthsFile);
  if (run.bf16) args.push('--bf16');
  const runs = settings().map((s) => {
    const env = { ...process.env, OMP_NUM_THREADS: String(s.blas), OPENBLAS_NUM_THREADS: String(s.blas), ...(core ? { OPENBLAS_CORETYPE: core } : {}) };
    const r = spawnSync(PY, [PEER, ...args, '--threads', String(s.torch)], { encoding: 'utf8', env });
    try {
      return { ...s, ...(JSON.parse(r.stdout.trim().split('\n').pop()!) as { train_ex_s: number; infer_ex_s: number; peak_rss_mib: number }) };
    } catch {
      return { ...s, train_ex_s: 0, infer_ex_s: 0, peak_rss_mib: 0, error: r.stderr.slice(-300) };
    }
  });
  const bestTrain = runs.reduce((a, b) => (b.train_ex_s > a.train_ex_s ? b : a));
  const bestInfer = runs.reduce((a, b) => (b.infer_ex_s > a.infer_ex_s ? b : a));
  return {
    runs,
    train_ex_s: bestTrain.train_ex_s,
    train_setting: `torch ${bestTrain.torch}, BLAS ${bestTrain.blas}`,
    infer_ex_s: bestInfer.infer_ex_s,
    infer_setting: `torch ${bestInfer.torch}, BLAS ${bestInfer.blas}`,
    peak_rss_mib: Math.max(...runs.map((r) => r.peak_rss_mib)),
    ...(core ? { openblas_coretype: core } : {}),
  };
}
