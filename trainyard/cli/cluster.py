"""`trainyard cluster` and `trainyard preview`."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated

import typer

from trainyard.cli._common import JSON_OPTION, console, fmt_time, get_client, print_json, table
from trainyard.config import load_config_file

__all__ = ["cluster", "preview"]


def cluster(as_json: bool = JSON_OPTION) -> None:
    """Pools and their slots, what runs where, and the queue with positions."""
    state = get_client().cluster()
    if as_json:
        print_json(state)
        return
    table(
        "Resource pools",
        ["Pool", "Type", "Slots", "Used"],
        [[p.name, p.slot_type, p.slots, p.used_slots] for p in state.pools],
    )
    rows = [
        [
            a.pool,
            ",".join(map(str, a.slots)) or "-",
            a.experiment_id,
            a.trial_id,
            a.state,
            a.priority,
            fmt_time(a.started_at),
        ]
        for a in state.allocations
    ]
    table("Running", ["Pool", "Slots", "Experiment", "Trial", "State", "Priority", "Since"], rows)
    queue = [
        [
            q.position,
            q.pool,
            q.experiment_id,
            q.trial_id,
            q.slots_needed,
            q.priority,
            fmt_time(q.queued_at),
        ]
        for q in state.queue
    ]
    table("Queue", ["#", "Pool", "Experiment", "Trial", "Slots", "Priority", "Queued"], queue)


def preview(
    config: Annotated[Path, typer.Argument(help="Experiment config (YAML).")],
    as_json: bool = JSON_OPTION,
) -> None:
    """What the search will do: trials and lengths per bracket and rung (no master needed)."""
    loaded = load_config_file(config)
    preview_search = importlib.import_module("trainyard.searcher").preview_search
    result = preview_search(loaded, allow_custom=True)  # the user's own process and code
    if as_json:
        print_json(result)
        return
    for warning in result.warnings:
        console.print(f"warning: {warning}", markup=False, highlight=False, soft_wrap=True)
    if result.script_decides_length:
        console.print(
            f"{result.method}: {result.total_trials} trials; each trains as long as its training "
            "script decides (the searcher has no max_length)",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return
    console.print(
        f"[bold]{result.method}[/bold]: {result.total_trials} trials, "
        f"{result.total_length} {result.unit} of training in total"
    )
    for bracket in result.brackets:
        rows = [[r.length, r.trials_reaching, r.trials_stopping] for r in bracket.rungs]
        table(
            f"Bracket {bracket.index}: {bracket.trials} trials, "
            f"{bracket.total_length} {result.unit}",
            [f"Length ({result.unit})", "Trials reaching", "Trials stopping"],
            rows,
        )
