"""Backtest of `trainyard.predict`: replay a cluster history in time order, predict, score.

    python -m bench.predict_backtest [--days 6] [--seed 0] [--refit-every 25]

The history is generated, not invented row by row: six users with their own habits (model
family, slots per trial, random search or adaptive ASHA, concurrency) submit experiments at random
times; each experiment's trials come from Trainyard's own searcher (`trainyard.searcher.simulate`:
which trials exist and how far each trains), and every trial's allocation goes through
Trainyard's real scheduler (`trainyard.scheduler.schedule`) on a 16-slot pool, so queue waits
come from the real queue rules (fair share between users, FIFO within a share). A trial's true
run time is its length x a step time that depends on the model family, width, batch size and
slots (with +-15% noise, and 5% of runs 2-3x slower as on a contended node) plus a start-up
overhead; peak memory grows with width x batch. The records kept are the fields the master
stores for an allocation (user, experiment, slots, queued/started/ended times, trial
hyperparameters and length), plus the peak memory the master does not record yet.

Replay: allocations in the order they were queued; before each, the predictor is refitted (every
`--refit-every` allocations) on what was known at that moment (runs ended by then, waits of
allocations started by then). Printed: the median absolute percentage error (MdAPE) of the
trial run time and of the queue wait, ours (kNN + boosting ensemble, and each member alone) vs
the naive baselines "last value" (the user's last finished run / last wait) and "per-user mean",
plus how often the truth fell inside our stated 80% interval. Queue waits are scored relative to
`wait + 60 s` (a wait of 0 s has no percentage error).

Measured 2026-12-08 (`python -m bench.predict_backtest --days 2 --refit-every 40`, seed 0, 628
allocations of 28 experiments, 588 scored; 2 cores shared with 7 other jobs, load average ~16,
under `nice -n 19`, 917 s): MdAPE of the trial run time 30.7% (kNN alone 38.1%, boosting alone
29.8%) against 111.5% for the last value and 88.7% for the per-user mean; queue wait 15.0%
against 60.4% and 69.7%; peak memory 11.0% against 69.9% and 55.9%. The stated 80% interval
held the truth for 71% of run times, 61% of waits and 72% of peak memories: narrower than it
says, most of all for waits.
"""

from __future__ import annotations

import argparse
import heapq
import math
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from trainyard.predict import Predictor, QueueState, RunRecord, queue_state
from trainyard.scheduler import PoolCapacity, Request, Running, schedule
from trainyard.searcher import simulate

POOL = "default"
CAPACITY = 16
FAMILIES = {  # seconds per batch at width 64, batch 64, 1 slot; bytes of peak memory at that size
    "mlp": (0.02, 0.6e9),
    "mnist_cnn": (0.08, 1.2e9),
    "resnet18": (0.4, 5.0e9),
    "bert_small": (1.0, 9.0e9),
}


@dataclass(frozen=True)
class Habit:
    user: str
    family: str
    slots: tuple[int, ...]
    searcher: str
    concurrency: int
    experiments_per_day: float


HABITS = [
    Habit("ann", "mnist_cnn", (1,), "random", 4, 3.0),
    Habit("bob", "resnet18", (1, 2), "adaptive_asha", 4, 1.5),
    Habit("cho", "bert_small", (2, 4), "adaptive_asha", 2, 0.7),
    Habit("dev", "mlp", (1,), "random", 8, 4.0),
    Habit("eve", "resnet18", (4,), "random", 2, 0.8),
    Habit("fay", "mnist_cnn", (1, 2), "adaptive_asha", 6, 2.0),
]
SPACE = {
    "lr": {"type": "log", "minval": -4, "maxval": -1},
    "width": {"type": "categorical", "vals": [32, 64, 128, 256]},
    "batch_size": {"type": "categorical", "vals": [32, 64, 128, 256]},
}


def step_seconds(family: str, h: dict[str, Any], slots: int) -> float:
    base = FAMILIES[family][0]
    return base * (h["width"] / 64) ** 0.8 * (h["batch_size"] / 64) ** 0.6 / slots**0.85


def peak_bytes(family: str, h: dict[str, Any]) -> float:
    base = FAMILIES[family][1]
    return base * (0.5 + 0.5 * (h["width"] / 64) * (h["batch_size"] / 64) ** 0.7)


def experiment_trials(habit: Habit, rng: np.random.Generator, seed: int) -> list[dict[str, Any]]:
    """The trials one experiment of `habit` creates: hparams, relative creation time, length."""
    max_length = int(rng.choice([500, 1000, 2000, 4000]))
    searcher: dict[str, Any] = {
        "name": habit.searcher,
        "metric": "loss",
        "max_length": {"batches": max_length},
        "max_concurrent_trials": habit.concurrency,
        "max_trials": int(rng.integers(6, 25 if habit.searcher == "random" else 40)),
    }
    config = {
        "name": "x",
        "entrypoint": "python3 train.py",
        "hyperparameters": SPACE,
        "searcher": searcher,
    }

    def objective(h: dict[str, Any], length: int) -> float:
        return (math.log10(h["lr"]) + 2.5) ** 2 + 64 / h["width"] + 30 / length

    def cost(h: dict[str, Any], length: int) -> float:
        return length * step_seconds(habit.family, h, 1)

    result = simulate(config, objective, cost, workers=habit.concurrency, seed=seed)
    return [
        {"hparams": t.hparams, "created": t.created_at, "length": t.trained_length}
        for t in result.trials
        if t.trained_length > 0
    ]


def generate(days: float, seed: int) -> list[RunRecord]:
    """A cluster history of `days` days (see the module docstring)."""
    rng = np.random.default_rng(seed)
    arrivals: list[tuple[float, int, RunRecord, float, int]] = []
    exp_id = 0
    for habit in HABITS:
        t = float(rng.exponential(86400 / habit.experiments_per_day))
        while t < days * 86400:
            exp_id += 1
            slots = int(rng.choice(habit.slots))
            for trial in experiment_trials(habit, rng, seed * 1000 + exp_id):
                h, length = trial["hparams"], trial["length"]
                slow = rng.uniform(2, 3) if rng.random() < 0.05 else 1.0
                run = length * step_seconds(habit.family, h, slots) * slow
                run = run * float(rng.lognormal(0, 0.15)) + float(rng.uniform(10, 40))
                record = RunRecord(
                    user=habit.user,
                    experiment_id=exp_id,
                    slots=slots,
                    queued_at=t + trial["created"] * 0.2,
                    hparams=h,
                    context={"model": habit.family, "searcher": habit.searcher},
                    length=float(length),
                    peak_memory=peak_bytes(habit.family, h) * float(rng.lognormal(0, 0.1)),
                )
                arrivals.append((record.queued_at, len(arrivals), record, run, habit.concurrency))
            t += float(rng.exponential(86400 / habit.experiments_per_day))
    return run_cluster(sorted(arrivals, key=lambda a: (a[0], a[1])))


def run_cluster(arrivals: list[tuple[float, int, RunRecord, float, int]]) -> list[RunRecord]:
    """Queue every allocation through `trainyard.scheduler.schedule` on one pool."""
    done: list[RunRecord] = []
    pending: dict[int, tuple[RunRecord, float, int]] = {}
    running: dict[int, tuple[RunRecord, tuple[int, ...], float]] = {}
    ends: list[tuple[float, int]] = []
    i, now = 0, 0.0
    while i < len(arrivals) or pending or running:
        next_arrival = arrivals[i][0] if i < len(arrivals) else math.inf
        next_end = ends[0][0] if ends else math.inf
        now = min(next_arrival, next_end)
        while i < len(arrivals) and arrivals[i][0] <= now:
            _, rid, record, run, conc = arrivals[i]
            pending[rid] = (record, run, conc)
            i += 1
        while ends and ends[0][0] <= now:
            _, rid = heapq.heappop(ends)
            record, _, end = running.pop(rid)
            done.append(replace(record, ended_at=end))
        requests = [
            Request(
                rid, r.experiment_id, POOL, r.slots, order=rid, user=r.user, max_concurrent=conc
            )
            for rid, (r, _, conc) in pending.items()
        ]
        held = [
            Running(str(rid), r.experiment_id, POOL, ids, order=rid, user=r.user)
            for rid, (r, ids, _) in running.items()
        ]
        for start in schedule(requests, held, [PoolCapacity(POOL, CAPACITY)]).starts:
            record, run, _ = pending.pop(start.request_id)
            record = replace(record, started_at=now)
            running[start.request_id] = (record, start.slot_ids, now + run)
            heapq.heappush(ends, (now + run, start.request_id))
    return sorted(done, key=lambda r: r.queued_at)


def known_at(r: RunRecord, t: float) -> RunRecord:
    """`r` as the master knew it at time `t`."""
    started = r.started_at if r.started_at is not None and r.started_at <= t else None
    ended = r.ended_at if r.ended_at is not None and r.ended_at <= t else None
    return replace(r, started_at=started, ended_at=ended)


def baselines(
    past: list[RunRecord],
    t: float,
    user: str,
    value: Callable[[RunRecord], float | None],
    when: Callable[[RunRecord], float | None],
) -> tuple[float | None, float | None]:
    """(last value, per-user mean) of `value` over the `past` records known by time `t` (`when`
    is the moment a record's value became known); the user's own records, else everyone's."""
    rows = [
        (w, v, r.user)
        for r in past
        if (w := when(r)) is not None and w <= t and (v := value(r)) is not None
    ]
    if not rows:
        return None, None
    mine = [row for row in rows if row[2] == user] or rows
    last = max(mine, key=lambda row: row[0])[1]
    return last, statistics.fmean(v for _, v, _ in mine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=6.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--refit-every", type=int, default=25)
    args = parser.parse_args()
    started = time.perf_counter()
    records = generate(args.days, args.seed)
    met: list[QueueState] = [
        queue_state(records, r.queued_at, slots=r.slots, user=r.user, capacity=CAPACITY)
        for r in records
    ]
    waits = [r.wait_seconds or 0.0 for r in records]
    print(
        f"history: {len(records)} allocations, {len({r.experiment_id for r in records})} "
        f"experiments, {len(HABITS)} users, {args.days:g} days; median run "
        f"{statistics.median(r.run_seconds or 0 for r in records):.0f} s, median wait "
        f"{statistics.median(waits):.0f} s, {sum(w > 0 for w in waits) / len(waits):.0%} waited"
    )
    errors: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    inside: dict[str, list[bool]] = defaultdict(list)
    predictor: Predictor | None = None
    for i, r in enumerate(records):
        t = r.queued_at
        past = records[:i]
        if i % args.refit_every == 0 and i >= 10:
            known = [known_at(p, t) for p in past]
            predictor = Predictor(known, capacity=CAPACITY, met=met[:i])
        run, wait = r.run_seconds or 0.0, r.wait_seconds or 0.0
        ended, began = (lambda p: p.ended_at), (lambda p: p.started_at)
        last, mean = baselines(past, t, r.user, lambda p: p.run_seconds, ended)
        last_w, mean_w = baselines(past, t, r.user, lambda p: p.wait_seconds, began)
        last_m, mean_m = baselines(past, t, r.user, lambda p: p.peak_memory, ended)
        query = replace(r, started_at=None, ended_at=None)
        est = predictor.trial_seconds(query) if predictor else None
        est_w = predictor.queue_wait(met[i]) if predictor else None
        est_m = predictor.peak_memory(query) if predictor else None
        if None in (est, est_w, est_m, last, mean, last_w, mean_w, last_m, mean_m):
            continue
        assert est and est_w and est_m and predictor and predictor.runtime
        runtime = errors["trial run time"]
        runtime["ours (ensemble)"].append(abs(est.value - run) / run)
        members = predictor.runtime.member_log_predict(predictor.features.vector(query))[0]
        for name, log_rate in zip(
            ("ours: kNN alone", "ours: boosting alone"), members, strict=True
        ):
            runtime[name].append(abs(math.exp(log_rate) * (r.length or 0) - run) / run)
        runtime["last value"].append(abs(float(last or 0) - run) / run)
        runtime["per-user mean"].append(abs(float(mean or 0) - run) / run)
        queue = errors["queue wait"]
        queue["ours (ensemble)"].append(abs(est_w.value - wait) / (wait + 60))
        queue["last value"].append(abs(float(last_w or 0) - wait) / (wait + 60))
        queue["per-user mean"].append(abs(float(mean_w or 0) - wait) / (wait + 60))
        memory = errors["peak memory"]
        peak = r.peak_memory or 1.0
        memory["ours (ensemble)"].append(abs(est_m.value - peak) / peak)
        memory["last value"].append(abs(float(last_m or 0) - peak) / peak)
        memory["per-user mean"].append(abs(float(mean_m or 0) - peak) / peak)
        inside["trial run time"].append(est.low <= run <= est.high)
        inside["queue wait"].append(est_w.low <= wait <= est_w.high)
        inside["peak memory"].append(est_m.low <= peak <= est_m.high)
    print(
        f"scored {len(inside['queue wait'])} allocations in {time.perf_counter() - started:.0f} s"
    )
    for target, by_method in errors.items():
        print(f"\n{target}: median absolute percentage error (lower is better)")
        for name, values in by_method.items():
            print(f"  {name:22s} {100 * statistics.median(values):6.1f}%")
        share = statistics.fmean(inside[target])
        print(f"  truth inside our stated 80% interval: {share:.0%}")


if __name__ == "__main__":
    main()
