"""`trainyard run CONFIG MODEL_DIR`: one command runs a whole search, on an embedded master
unless `--master URL` / TRAINYARD_MASTER names one."""

from __future__ import annotations

import os
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any

import typer

from trainyard.cli._common import console, fmt_metric, print_json, state
from trainyard.cli._embedded import DEFAULT_DATA_DIR, EmbeddedMaster
from trainyard.cli._progress import follow_experiment
from trainyard.client import Client
from trainyard.config import load_config_file

__all__ = ["run", "run_experiment"]


def run_experiment(
    client: Client, config: Path, model_dir: Path | None, *, quiet: bool = False
) -> dict[str, Any]:
    """Create the experiment, follow it to the end, and return a summary (best trial, its
    checkpoint, the searcher metric)."""
    exp = client.create_experiment(config, model_dir)
    if not quiet:
        console.print(f"Created experiment {exp.id} ({exp.name}) on {client.master_url}")
        final = follow_experiment(client, exp.id)
    else:
        final = client.wait_experiment(exp.id, interval=0.5)
    best = client.list_trials(exp.id, sort="best_metric", limit=1).items
    best_trial = best[0] if best and best[0].best_metric is not None else None
    checkpoint = None
    if best_trial is not None:
        ckpts = client.list_checkpoints(trial_id=best_trial.id, sort="metric", limit=1).items
        checkpoint = ckpts[0].uuid if ckpts else best_trial.latest_checkpoint
    return {
        "experiment_id": final.id,
        "state": final.state,
        "searcher_metric": final.searcher_metric,
        "best_trial_id": None if best_trial is None else best_trial.id,
        "best_metric": None if best_trial is None else best_trial.best_metric,
        "best_hparams": None if best_trial is None else best_trial.hparams,
        "best_checkpoint": checkpoint,
        "ui": f"{client.master_url}/ui/experiments/{final.id}",
    }


def run(
    config: Annotated[Path, typer.Argument(help="Experiment config (YAML).")],
    model_dir: Annotated[Path | None, typer.Argument(help="Model directory to upload.")] = None,
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Embedded master's data (DB, checkpoints, logs).")
    ] = DEFAULT_DATA_DIR,
    cpu_slots: int | None = typer.Option(None, help="CPU slots of the embedded master."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Run an experiment to the end and show live progress; exits 1 unless it COMPLETED."""
    load_config_file(config)  # a bad config fails here, before a master is started
    master_url = state.master or os.environ.get("TRAINYARD_MASTER")
    with ExitStack() as stack:
        if master_url:
            client = stack.enter_context(Client.from_env(master_url))
            embedded = None
        else:
            embedded = stack.enter_context(EmbeddedMaster(data_dir, cpu_slots=cpu_slots))
            client = embedded.client
        summary = run_experiment(client, config, model_dir, quiet=as_json)
    if as_json:
        print_json(summary)
    else:
        _print_summary(summary, embedded)
    if summary["state"] != "COMPLETED":
        raise typer.Exit(1)


def _print_summary(summary: dict[str, Any], embedded: EmbeddedMaster | None) -> None:
    console.print(f"Experiment {summary['experiment_id']} {summary['state']}")
    if summary["best_trial_id"] is not None:
        console.print(
            f"Best trial {summary['best_trial_id']}: {summary['searcher_metric']} = "
            f"{fmt_metric(summary['best_metric'])}  hparams {summary['best_hparams']}"
        )
        console.print(f"Checkpoint: {summary['best_checkpoint'] or '-'}")
    ui = summary["ui"]
    if embedded is not None:
        console.print(
            f"UI: {ui} (the embedded master has stopped; `trainyard master up --data-dir "
            f"{embedded.data_dir}` serves it again)"
        )
    else:
        console.print(f"UI: {ui}")
