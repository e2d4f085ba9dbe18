"""Quick check of some of our methods against the stored peer runs, without rewriting results.

    python -m bench.hpo.compare [--seeds 3] [--workers 4 16] [--problems digits_mlp ...]
                                [--methods ours:default ours:asha_tpe ...] [--processes 1]

Runs only the named methods of ours (cheap: simulated, no peer), takes every peer run stored in
`results/traces.json.gz`, and prints per cell and method: mean time to target (95% CI), the share
of seeds that reached it, final regret (95% CI) and the ratio to the best peer's time. The
target of a cell is recomputed over the stored runs plus the new ones, as `run_all` does. Use it
to pick defaults; `make bench-hpo` is the full, reproducible run.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import multiprocessing
import time
from pathlib import Path
from typing import Any

from bench.hpo.report import best_peer
from bench.hpo.run_all import DEFAULT_PROBLEMS, PROBLEMS, RESULTS, load_problem, run_one
from bench.hpo.stats import summarise
from bench.hpo.trace import RunTrace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[4, 16])
    parser.add_argument("--problems", nargs="+", default=DEFAULT_PROBLEMS, choices=PROBLEMS)
    parser.add_argument("--methods", nargs="+", default=["ours:default"])
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--budget-trainings", type=float, default=6.0)
    parser.add_argument(
        "--rows",
        type=Path,
        help="keep each finished run in this JSON-lines file; runs already "
        "in it are not run again (so a cut-off invocation resumes)",
    )
    args = parser.parse_args()

    stored = json.loads(gzip.decompress((RESULTS / "traces.json.gz").read_bytes()))
    peers = [r for r in stored["runs"] if not r["method"].startswith("ours:")]
    kept: list[dict[str, Any]] = []
    if args.rows and args.rows.exists():
        kept = [json.loads(line) for line in args.rows.read_text().splitlines() if line]
    done = {(r["problem"], r["workers"], r["method"], r["seed"]) for r in kept}
    tasks = [
        (p, w, m, s, args.budget_trainings)
        for p in args.problems
        for w in args.workers
        for m in args.methods
        for s in range(args.seeds)
        if (p, w, m, s) not in done
    ]
    for p in args.problems:
        load_problem(p)
    started = time.perf_counter()
    rows = [r for r in kept if r["problem"] in args.problems and r["method"] in args.methods]
    rows = [r for r in rows if r["workers"] in args.workers and r["seed"] < args.seeds]
    with multiprocessing.get_context("fork").Pool(args.processes) as pool:
        for row in pool.imap_unordered(run_one, tasks):
            rows.append(row)
            if args.rows:
                with args.rows.open("a") as out:
                    out.write(json.dumps(row) + "\n")
    print(f"{len(tasks)} runs of ours in {time.perf_counter() - started:.0f} s")
    fields = {f.name for f in dataclasses.fields(RunTrace)}
    traces = [
        RunTrace(**{k: v for k, v in r.items() if k in fields})
        for r in peers + rows
        if r["problem"] in args.problems and r["workers"] in args.workers
    ]
    cells = summarise(traces, {p: load_problem(p).best for p in args.problems})
    for cell in cells:
        peer = best_peer(cell)
        if peer is None:
            continue
        print(
            f"\n{cell.problem} w={cell.workers}: best peer {peer.method} "
            f"{peer.time_to_target[0]:.4g} ± {peer.time_to_target[1]:.2g} "
            f"({peer.reached:.0%}, {peer.seeds} seeds), "
            f"regret {peer.final_regret[0]:.4f} ± {peer.final_regret[1]:.4f}"
        )
        for method in args.methods:
            s = cell.methods.get(method)
            if s is None:
                continue
            print(
                f"  {method:34s} {s.time_to_target[0]:9.4g} ± {s.time_to_target[1]:<8.2g}"
                f" ({s.reached:4.0%}, {s.seeds} seeds) ratio "
                f"{s.time_to_target[0] / peer.time_to_target[0]:5.2f}  regret "
                f"{s.final_regret[0]:.4f} ± {s.final_regret[1]:.4f}"
            )


if __name__ == "__main__":
    main()
