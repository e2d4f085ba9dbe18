"""`python -m trainyard.demo`: preview a search, then simulate it on a synthetic learning curve.

Takes `examples/digits_cnn/adaptive.yaml` (or `examples/synthetic/adaptive.yaml` where the first
is missing, or the path given as the only argument), prints what the search will do per bracket
and rung, then plays it on 4 simulated slots against a learning-curve family with a known optimum
and prints what it found. Runs in seconds; nothing trains for real.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from trainyard.config import searcher_max_length
from trainyard.errors import TrainyardError
from trainyard.searcher._preview import SearchPreview, preview_search
from trainyard.searcher._sim_config import resolve_config
from trainyard.searcher._sim_synthetic import LearningCurveProblem
from trainyard.searcher._sim_types import SimulationResult
from trainyard.searcher._simulate import simulate

CANDIDATES = ("examples/digits_cnn/adaptive.yaml", "examples/synthetic/adaptive.yaml")
WORKERS = 4
SECONDS_PER_FULL_TRIAL = 3600.0
NOISE = 0.002


def find_config(root: Path) -> Path:
    """The first of `CANDIDATES` that exists under `root`."""
    for candidate in CANDIDATES:
        if (root / candidate).is_file():
            return root / candidate
    raise TrainyardError(f"none of {', '.join(CANDIDATES)} exists under {root}; run from the repo")


def preview_table(preview: SearchPreview) -> Table:
    """The preview as a Rich table, one row per rung."""
    table = Table(title=f"Search preview — {preview.method}")
    for name in ("bracket", "rung", f"length ({preview.unit})", "trials reaching", "stop here"):
        table.add_column(name, justify="right")
    for bracket in preview.brackets:
        for i, rung in enumerate(bracket.rungs):
            table.add_row(
                str(bracket.index) if i == 0 else "",
                str(i),
                f"{rung.length:,}",
                str(rung.trials_reaching),
                str(rung.trials_stopping),
            )
    table.caption = (
        f"{preview.total_trials} trials, {preview.total_length:,} {preview.unit} trained in total"
    )
    return table


def top_trials_table(result: SimulationResult, count: int = 5) -> Table:
    """The `count` trials with the best last metric, with their hyperparameters."""
    sign = 1.0 if result.smaller_is_better else -1.0
    done = [t for t in result.trials if t.last_metric is not None and not math.isnan(t.last_metric)]
    done.sort(key=lambda t: (sign * (t.last_metric or 0.0), t.request_id))
    table = Table(title=f"Top {count} trials")
    for name in ("trial", "metric", "length", "hyperparameters"):
        table.add_column(name, justify="left" if name == "hyperparameters" else "right")
    for trial in done[:count]:
        table.add_row(
            str(trial.request_id),
            f"{trial.last_metric:.4f}",
            f"{trial.length:,}",
            _format_hparams(trial.hparams),
        )
    return table


def _format_hparams(hparams: Mapping[str, Any]) -> str:
    parts = []
    for name, value in hparams.items():
        shown = f"{value:.3g}" if isinstance(value, float) else str(value)
        parts.append(f"{name}={shown}")
    return ", ".join(parts)


def run(config_path: Path, console: Console) -> SimulationResult:
    """Preview and simulate the search at `config_path`, printing both to `console`."""
    started = time.perf_counter()
    config = resolve_config(config_path)
    console.print(f"[bold]Config:[/bold] {config_path}")
    console.print(preview_table(preview_search(config)))

    max_length = searcher_max_length(config) or 1000
    problem = LearningCurveProblem.for_hyperparameters(
        config.hyperparameters,
        max_length=max_length,
        noise=NOISE,
        seconds_per_unit=SECONDS_PER_FULL_TRIAL / max_length,
    )
    smaller = bool(config.searcher.smaller_is_better)

    def objective(hparams: Mapping[str, Any], length: int) -> float:
        accuracy = problem.objective(hparams, length)
        return 1.0 - accuracy if smaller else accuracy

    result = simulate(config, objective, problem.cost, workers=WORKERS, seed=0)
    optimum = problem.best * (1.0 - math.exp(-20.0))
    known = 1.0 - optimum if smaller else optimum
    best = result.best_metric
    console.print(
        f"\n[bold]Simulation[/bold] on {WORKERS} slots, synthetic learning curves "
        f"(a full-length trial takes {SECONDS_PER_FULL_TRIAL / 3600:.0f} h of one slot)"
    )
    console.print(f"  best metric       {best:.4f}" if best is not None else "  best metric  none")
    console.print(
        f"  known optimum     {known:.4f} at {_format_hparams(problem.optimum())}"
        f" (metrics carry ±{NOISE} noise)"
    )
    limit = getattr(config.searcher, "max_concurrent_trials", None)
    if limit:
        console.print(f"  concurrency       at most {limit} trials at once (config)")
    console.print(f"  trials started    {len(result.trials)}")
    console.print(f"  utilization       {result.utilization:.1%}")
    console.print(f"  simulated time    {result.end_time / 3600:.1f} h")
    console.print(f"  length trained    {result.total_length:,}")
    console.print(top_trials_table(result))
    console.print(f"(demo ran in {time.perf_counter() - started:.2f} s of real time)")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    console = Console()
    try:
        path = Path(args[0]) if args else find_config(Path.cwd())
        run(path, console)
    except TrainyardError as err:
        console.print(f"[red]error:[/red] {err}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
