"""Optuna peer for bench/tuners.bench.ts (Debian python3-optuna, run with /usr/bin/python3).

Reads one JSON task on stdin, prints one JSON result. The test functions and the learning-curve
surrogate are defined here exactly as in bench/tuners.bench.ts; the `eval` task lets the bench
check that both definitions agree before comparing anything.
"""
import json
import math
import sys
import time

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)

HARTMANN_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
HARTMANN_P = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991], [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]
HARTMANN_ALPHA = [1.0, 1.2, 3.0, 3.2]


def branin(p):
    x, y = p["x"], p["y"]
    b = 5.1 / (4 * math.pi ** 2)
    c = 5 / math.pi
    t = 1 / (8 * math.pi)
    return (y - b * x * x + c * x - 6) ** 2 + 10 * (1 - t) * math.cos(x) + 10


def hartmann6(p):
    x = [p["x%d" % i] for i in range(6)]
    total = 0.0
    for i in range(4):
        inner = sum(HARTMANN_A[i][j] * (x[j] - HARTMANN_P[i][j] * 1e-4) ** 2 for j in range(6))
        total += HARTMANN_ALPHA[i] * math.exp(-inner)
    return -total


def surrogate(p, epoch, kind="crossing"):
    """Validation loss of configuration p after `epoch` epochs ("fast" or "crossing" curves)."""
    u = math.log10(p["lr"])
    d = p["dropout"]
    lb = math.log2(p["batch"])
    w = p["warmup"]
    final = 0.30 + 0.12 * (u + 3.2) ** 2 + 0.6 * (d - 0.2) ** 2 + 0.02 * (lb - 6) ** 2 + 0.004 * (w - 4) ** 2 + 0.05 * (u + 3.2) * (d - 0.2)
    if kind == "fast":
        a = 0.4 + 0.4 * d + 0.05 * (lb - 5)
        b = 0.15 + 0.6 * (u + 5) / 4 * (1 - 0.5 * d)
    else:
        a = 1.2 + 0.6 * d + 0.1 * (lb - 5)
        b = 0.04 + 0.3 * (u + 5) / 4 * (1 - 0.5 * d)
    return final + a * math.exp(-b * epoch)


def suggest(trial, fn):
    if fn == "branin":
        return {"x": trial.suggest_float("x", -5, 10), "y": trial.suggest_float("y", 0, 15)}
    if fn == "hartmann6":
        return {"x%d" % i: trial.suggest_float("x%d" % i, 0, 1) for i in range(6)}
    return {
        "lr": trial.suggest_float("lr", 1e-5, 1e-1, log=True),
        "dropout": trial.suggest_float("dropout", 0, 0.5),
        "batch": trial.suggest_categorical("batch", [32, 64, 128, 256]),
        "warmup": trial.suggest_int("warmup", 0, 10),
    }


def sampler_for(name, seed):
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def single(task):
    fn = {"branin": branin, "hartmann6": hartmann6}[task["fn"]]
    best = []
    start = time.perf_counter()
    for seed in task["seeds"]:
        study = optuna.create_study(sampler=sampler_for(task["sampler"], seed))
        study.optimize(lambda t: fn(suggest(t, task["fn"])), n_trials=task["budget"])
        best.append(study.best_value)
    return {"best": best, "seconds": time.perf_counter() - start}


class Stop(Exception):
    pass


def multi_fidelity(task):
    R, budget, target = task["R"], task["epochBudget"], task["target"]
    best_at_budget, to_target = [], []
    for seed in task["seeds"]:
        pruner = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=R, reduction_factor=3) if task["sampler"] == "tpe-hyperband" else optuna.pruners.NopPruner()
        study = optuna.create_study(sampler=sampler_for("random" if task["sampler"] == "random" else "tpe", seed), pruner=pruner)
        state = {"epochs": 0, "best": math.inf, "reached": None}

        def objective(trial):
            p = suggest(trial, "surrogate")
            loss = math.inf
            for epoch in range(1, R + 1):
                if state["epochs"] >= budget and state["reached"] is not None:
                    raise Stop()
                state["epochs"] += 1
                loss = surrogate(p, epoch, task["kind"])
                if state["epochs"] <= budget:
                    state["best"] = min(state["best"], loss)
                if loss <= target and state["reached"] is None:
                    state["reached"] = state["epochs"]
                if state["epochs"] >= task["epochCap"]:
                    raise Stop()
                trial.report(loss, epoch)
                if trial.should_prune():
                    raise optuna.TrialPruned()
            return loss

        try:
            study.optimize(objective, n_trials=100000, catch=())
        except Stop:
            pass
        best_at_budget.append(state["best"])
        to_target.append(state["reached"])
    return {"bestAtBudget": best_at_budget, "epochsToTarget": to_target}


def overhead(task):
    """Milliseconds per ask() with `finished` complete trials in the study (Hartmann-6 space)."""
    out = {}
    for name in ("random", "tpe"):
        study = optuna.create_study(sampler=sampler_for(name, 0))
        study.optimize(lambda t: hartmann6(suggest(t, "hartmann6")), n_trials=task["finished"])
        n = task["repeats"]
        start = time.perf_counter()
        for _ in range(n):
            t = study.ask()
            suggest(t, "hartmann6")
            study.tell(t, 0.0)
        out[name] = (time.perf_counter() - start) * 1000 / n
    return out


def main():
    task = json.load(sys.stdin)
    kind = task["task"]
    if kind == "eval":
        res = {
            "branin": [branin(p) for p in task["branin"]],
            "hartmann6": [hartmann6(p) for p in task["hartmann6"]],
            "surrogate": [surrogate(p, e, k) for p, e, k in task["surrogate"]],
        }
    elif kind == "single":
        res = single(task)
    elif kind == "mf":
        res = multi_fidelity(task)
    elif kind == "overhead":
        res = overhead(task)
    else:
        raise SystemExit("unknown task " + kind)
    res["optuna"] = optuna.__version__
    json.dump(res, sys.stdout)


if __name__ == "__main__":
    main()
