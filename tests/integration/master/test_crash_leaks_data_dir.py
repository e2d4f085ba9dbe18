"""Everything of a master lives under its data dir, readable by its owner only.

`trainyard master up --data-dir X`, run as a user would (HOME elsewhere, no Trainyard
variables): the DB, checkpoints, logs and work directories go under X, nothing under
~/.trainyard, and X and its secrets are private.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from master_runner import experiment_yaml, wait_for, write_experiment

from trainyard.client import Client

pytestmark = pytest.mark.slow


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_master_up_keeps_everything_under_its_data_dir_and_private(tmp_path: Path) -> None:
    home, data_dir = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINYARD_")}
    env.update(HOME=str(home), TRAINYARD_CPU_SLOTS="1", PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "trainyard.cli", "master", "up", "--data-dir", str(data_dir)]
    log = (tmp_path / "master.log").open("wb")
    proc = subprocess.Popen([*cmd, "--port", "0"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url_file = data_dir / "master_url"
        wait_for("the master to listen", lambda: url_file.exists() and url_file.read_text())
        client = Client(
            url_file.read_text().strip(), (data_dir / "admin_token").read_text().strip()
        )
        config, model_dir = write_experiment(
            tmp_path, experiment_yaml({"name": "single", "max_length": {"batches": 2}}, {})
        )
        with client:
            exp = client.create_experiment(config, model_dir)
            assert client.wait_experiment(exp.id, interval=0.2, timeout=120).state == "COMPLETED"
            (ckpt,) = client.list_checkpoints(experiment_id=exp.id).items
        assert (data_dir / "checkpoints" / ckpt.uuid / "MANIFEST.json").is_file()
        assert list((data_dir / "logs" / "allocations").iterdir())
        assert not (home / ".trainyard").exists()
        assert _mode(data_dir) == 0o700
        for name in ("trainyard.db", "trainyard.db-wal", "trainyard.db-shm", "admin_token"):
            assert _mode(data_dir / name) == 0o600, name
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
