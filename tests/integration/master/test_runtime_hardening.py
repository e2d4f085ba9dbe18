"""Runtime hardening on a real master and real trial processes (SQLite and PostgreSQL): no
silent data loss on a kill, restarts that count restarts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from master_runner import RealMaster
from postgres_schema import fresh_postgres_database

from trainyard.master.db import Checkpoint, TrialEvent
from trainyard.master.db import trials as trial_repo

pytestmark = pytest.mark.slow
StartMaster = Callable[..., RealMaster]

# The trial: its behaviour is picked by hyperparameters. `kill_after_report`: on its first run
# (no marker file in `hp.dir`) SIGKILL itself after its last validation reached the searcher and
# before that checkpoint is written. `token`: write its allocation id and token to
# `hp.dir/token-<trial>.json`, then wait for `hp.dir/go`. `fail`: exit 3 at once.
TRIAL_PY = """
import json, os, signal, sys, time
from pathlib import Path
import trainyard.core as core

with core.init() as ctx:
    hp = ctx.info.hparams
    mode = hp.get("mode", "")
    here = Path(hp.get("dir", "."))
    steps = 0
    if ctx.info.latest_checkpoint:
        with ctx.checkpoint.restore_path(ctx.info.latest_checkpoint) as path:
            steps = int((path / "state.txt").read_text())
    print(f"start from={steps}", flush=True)
    if mode == "fail":
        sys.exit(3)
    if mode == "token":
        token = {"allocation": os.environ["TRAINYARD_ALLOCATION_ID"],
                 "token": os.environ["TRAINYARD_ALLOCATION_TOKEN"]}
        (here / f"token-{ctx.info.trial_id}.json").write_text(json.dumps(token))
        while not (here / "go").exists():
            time.sleep(0.05)
    for op in ctx.searcher.operations():
        while steps < op.length:
            steps += 1
            ctx.train.report_training_metrics(steps, {"loss": 1.0 / steps})
        metric = 1.0 / steps
        ctx.train.report_validation_metrics(steps, {"val_loss": metric})
        op.report_completed(metric)
        marker = here / f"killed-{ctx.info.trial_id}"
        if mode == "kill_after_report" and not marker.exists():
            marker.write_text("x")
            os.kill(os.getpid(), signal.SIGKILL)
        with ctx.checkpoint.store_path({"steps_completed": steps}) as (path, _uuid):
            (path / "state.txt").write_text(str(steps))
"""


def write_model(model_dir: Path) -> Path:
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / "train.py").write_text(TRIAL_PY)
    return model_dir


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None (SQLite) or a PostgreSQL database of the test's own (request before start_master)."""
    if request.param == "sqlite":
        yield None
        return
    with fresh_postgres_database("trainyard_hardening") as url:
        yield url


def config_file(root: Path, hparams: dict[str, Any], **extra: Any) -> Path:
    config = {
        "name": "hardening",
        "entrypoint": "python3 train.py",
        "hyperparameters": hparams,
        "searcher": {
            "name": "single",
            "metric": "val_loss",
            "smaller_is_better": True,
            "max_length": {"batches": 4},
        },
        "max_restarts": 1,
        **extra,
    }
    path = root / f"config-{len(list(root.glob('config-*')))}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def stored(master: RealMaster, trial_id: int) -> tuple[list[TrialEvent], list[Checkpoint]]:
    db = master.db()
    try:
        with db.session(read_only=True) as session:
            events = trial_repo.list_events(session, trial_id)
            ckpts = session.query(Checkpoint).filter(Checkpoint.trial_id == trial_id).all()
            return events, ckpts
    finally:
        db.dispose()


def test_a_trial_killed_after_its_last_validation_rewrites_its_checkpoint_before_completing(
    db_url: str | None, start_master: StartMaster, tmp_path: Path
) -> None:
    master = start_master(db_url=db_url)
    model = write_model(tmp_path / "model")
    config = config_file(tmp_path, {"mode": "kill_after_report", "dir": str(tmp_path)})
    with master.client() as client:
        exp = client.create_experiment(config, model)
        final = client.wait_experiment(exp.id, interval=0.2, timeout=120)
        assert final.state == "COMPLETED", master.log()
        (trial,) = client.list_trials(exp.id).items
    assert (tmp_path / f"killed-{trial.id}").exists()  # it was killed once, before its checkpoint
    assert trial.state == "COMPLETED" and trial.restarts == 1
    events, ckpts = stored(master, trial.id)
    assert [c.steps_completed for c in ckpts] == [4]
    assert trial.latest_checkpoint == ckpts[0].uuid
    (restart,) = [e for e in events if e.kind == "restart"]
    assert "SIGKILL" in restart.reason and "final checkpoint" in restart.reason
