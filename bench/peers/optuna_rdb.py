#!/usr/bin/python3
"""Peer for bench/postgres.bench.ts: Optuna workers sharing one study through RDBStorage on the
same PostgreSQL, running the same cheap objective as Trialbook's test objective (a bowl with its
minimum at 0.3 per dimension, `epochs` intermediate reports, `epoch_ms` of sleep per epoch).

usage: optuna_rdb.py URL STUDY WORKERS TRIALS_PER_WORKER EPOCHS EPOCH_MS
Prints one JSON object: per-trial (start, end) wall times of every worker, ask/tell latencies.
Each worker is a separate process (as with Trialbook), started together after the study exists.
"""
import json
import math
import multiprocessing as mp
import sys
import time

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def objective_value(trial: optuna.Trial, epochs: int, epoch_ms: float) -> float:
    lr = trial.suggest_float("learning_rate", 1e-6, 1e-4, log=True)
    dr = trial.suggest_float("dropout_rate", 0.0, 0.5)
    u_lr = (math.log(lr) - math.log(1e-6)) / (math.log(1e-4) - math.log(1e-6))
    q = 0.05 + (u_lr - 0.3) ** 2 + (dr / 0.5 - 0.3) ** 2
    best = math.inf
    for e in range(1, epochs + 1):
        if epoch_ms > 0:
            time.sleep(epoch_ms / 1000)
        loss = q + 0.5 / e
        trial.report(loss, e)  # one stored intermediate value per epoch, like Trialbook's metric event
        best = min(best, loss)
    return best


def worker(args):
    url, study_name, n_trials, epochs, epoch_ms, start_at, seed = args
    storage = optuna.storages.RDBStorage(url)
    study = optuna.load_study(study_name=study_name, storage=storage, sampler=optuna.samplers.RandomSampler(seed=seed))
    while time.time() < start_at:
        time.sleep(0.005)
    spans, ask_ms, tell_ms = [], [], []
    for _ in range(n_trials):
        t0 = time.perf_counter()
        start = time.time()
        trial = study.ask()
        t1 = time.perf_counter()
        value = objective_value(trial, epochs, epoch_ms)
        t2 = time.perf_counter()
        study.tell(trial, value)
        t3 = time.perf_counter()
        spans.append([start, time.time()])
        ask_ms.append((t1 - t0) * 1000)
        tell_ms.append((t3 - t2) * 1000)
    return {"spans": spans, "ask_ms": ask_ms, "tell_ms": tell_ms}


def main():
    url, study_name, workers, per_worker, epochs, epoch_ms = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
    storage = optuna.storages.RDBStorage(url)  # creates Optuna's schema once, before the workers
    optuna.create_study(study_name=study_name, storage=storage, direction="minimize")
    start_at = time.time() + 1.0 + 0.15 * workers  # all processes import optuna first, then start together
    ctx = mp.get_context("spawn")
    with ctx.Pool(workers) as pool:
        results = pool.map(worker, [(url, study_name, per_worker, epochs, epoch_ms, start_at, 1000 + i) for i in range(workers)])
    study = optuna.load_study(study_name=study_name, storage=storage)
    states = [t.state.name for t in study.get_trials(deepcopy=False)]
    print(json.dumps({"optuna": optuna.__version__, "workers": results, "trials": len(states), "complete": states.count("COMPLETE")}))


if __name__ == "__main__":
    main()
