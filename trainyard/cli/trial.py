"""`trainyard trial ...`: list, describe, logs, kill."""

from __future__ import annotations

import typer

from trainyard.cli._common import (
    JSON_OPTION,
    console,
    fmt_metric,
    fmt_time,
    get_client,
    print_json,
    table,
)
from trainyard.cli.experiment import TRIAL_COLUMNS, print_logs, trial_rows

__all__ = ["app"]

app = typer.Typer(help="Inspect and control trials.", no_args_is_help=True)


@app.command("list")
def list_(
    experiment_id: int = typer.Argument(...),
    state_: str | None = typer.Option(None, "--state", help="Comma list, e.g. RUNNING,QUEUED."),
    sort: str = typer.Option("id", help="id, state, best_metric, latest_metric, trained_length."),
    limit: int = typer.Option(100, min=1, max=1000),
    offset: int = typer.Option(0, min=0),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the trials of an experiment."""
    page = get_client().list_trials(
        experiment_id, state=state_, sort=sort, limit=limit, offset=offset
    )
    if as_json:
        print_json(page)
        return
    title = f"Trials of experiment {experiment_id} ({len(page.items)} of {page.total})"
    rows = [
        [*row, _short(t.error)] for row, t in zip(trial_rows(page.items), page.items, strict=True)
    ]
    table(title, [*TRIAL_COLUMNS, "Error"], rows)


def _short(text: str | None, limit: int = 60) -> str:
    if not text:
        return "-"
    return text if len(text) <= limit else text[: limit - 3] + "..."


@app.command()
def describe(
    trial_id: int = typer.Argument(...),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show a trial, its latest validation metrics and its checkpoints."""
    client = get_client()
    trial = client.get_trial(trial_id)
    validations = client.trial_metrics(trial_id, group="validation", max_points=20)
    checkpoints = client.list_checkpoints(trial_id=trial_id, limit=20).items
    if as_json:
        print_json({"trial": trial, "validations": validations, "checkpoints": checkpoints})
        return
    console.print(f"[bold]Trial {trial.id}[/bold] of experiment {trial.experiment_id}")
    console.print(f"  state      {trial.state}   restarts {trial.restarts}")
    console.print(f"  trained    {trial.trained_length} / {trial.target_length or '-'}")
    console.print(
        f"  best       {fmt_metric(trial.best_metric)}   latest {fmt_metric(trial.latest_metric)}"
    )
    console.print(f"  hparams    {trial.hparams}")
    console.print(f"  started    {fmt_time(trial.started_at)}   ended {fmt_time(trial.ended_at)}")
    if trial.exit_reason:
        console.print(f"  exited     {trial.exit_reason}")
    if trial.error:
        console.print(f"  error      {trial.error}")
    rows = [
        [p.steps, ", ".join(f"{k}={fmt_metric(v)}" for k, v in p.metrics.items())]
        for p in validations
    ]
    table("Validations", ["Steps", "Metrics"], rows)
    ckpt_rows = [[c.uuid, c.steps, c.state, c.size_bytes] for c in checkpoints]
    table("Checkpoints", ["UUID", "Steps", "State", "Bytes"], ckpt_rows)


@app.command()
def logs(
    trial_id: int = typer.Argument(...),
    follow: bool = typer.Option(False, "--follow", "-f", help="Wait for new lines."),
    search: str | None = typer.Option(None, help="Only lines containing this."),
    rank: int | None = typer.Option(None, help="Only this rank."),
    stream: str | None = typer.Option(None, help="stdout or stderr."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Print a trial's logs."""
    lines = get_client().trial_logs(
        trial_id, follow=follow, search=search, rank=rank, stream=stream
    )
    print_logs(lines, as_json=as_json)


@app.command()
def kill(trial_id: int = typer.Argument(...)) -> None:
    """Kill one trial."""
    trial = get_client().kill_trial(trial_id)
    console.print(f"Trial {trial.id}: {trial.state}")
