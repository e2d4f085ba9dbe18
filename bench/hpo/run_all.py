"""Run the HPO benchmark and write `bench/hpo/results/*.md` and `*.png`.

    python -m bench.hpo.run_all [--seeds 10] [--workers 4 16] [--budget-trainings 6]
                                [--problems digits_mlp lcdb_letter ...] [--processes 2]
                                [--no-realtime] [--report-only] [--methods ours:asha ...]
                                [--merge]

Every (problem, workers, method, seed) run is independent; they are spread over `--processes`
processes. Raw traces go to `results/traces.json.gz`, so `--report-only` redraws tables and plots
without running anything; `--merge` runs only what `--methods` names and puts those runs in
place of the stored ones (same method, problem, workers and seed). The real wall-clock
comparison (`realtime.py`) runs last unless `--no-realtime`; its own results file is reused
when present and `--realtime-seconds 0`.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import gzip
import json
import multiprocessing
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.hpo import ours, peer_optuna, peer_synetune
from bench.hpo.problems import Problem, digits_problem, synthetic_problem
from bench.hpo.trace import RunTrace

RESULTS = Path(__file__).parent / "results"
PROBLEMS = ["digits_mlp", "lcdb_letter", "lcdb_adult", "lcdb_mnist_784", "synthetic"]
DEFAULT_PROBLEMS = ["digits_mlp", "lcdb_letter", "synthetic"]  # ~25 min on 2 shared cores
OUR_METHODS = [m for m in ours.METHODS if not m.startswith("pbt")]
Runner = Callable[..., RunTrace]


@functools.cache
def load_problem(name: str) -> Problem:
    """A problem by name (cached per process)."""
    if name == "digits_mlp":
        return digits_problem()
    if name == "synthetic":
        return synthetic_problem()
    from bench.hpo.lcdb_curves import DATASETS, lcdb_problem

    by_name = {f"lcdb_{v}": k for k, v in DATASETS.items()}
    if name not in by_name:
        raise SystemExit(f"unknown problem {name!r}; choose from {', '.join(PROBLEMS)}")
    return lcdb_problem(by_name[name])


def methods_for(problem: str) -> list[str]:
    """Every method that applies to `problem` ("family:name"); PBT only where hparams are numeric.

    PBT children continue from a parent's checkpoint with changed hyperparameters; a recorded
    table has no curve for that, so PBT runs on the synthetic problem only.
    """
    pbt = ["ours:pbt", "ours:pbt_tpe"] if problem == "synthetic" else []
    names = [f"ours:{m}" for m in OUR_METHODS] + pbt
    names += [f"optuna:{m}" for m in peer_optuna.METHODS]
    names += [f"synetune:{m}" for m in peer_synetune.METHODS]
    return names


def run_one(task: tuple[str, int, str, int, float]) -> dict[str, Any]:
    """Run one (problem, workers, method, seed, budget multiple) task; the trace as a dict."""
    problem_name, workers, method, seed, trainings = task
    problem = load_problem(problem_name)
    budget = trainings * problem.mean_full_cost
    family, name = method.split(":")
    runner: Runner = {
        "ours": ours.run_ours,
        "optuna": peer_optuna.run_optuna,
        "synetune": peer_synetune.run_synetune,
    }[family]
    started = time.perf_counter()
    trace = runner(name, problem, workers=workers, budget=budget, seed=seed)
    row = dataclasses.asdict(trace)
    row["wall_seconds"] = time.perf_counter() - started
    return row


def available(family: str) -> bool:
    """Whether a peer's package is installed (a missing peer is left out, and said so)."""
    module = {"ours": "trainyard", "optuna": "optuna", "synetune": "syne_tune"}[family]
    try:
        __import__(module)
    except ImportError:
        print(f"{module} is not installed: its methods are left out", file=sys.stderr)
        return False
    return True


def run_simulated(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every task, spread over `args.processes`; prints progress."""
    families = {f: available(f) for f in ("ours", "optuna", "synetune")}
    tasks = [
        (p, w, m, s, args.budget_trainings)
        for p in args.problems
        for w in args.workers
        for m in methods_for(p)
        if families[m.split(":")[0]] and (not args.methods or m in args.methods)
        for s in range(args.seeds)
    ]
    for p in args.problems:  # build caches (LCDB extraction) once, before forking
        load_problem(p)
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(args.processes) as pool:
        for row in pool.imap_unordered(run_one, tasks, chunksize=2):
            rows.append(row)
            if len(rows) % 50 == 0 or len(rows) == len(tasks):
                print(
                    f"{len(rows)}/{len(tasks)} runs, {time.perf_counter() - started:.0f} s",
                    flush=True,
                )
    return rows


def merged(stored: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """`stored` runs with `new` ones in place of those of the same (method, problem, workers,
    seed); the commands that made them are both kept."""

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        return row["method"], row["problem"], row["workers"], row["seed"]

    fresh = {key(row) for row in new["runs"]}
    runs = [row for row in stored["runs"] if key(row) not in fresh] + new["runs"]
    command = f"{stored['command']}; then {new['command']}"
    return {"command": command, "seconds": stored["seconds"] + new["seconds"], "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--workers", type=int, nargs="+", default=[4, 16])
    parser.add_argument(
        "--budget-trainings",
        type=float,
        default=6.0,
        help="budget = this x the mean time to train one config to max length",
    )
    parser.add_argument("--problems", nargs="+", default=DEFAULT_PROBLEMS, choices=PROBLEMS)
    parser.add_argument("--methods", nargs="*", default=[], help="e.g. ours:asha optuna:sha")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--merge", action="store_true", help="keep the stored runs of the rest")
    parser.add_argument("--no-realtime", action="store_true")
    parser.add_argument("--realtime-seconds", type=float, default=120.0)
    args = parser.parse_args()

    from bench.hpo.write_results import write_all

    RESULTS.mkdir(exist_ok=True)
    traces_file = RESULTS / "traces.json.gz"
    command = shlex.join(["python", "-m", "bench.hpo.run_all", *sys.argv[1:]])
    if args.report_only:
        payload = json.loads(gzip.decompress(traces_file.read_bytes()))
    else:
        started = time.perf_counter()
        rows = run_simulated(args)
        payload = {"command": command, "seconds": time.perf_counter() - started, "runs": rows}
        if args.merge and traces_file.exists():
            payload = merged(json.loads(gzip.decompress(traces_file.read_bytes())), payload)
        traces_file.write_bytes(gzip.compress(json.dumps(payload).encode()))
    if not args.no_realtime and not args.report_only:
        from bench.hpo.realtime import run_realtime

        run_realtime(RESULTS / "realtime.json", seconds=args.realtime_seconds)
    write_all(payload, load_problem, args)


if __name__ == "__main__":
    main()
