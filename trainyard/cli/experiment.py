"""`trainyard experiment ...`: create, list, describe, lifecycle actions, logs, wait, download."""

from __future__ import annotations

import tarfile
import tempfile
from pathlib import Path
from typing import Annotated

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
from trainyard.cli._progress import follow_experiment
from trainyard.client import Experiment, Trial
from trainyard.config import load_config_text, read_config_file
from trainyard.errors import TrainyardError

__all__ = ["app", "print_logs", "trial_rows"]

app = typer.Typer(help="Create, inspect and control experiments.", no_args_is_help=True)


@app.command()
def create(
    config: Annotated[Path, typer.Argument(help="Experiment config (YAML).")],
    model_dir: Annotated[Path | None, typer.Argument(help="Model directory to upload.")] = None,
    paused: bool = typer.Option(False, "--paused", help="Create it PAUSED."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Show progress until it ends."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create an experiment from CONFIG and MODEL_DIR (files listed in .trainyardignore are
    left out)."""
    text = read_config_file(config)  # missing, a directory, empty, not UTF-8: one line here
    loaded = load_config_text(text, where=str(config))  # bad YAML names the file, first
    client = get_client()
    exp = client.create_experiment(config_text=text, model_dir=model_dir, activate=not paused)
    if as_json:
        print_json(exp)
    else:
        for warning in exp.warnings or loaded.warnings:  # ignored/translated fields, one a line
            console.print(f"warning: {warning}", markup=False, highlight=False, soft_wrap=True)
        console.print(f"Created experiment {exp.id} ({exp.name}), state {exp.state}")
    if follow:
        follow_experiment(client, exp.id)


@app.command("list")
def list_(
    state_: str | None = typer.Option(None, "--state", help="Comma list, e.g. ACTIVE,PAUSED."),
    all_: bool = typer.Option(False, "--all", "-a", help="Include archived experiments."),
    name: str | None = typer.Option(None, help="Only names containing this."),
    sort: str = typer.Option("-id", help="id, name, state, created_at, ended_at, progress."),
    limit: int = typer.Option(50, min=1, max=1000),
    offset: int = typer.Option(0, min=0),
    as_json: bool = JSON_OPTION,
) -> None:
    """List experiments, newest first."""
    page = get_client().list_experiments(
        state=state_,
        archived=None if all_ else False,
        name=name,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    if as_json:
        print_json(page)
        return
    rows = [
        [
            e.id,
            e.name,
            e.state + (" (archived)" if e.archived else ""),
            e.searcher_name,
            f"{e.progress:.0%}",
            sum(e.trial_counts.values()),
            fmt_metric(e.best_metric),
            e.owner,
            fmt_time(e.created_at),
        ]
        for e in page.items
    ]
    cols = ["ID", "Name", "State", "Searcher", "Progress", "Trials", "Best", "Owner", "Created"]
    table(f"Experiments ({len(page.items)} of {page.total})", cols, rows)


def trial_rows(trials: list[Trial]) -> list[list[object]]:
    return [
        [
            t.id,
            t.state,
            f"{t.trained_length}/{t.target_length if t.target_length is not None else '-'}",
            fmt_metric(t.best_metric),
            fmt_metric(t.latest_metric),
            t.restarts,
            t.latest_checkpoint or "-",
            _hparams(t),
        ]
        for t in trials
    ]


TRIAL_COLUMNS = ["ID", "State", "Trained", "Best", "Latest", "Restarts", "Checkpoint", "Hparams"]


def _hparams(trial: Trial) -> str:
    text = ", ".join(f"{k}={v}" for k, v in trial.hparams.items())
    return text if len(text) <= 60 else text[:57] + "..."


@app.command()
def describe(
    experiment_id: int = typer.Argument(...),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show an experiment, its trials and its best trial."""
    client = get_client()
    exp = client.get_experiment(experiment_id)
    trials = client.list_trials(experiment_id, limit=1000)
    if as_json:
        print_json({"experiment": exp, "trials": trials.items})
        return
    _print_experiment(exp)
    table(f"Trials ({trials.total})", TRIAL_COLUMNS, trial_rows(trials.items))


def _print_experiment(exp: Experiment) -> None:
    counts = ", ".join(f"{k} {v}" for k, v in sorted(exp.trial_counts.items())) or "none"
    direction = "smaller" if exp.smaller_is_better else "larger"
    console.print(f"[bold]Experiment {exp.id}[/bold]: {exp.name}")
    console.print(f"  state     {exp.state}{' (archived)' if exp.archived else ''}")
    console.print(
        f"  searcher  {exp.searcher_name} on {exp.searcher_metric} ({direction} is better)"
    )
    console.print(
        f"  progress  {exp.progress:.0%}   priority {exp.priority}   pool {exp.resource_pool}"
    )
    console.print(f"  trials    {counts}")
    console.print(f"  best      trial {exp.best_trial_id or '-'}: {fmt_metric(exp.best_metric)}")
    console.print(f"  created   {fmt_time(exp.created_at)}   ended {fmt_time(exp.ended_at)}")


def _action(name: str, help_text: str) -> None:
    def command(
        experiment_id: int = typer.Argument(...),
        as_json: bool = JSON_OPTION,
    ) -> None:
        exp = get_client().experiment_action(experiment_id, name)
        if as_json:
            print_json(exp)
        else:
            console.print(
                f"Experiment {exp.id}: {exp.state}{' (archived)' if exp.archived else ''}"
            )

    command.__doc__ = help_text
    app.command(name)(command)


_action("pause", "Pause: every trial checkpoints and frees its slots.")
_action("activate", "Activate a paused experiment.")
_action("cancel", "Cancel: stop gracefully and keep results.")
_action("kill", "Kill every trial now.")
_action("archive", "Hide an ended experiment from default listings.")
_action("unarchive", "Show an archived experiment again.")


@app.command()
def delete(
    experiment_id: int = typer.Argument(...),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete an ended experiment with its checkpoints."""
    if not yes:
        typer.confirm(f"Delete experiment {experiment_id} and all its checkpoints?", abort=True)
    exp = get_client().delete_experiment(experiment_id)
    console.print(f"Experiment {exp.id}: {exp.state}")


@app.command()
def fork(
    experiment_id: int = typer.Argument(...),
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Edited config (YAML).")
    ] = None,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a new experiment from an old one's model definition (and an edited config)."""
    exp = get_client().fork_experiment(experiment_id, config)
    if as_json:
        print_json(exp)
    else:
        console.print(f"Created experiment {exp.id} (forked from {experiment_id})")


@app.command("set-priority")
def set_priority(
    experiment_id: int = typer.Argument(...),
    priority: int = typer.Argument(..., min=1, max=99, help="1..99, lower runs first."),
) -> None:
    """Change an experiment's scheduling priority."""
    exp = get_client().set_priority(experiment_id, priority)
    console.print(f"Experiment {exp.id}: priority {exp.priority}")


@app.command()
def logs(
    experiment_id: int = typer.Argument(...),
    follow: bool = typer.Option(False, "--follow", "-f", help="Wait for new lines."),
    search: str | None = typer.Option(None, help="Only lines containing this."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Print the logs of every trial of an experiment."""
    lines = get_client().experiment_logs(experiment_id, follow=follow, search=search)
    print_logs(lines, as_json=as_json)


def print_logs(lines: object, *, as_json: bool) -> None:
    from trainyard.client import LogLine

    for line in lines:  # type: ignore[attr-defined]  # an iterator of LogLine
        assert isinstance(line, LogLine)
        if as_json:
            print_json(line)
        else:
            rank = "" if line.rank is None else f"[rank={line.rank}] "
            typer.echo(f"[trial {line.trial_id}] {rank}{line.line}")


@app.command()
def wait(
    experiment_id: int = typer.Argument(...),
    timeout: float | None = typer.Option(None, help="Give up after this many seconds."),
    interval: float = typer.Option(1.0, help="Seconds between polls."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Wait until the experiment ends; exits 1 unless it COMPLETED."""
    exp = get_client().wait_experiment(experiment_id, interval=interval, timeout=timeout)
    if as_json:
        print_json(exp)
    else:
        console.print(f"Experiment {exp.id}: {exp.state}")
    if exp.state != "COMPLETED":
        raise typer.Exit(1)


@app.command()
def download(
    experiment_id: int = typer.Argument(...),
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory to write to.")] = Path(
        "."
    ),
    top: int = typer.Option(1, min=1, help="How many of the best checkpoints."),
    model_def: bool = typer.Option(False, "--model-def", help="The model definition instead."),
) -> None:
    """Download the experiment's best checkpoints (or its model definition) into OUTPUT."""
    client = get_client()
    if model_def:
        dest = client.download_model_def(
            experiment_id, output / f"experiment-{experiment_id}.tar.gz"
        )
        console.print(f"Model definition written to {dest}")
        return
    page = client.list_checkpoints(experiment_id=experiment_id, sort="metric", limit=top)
    if not page.items:
        raise TrainyardError(f"experiment {experiment_id} has no checkpoints yet")
    for ckpt in page.items:
        target = extract_checkpoint(ckpt.uuid, output / ckpt.uuid)
        console.print(f"Checkpoint {ckpt.uuid} (trial {ckpt.trial_id}) written to {target}")


def extract_checkpoint(uuid: str, target: Path) -> Path:
    """Download checkpoint `uuid` and unpack its files into `target`."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = get_client().download_checkpoint(uuid, Path(tmp) / "ckpt.tar.gz")
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(target, filter="data")
    return target
