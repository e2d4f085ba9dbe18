"""Live progress of a running experiment: trials per state, rungs, best metric, a progress bar."""

from __future__ import annotations

import time
from collections import Counter

from rich.console import Group
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from trainyard.cli._common import console, fmt_metric
from trainyard.client import Client, Experiment, Trial

__all__ = ["follow_experiment", "render_status"]


def render_status(exp: Experiment, trials: list[Trial]) -> Table:
    """One table: state counts, how many trials reached each trained length, the best so far."""
    out = Table.grid(padding=(0, 2))
    states = ", ".join(f"{k} {v}" for k, v in sorted(exp.trial_counts.items())) or "no trials yet"
    out.add_row("[bold]trials[/bold]", states)
    reached = Counter(t.trained_length for t in trials if t.trained_length > 0)
    if reached:
        rungs = "  ".join(f"{length}: {n}" for length, n in sorted(reached.items()))
        out.add_row("[bold]rungs[/bold]", f"trials by furthest validated length  {rungs}")
    best = (
        f"{fmt_metric(exp.best_metric)} (trial {exp.best_trial_id})" if exp.best_trial_id else "-"
    )
    out.add_row("[bold]best[/bold]", f"{exp.searcher_metric} = {best}")
    return out


def follow_experiment(client: Client, experiment_id: int, *, interval: float = 1.0) -> Experiment:
    """Show live progress until the experiment ends; return its final state."""
    bar = Progress(
        TextColumn("[bold]experiment {task.fields[eid]}[/bold] {task.fields[state]}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
    )
    task = bar.add_task("search", total=1.0, eid=experiment_id, state="")
    with Live(console=console, refresh_per_second=4, transient=False) as live:
        while True:
            exp = client.get_experiment(experiment_id)
            trials = client.list_trials(experiment_id, limit=1000).items
            bar.update(
                task, completed=exp.progress if not exp.is_terminal else 1.0, state=exp.state
            )
            live.update(Group(bar, render_status(exp, trials)))
            if exp.is_terminal:
                break
            time.sleep(interval)
    if not console.is_terminal:
        console.print()  # a non-terminal Live leaves its last line open
    return exp
