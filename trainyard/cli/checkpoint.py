"""`trainyard checkpoint ...`: list and download."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trainyard.cli._common import JSON_OPTION, console, fmt_time, get_client, print_json, table
from trainyard.cli.experiment import extract_checkpoint
from trainyard.errors import ConfigError

__all__ = ["app"]

app = typer.Typer(help="List and download checkpoints.", no_args_is_help=True)


@app.command("list")
def list_(
    experiment: int | None = typer.Option(None, "--experiment", "-e", help="Experiment id."),
    trial: int | None = typer.Option(None, "--trial", "-t", help="Trial id."),
    sort: str = typer.Option("-created_at", help="created_at, steps, metric (best first)."),
    limit: int = typer.Option(100, min=1, max=1000),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the checkpoints of an experiment or a trial."""
    if (experiment is None) == (trial is None):
        raise ConfigError("give exactly one of --experiment ID or --trial ID")
    page = get_client().list_checkpoints(
        experiment_id=experiment, trial_id=trial, sort=sort, limit=limit
    )
    if as_json:
        print_json(page)
        return
    rows = [
        [
            c.uuid,
            c.trial_id,
            c.steps,
            c.state,
            c.metrics or "-",
            c.size_bytes,
            fmt_time(c.created_at),
        ]
        for c in page.items
    ]
    table(
        f"Checkpoints ({len(page.items)} of {page.total})",
        ["UUID", "Trial", "Steps", "State", "Metrics", "Bytes", "Created"],
        rows,
    )


@app.command()
def download(
    uuid: str = typer.Argument(...),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Default: ./<uuid>.")
    ] = None,
) -> None:
    """Download a checkpoint's files into a directory."""
    target = extract_checkpoint(uuid, output or Path(uuid))
    console.print(f"Checkpoint {uuid} written to {target}")
