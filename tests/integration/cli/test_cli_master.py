"""`trainyard` as a user runs it: real subprocesses against a real master, and `trainyard run`
with its embedded master, end to end on a tiny Core-API experiment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from master_process import RunningMaster
from tiny_experiment import write_tiny_experiment
from typer.testing import CliRunner

from trainyard.cli.main import app

pytestmark = pytest.mark.slow
TRAINYARD = [sys.executable, "-m", "trainyard.cli"]


def _run(
    master: RunningMaster | None, *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = master.client_env() if master is not None else None
    return subprocess.run(
        [*TRAINYARD, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=180
    )


def _json(master: RunningMaster, *args: str) -> object:
    """A read command in-process (Typer's CliRunner); the socket to the master stays real."""
    env = {"TRAINYARD_MASTER": master.url, "TRAINYARD_TOKEN": master.token}
    done = CliRunner().invoke(app, [*args, "--json"], env=env)
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)


def test_create_wait_describe_and_json_reads(shared_master: RunningMaster, tmp_path: Path) -> None:
    config, model_dir = write_tiny_experiment(tmp_path)
    created = _json(shared_master, "experiment", "create", str(config), str(model_dir))
    assert isinstance(created, dict)
    exp_id = created["id"]
    waited = _run(shared_master, "experiment", "wait", str(exp_id), "--interval", "0.3")
    assert waited.returncode == 0, waited.stdout + waited.stderr
    assert f"Experiment {exp_id}: COMPLETED" in waited.stdout

    described = _json(shared_master, "experiment", "describe", str(exp_id))
    assert isinstance(described, dict)
    assert described["experiment"]["state"] == "COMPLETED"
    trial_ids = [t["id"] for t in described["trials"]]
    assert len(trial_ids) == 2

    env = {"TRAINYARD_MASTER": shared_master.url, "TRAINYARD_TOKEN": shared_master.token}
    human = CliRunner().invoke(app, ["experiment", "describe", str(exp_id)], env=env)
    assert human.exit_code == 0 and "Trials (2)" in human.stdout

    listed = _json(shared_master, "experiment", "list")
    assert isinstance(listed, dict) and exp_id in [e["id"] for e in listed["items"]]
    trials = _json(shared_master, "trial", "list", str(exp_id), "--sort", "best_metric")
    assert isinstance(trials, dict) and trials["items"][0]["hparams"]["lr"] == 0.1
    trial = _json(shared_master, "trial", "describe", str(trial_ids[0]))
    assert isinstance(trial, dict) and trial["validations"][-1]["steps"] == 4
    ckpts = _json(shared_master, "checkpoint", "list", "--trial", str(trial_ids[0]))
    assert isinstance(ckpts, dict) and ckpts["total"] >= 1
    cluster = _json(shared_master, "cluster")
    assert isinstance(cluster, dict) and cluster["pools"][0]["slots"] == 2

    logs = CliRunner().invoke(app, ["trial", "logs", str(trial_ids[0])], env=env)
    assert "tiny: validated at 4" in logs.stdout

    uuid = ckpts["items"][0]["uuid"]
    out = tmp_path / "downloaded"
    got = CliRunner().invoke(app, ["checkpoint", "download", uuid, "--output", str(out)], env=env)
    assert got.exit_code == 0, got.output
    assert (out / "state.txt").read_text() == "4"


def test_errors_are_one_line_and_non_zero(shared_master: RunningMaster) -> None:
    missing = _run(shared_master, "experiment", "describe", "999")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "error: experiment 999 does not exist"
    assert missing.stdout == ""
    bad_token = subprocess.run(
        [*TRAINYARD, "experiment", "list"],
        capture_output=True,
        text=True,
        env={**shared_master.client_env(), "TRAINYARD_TOKEN": "wrong"},
        timeout=60,
    )
    assert bad_token.returncode == 1
    assert bad_token.stderr.strip().startswith("error: unknown token")


def test_run_with_an_embedded_master_end_to_end(tmp_path: Path) -> None:
    config, model_dir = write_tiny_experiment(tmp_path, length=3)
    data_dir = tmp_path / "embedded"
    done = _run(None, "run", str(config), str(model_dir), "--data-dir", str(data_dir), "--json")
    log = (data_dir / "master.log").read_text() if (data_dir / "master.log").exists() else ""
    assert done.returncode == 0, done.stdout + done.stderr + log[-3000:]
    summary = json.loads(done.stdout)
    assert summary["state"] == "COMPLETED"
    assert summary["best_hparams"]["lr"] == 0.1
    assert summary["best_metric"] == pytest.approx(0.1 / 3)
    assert summary["best_checkpoint"]
    assert summary["ui"].startswith("http://127.0.0.1:")
    assert not (data_dir / "master_url").exists()  # the embedded master has stopped
