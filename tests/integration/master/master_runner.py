"""A real master process for runtime tests, plus the tiny Core API trial they run.

`RealMaster.start(data_dir)` runs `python -m trainyard.master.server` (the real app) on a free
port with SQLite under `data_dir`; `kill9()` kills it like a crash (its trials live on in their own
process groups); `start()` again on the same data dir recovers. `db()` opens the same SQLite file
so tests can check what the master stored.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from trainyard.client import Client
from trainyard.master.db import Database

START_TIMEOUT = 60.0

TRIAL_PY = """
import os, sys, time
import trainyard.core as core

def save(ctx, steps):
    if not ctx.distributed.is_chief:
        return
    with ctx.checkpoint.store_path({"steps_completed": steps}) as (path, _uuid):
        (path / "state.txt").write_text(str(steps))

with core.init() as ctx:
    hp = ctx.info.hparams
    x = float(hp.get("x", 0.5))
    steps = 0
    if ctx.info.latest_checkpoint:
        with ctx.checkpoint.restore_path(ctx.info.latest_checkpoint) as path:
            steps = int((path / "state.txt").read_text())
    print(f"start trial={ctx.info.trial_id} from={steps} slots={ctx.info.slots} "
          f"cuda={os.environ.get('CUDA_VISIBLE_DEVICES')}", flush=True)
    if hp.get("mode") == "crash":
        print("crashing on purpose", flush=True)
        sys.exit(3)
    if hp.get("mode") == "invalid":
        ctx.train.report_early_exit("invalid_hp")
        sys.exit(0)
    for op in ctx.searcher.operations():
        while steps < op.length:
            steps += 1
            time.sleep(float(hp.get("sleep", 0.0)))
            ctx.train.report_training_metrics(steps, {"loss": (x - 0.3) ** 2 + 1.0 / steps})
            if ctx.preempt.should_preempt():
                save(ctx, steps)
                print(f"preempted at {steps}", flush=True)
                sys.exit(0)
        metric = (x - 0.3) ** 2 + 1.0 / steps
        ctx.train.report_validation_metrics(steps, {"val_loss": metric})
        save(ctx, steps)
        op.report_completed(metric)
"""


def model_tarball() -> bytes:
    """The model directory (just train.py) as the gzip tarball the API takes."""
    data = TRIAL_PY.encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("train.py")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def experiment_yaml(searcher: dict[str, Any], hyperparameters: dict[str, Any], **extra: Any) -> str:
    config: dict[str, Any] = {
        "name": extra.pop("name", "runtime-test"),
        "entrypoint": "python3 train.py",
        "hyperparameters": hyperparameters,
        "searcher": {"metric": "val_loss", "smaller_is_better": True, **searcher},
        "max_restarts": extra.pop("max_restarts", 0),
        **extra,
    }
    return yaml.safe_dump(config)


@dataclass
class RealMaster:
    data_dir: Path
    slots: int = 2
    pools: str | None = None
    """`TRAINYARD_RESOURCE_POOLS` JSON; None: one CPU pool `default` with `slots` slots."""
    db_url: str | None = None
    """None: SQLite under `data_dir`."""
    url: str = ""
    token: str = ""
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> RealMaster:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "TRAINYARD_CHECKPOINT_ROOT": str(self.data_dir / "checkpoints"),
            "TRAINYARD_CPU_SLOTS": str(self.slots),
            "TRAINYARD_SCHEDULER_INTERVAL_SECONDS": "0.1",
            "PYTHONUNBUFFERED": "1",
        }
        for name in ("TRAINYARD_DB_URL", "TRAINYARD_RESOURCE_POOLS", "CUDA_VISIBLE_DEVICES"):
            env.pop(name, None)
        if self.pools is not None:
            env["TRAINYARD_RESOURCE_POOLS"] = self.pools
        url_file = self.data_dir / "master_url"
        url_file.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "trainyard.master.server", "--data-dir", str(self.data_dir)]
        cmd += ["--host", "127.0.0.1", "--port", "0"]
        if self.db_url:
            cmd += ["--db-url", self.db_url]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not (url_file.exists() and url_file.read_text().endswith("\n")):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                raise RuntimeError(f"master did not start:\n{self.log()}")
            time.sleep(0.05)
        self.url = url_file.read_text().strip()
        self.token = (self.data_dir / "admin_token").read_text().strip()
        return self

    @property
    def log_path(self) -> Path:
        return self.data_dir / "master.log"

    def log(self) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return text[-4000:]

    def client(self) -> Client:
        return Client(self.url, self.token)

    def db(self) -> Database:
        return Database(self.db_url or f"sqlite:///{self.data_dir / 'trainyard.db'}")

    def kill9(self) -> None:
        """Crash the master (SIGKILL to the server process only; trials keep running)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        proc = self.process
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def wait_for(what: str, check: Any, timeout: float = 60.0, master: RealMaster | None = None) -> Any:
    """Poll `check()` until it returns something truthy; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            tail = master.log() if master is not None else ""
            raise AssertionError(f"timed out waiting for {what}\n{tail}")
        time.sleep(0.1)


def write_experiment(root: Path, yaml_text: str) -> tuple[Path, Path]:
    """(config path, model dir) for `Client.create_experiment`."""
    model_dir = root / "model"
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / "train.py").write_text(TRIAL_PY)
    config = root / f"config-{time.monotonic_ns()}.yaml"
    config.write_text(yaml_text)
    return config, model_dir
