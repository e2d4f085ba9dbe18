"""A Determined-style PyTorchTrial (scripts/trial.py, ported by its import lines only) with
`Trainer.fit(max_length=...)`: locally (resume, callbacks, reducers, loading the trained trial
back) and on a real master."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from conftest import ported_model_dir
from master_process import RunningMaster

from trainyard.client import Client

pytestmark = pytest.mark.slow

CONFIG = {
    "name": "pytorch-trial",
    "entrypoint": "python3 trial.py",
    "hyperparameters": {"lr": 0.1, "global_batch_size": 8, "batches": 24},
    "searcher": {"name": "single", "metric": "validation_loss"},
    "max_restarts": 0,
}


def run_locally(model: Path, config: dict[str, object], run_dir: Path, ranks: int = 1) -> str:
    path = model / "local.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {**os.environ, "TRAINYARD_CONFIG": str(path), "TRAINYARD_RUN_DIR": str(run_dir)}
    env.pop("TRAINYARD_MASTER_URL", None)
    cmd = [sys.executable, "trial.py"]
    if ranks > 1:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(ranks)]
        cmd += ["trial.py"]
    done = subprocess.run(cmd, cwd=model, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def validations(run_dir: Path) -> list[dict[str, object]]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    return [row for row in rows if row["group"] == "validation"]


def test_locally_trains_resumes_loads_back_and_runs_on_two_ranks(tmp_path: Path) -> None:
    model = ported_model_dir(tmp_path, "trial.py")
    run_dir = tmp_path / "run"
    out = run_locally(model, CONFIG, run_dir)
    assert "validations=3" in out
    first = validations(run_dir)
    assert [v["steps"] for v in first] == [8, 16, 24]  # every epoch (8 batches of 8 of 64)
    assert {"validation_loss", "max_error", "batches", "epochs"} <= set(first[0]["metrics"])
    assert first[-1]["metrics"]["validation_loss"] < first[0]["metrics"]["validation_loss"]
    longer = {**CONFIG, "hyperparameters": {**CONFIG["hyperparameters"], "batches": 40}}
    out = run_locally(model, longer, run_dir)
    assert "validations=5" in out, "resumed with the callback's state"
    assert [v["steps"] for v in validations(run_dir)] == [8, 16, 24, 32, 40]

    checkpoints = [
        json.loads(line) for line in (run_dir / "checkpoints.jsonl").read_text().splitlines()
    ]
    newest = max(checkpoints, key=lambda c: c["steps"])
    path = run_dir / "checkpoints" / newest["uuid"]
    sys.path.insert(0, str(model))
    try:
        from trainyard.determined import pytorch

        trial = pytorch.load_trial_from_checkpoint_path(path)
    finally:
        sys.path.remove(str(model))
    x = torch.ones(1, 4)
    assert trial.model(x).shape == (1, 1)  # type: ignore[attr-defined]
    assert not trial.model.training  # type: ignore[attr-defined]

    # Two gloo ranks compute what one does: DDP averages the two halves of each global batch,
    # every validation record is seen once across ranks and the batches are averaged.
    shorter = {**CONFIG, "hyperparameters": {**CONFIG["hyperparameters"], "batches": 16}}
    out = run_locally(model, shorter, tmp_path / "two", ranks=2)
    assert out.count("validations=2") == 2, "both ranks ran both validations"
    two = validations(tmp_path / "two")
    assert [v["steps"] for v in two] == [8, 16]
    for a, b in zip(first[:2], two, strict=True):
        for name in ("validation_loss", "max_error"):
            assert b["metrics"][name] == pytest.approx(a["metrics"][name], rel=1e-5)


def test_on_a_master(shared_master: RunningMaster, tmp_path: Path) -> None:
    model = ported_model_dir(tmp_path, "trial.py")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(CONFIG))
    with Client(shared_master.url, shared_master.token) as client:
        exp = client.create_experiment(path, model)
        final = client.wait_experiment(exp.id, interval=0.2, timeout=180)
        (trial,) = client.list_trials(exp.id).items
        logs = [line.line for line in client.trial_logs(trial.id)]
    assert final.state == "COMPLETED", (trial, logs[-30:])
    assert trial.state == "COMPLETED" and trial.restarts == 0
    assert trial.latest_checkpoint is not None
    assert any("validations=3" in line for line in logs), logs[-20:]
    assert not [line for line in logs if "HTTP Request" in line]


def test_the_trial_runner_follows_0_37_searcher_operations(tmp_path: Path) -> None:
    # `determined.launch.torch_distributed --trial trial:RegressionTrial` is translated to this
    # runner; without max_length the Trainer trains to each operation's length (epochs here)
    model = ported_model_dir(tmp_path, "trial.py")
    config = {
        **CONFIG,
        "entrypoint": "python3 -m determined.launch.torch_distributed --trial "
        "trial:RegressionTrial",
        "searcher": {"name": "single", "metric": "validation_loss", "max_length": {"epochs": 2}},
        "min_validation_period": {"batches": 4},
    }
    path = model / "local.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {**os.environ, "TRAINYARD_CONFIG": str(path), "TRAINYARD_RUN_DIR": str(tmp_path / "r")}
    env.pop("TRAINYARD_MASTER_URL", None)
    from trainyard.config import load_experiment_config

    argv = load_experiment_config(path).entrypoint.split()
    assert argv == ["python3", "-m", "trainyard.determined.pytorch.run", "trial:RegressionTrial"]
    done = subprocess.run(
        [sys.executable, *argv[1:]], cwd=model, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert [v["steps"] for v in validations(tmp_path / "r")] == [4, 8, 12, 16]
    events = [
        json.loads(line) for line in (tmp_path / "r" / "events.jsonl").read_text().splitlines()
    ]
    completed = [e for e in events if e["event"] == "completed_operation"]
    assert [e["length"] for e in completed] == [2]  # one operation of 2 epochs (16 batches)
