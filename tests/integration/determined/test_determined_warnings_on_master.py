"""Ignored and translated Determined fields are shown at create: in the API's answer and by
`trainyard experiment create`, one line each."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from master_process import RunningMaster

from trainyard.client import Client

pytestmark = pytest.mark.slow

CONFIG = {
    "name": "warned",
    "entrypoint": "python3 -m determined.launch.torch_distributed python3 train.py",
    "bind_mounts": [{"host_path": "/data", "container_path": "/data"}],
    "environment": {"image": "determinedai/pytorch-ngc"},
    "searcher": {"name": "single", "metric": "x", "max_length": 10},
}
EXPECTED = [
    "bind_mounts: not supported, ignored",
    "entrypoint: determined.launch.torch_distributed dropped; Trainyard's launcher starts one "
    "process per slot (torchrun's variables)",
    "environment.image: not supported, ignored",
    "searcher.max_length: a bare number is read as {batches: 10}; write the unit",
]


def _model(tmp_path: Path) -> tuple[Path, Path]:
    model = tmp_path / "model"
    model.mkdir()
    (model / "train.py").write_text("print('never run: created paused')\n")
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(CONFIG))
    return config, model


def test_the_create_answer_lists_them(shared_master: RunningMaster, tmp_path: Path) -> None:
    config, model = _model(tmp_path)
    with Client(shared_master.url, shared_master.token) as client:
        exp = client.create_experiment(config, model, activate=False)
        client.kill_experiment(exp.id)
    assert exp.warnings == EXPECTED


def test_the_cli_prints_them(shared_master: RunningMaster, tmp_path: Path) -> None:
    config, model = _model(tmp_path)
    command = ["experiment", "create", str(config), str(model), "--paused"]
    done = subprocess.run(
        [sys.executable, "-m", "trainyard.cli", *command],
        env=shared_master.client_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line for line in lines if line.startswith("warning: ")] == [
        f"warning: {w}" for w in EXPECTED
    ]
    assert lines[-1].startswith("Created experiment ")
