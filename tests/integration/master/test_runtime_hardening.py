"""Runtime hardening on a real master and real trial processes (SQLite and PostgreSQL): no
silent data loss on a kill, restarts that count restarts, warm starts that never train from
scratch in place of their checkpoint, and a reason for every trial that fails or cannot start."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from master_runner import RealMaster, wait_for
from postgres_schema import fresh_postgres_database
from typer.testing import CliRunner

from trainyard.cli.main import app
from trainyard.errors import ConfigError
from trainyard.master.db import Checkpoint, Database, TrialEvent
from trainyard.master.db import trials as trial_repo
from trainyard.master.rm import LaunchSpec, LocalResourceManager
from trainyard.master.runtime import Master
from trainyard.master.settings import MasterSettings, ResourcePoolSettings

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
        metric = float(ctx.info.trial_id) if mode == "kill_when_preempted" else 1.0 / steps
        ctx.train.report_validation_metrics(steps, {"val_loss": metric})
        op.report_completed(metric)
        marker = here / f"killed-{ctx.info.trial_id}"
        if mode == "kill_after_report" and not marker.exists():
            marker.write_text("x")
            os.kill(os.getpid(), signal.SIGKILL)
        victim = mode == "kill_when_preempted" and not (here / "killed").exists()
        if victim:  # the first trial to run: wait to be preempted as idle
            while not ctx.preempt.should_preempt():
                time.sleep(0.05)
        with ctx.checkpoint.store_path({"steps_completed": steps}) as (path, _uuid):
            (path / "state.txt").write_text(str(steps))
            if victim:  # killed mid-checkpoint while being preempted
                (here / "killed").write_text(str(ctx.info.trial_id))
                os.kill(os.getpid(), signal.SIGKILL)
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


def test_a_trial_killed_mid_checkpoint_while_preempted_after_its_validation_loses_nothing(
    db_url: str | None, start_master: StartMaster, tmp_path: Path
) -> None:
    # ASHA on one slot: trial 1 validates at rung 0 and waits idle (nothing to promote yet); the
    # scheduler preempts it for trial 2; it is SIGKILLed inside its checkpoint (as the OOM killer
    # would). Trial 2 is better and promoted; trial 1 is closed later while it has no process.
    master = start_master(slots=1, db_url=db_url)
    model = write_model(tmp_path / "model")
    searcher = {
        "name": "async_halving",
        "metric": "val_loss",
        "smaller_is_better": False,
        "max_length": {"batches": 4},
        "max_trials": 2,
        "num_rungs": 2,
        "divisor": 2,
    }
    hparams = {"mode": "kill_when_preempted", "dir": str(tmp_path)}
    config = config_file(tmp_path, hparams, searcher=searcher)
    with master.client() as client:
        exp = client.create_experiment(config, model)
        final = client.wait_experiment(exp.id, interval=0.2, timeout=120)
        assert final.state == "COMPLETED", master.log()
        trials = client.list_trials(exp.id).items
    victim = int((tmp_path / "killed").read_text())
    for trial in trials:
        events, ckpts = stored(master, trial.id)
        history = [(e.kind, e.exit_code, e.reason) for e in events]
        assert trial.state == "COMPLETED", history
        by_uuid = {c.uuid: c.steps_completed for c in ckpts}
        # nothing COMPLETED without a checkpoint of its final length
        assert by_uuid.get(trial.latest_checkpoint or "") == trial.trained_length, history
        if trial.id == victim:
            assert ("exit", 137, "preempt") in history, history
            assert trial.trained_length == 2 and trial.restarts == 0, history
    assert {t.id for t in trials} > {victim}
    # the killed write is removed once its allocation's exit is handled (no master restart)
    staging = tmp_path / "master0" / "checkpoints" / ".staging"
    assert not staging.exists() or list(staging.iterdir()) == [], master.log()


TINY_TRIAL = Path(__file__).parents[2] / "unit" / "pytorch" / "tiny_trial.py"


def pytorch_config(root: Path, **extra: Any) -> tuple[Path, Path]:
    """(config, model dir) of one PyTorch trial (tests/unit/pytorch/tiny_trial.py), 4 batches."""
    model = root / "torch-model"
    model.mkdir(parents=True, exist_ok=True)
    shutil.copy(TINY_TRIAL, model / "tiny_trial.py")
    config = {
        "name": "warm",
        "entrypoint": "tiny_trial:TinyTrial",
        "hyperparameters": {"global_batch_size": 8},
        "searcher": {"name": "single", "metric": "validation_loss", "max_length": {"batches": 4}},
        "max_restarts": 1,
        **extra,
    }
    path = root / f"torch-config-{len(list(root.glob('torch-config-*')))}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path, model


def test_warm_starts_from_unknown_or_corrupt_checkpoints_fail_with_a_reason(
    start_master: StartMaster, tmp_path: Path
) -> None:
    # SQLite only: it pays for a PyTorch trial process, and the DB side (the one-line 400, the
    # trial's error) is the same code the PostgreSQL variants of the other tests run
    master = start_master()
    _, model = pytorch_config(tmp_path)
    with master.client() as client:
        # the source: a checkpoint of a (cheaper) Core API trial; the Trainer cannot use it once
        # it is damaged, whoever wrote it
        source_model = write_model(tmp_path / "core-model")
        first = client.create_experiment(config_file(tmp_path, {"mode": "ok"}), source_model)
        assert client.wait_experiment(first.id, interval=0.2, timeout=120).state == "COMPLETED"
        (source,) = client.list_trials(first.id).items
        uuid = source.latest_checkpoint
        assert uuid is not None

        unknown, _ = pytorch_config(tmp_path, searcher=_single(source_checkpoint_uuid="nope"))
        with pytest.raises(ConfigError) as refused:
            client.create_experiment(unknown, model)
        assert "searcher.source_checkpoint_uuid: checkpoint 'nope' does not exist" in str(
            refused.value
        )
        assert "\n" not in str(refused.value)
        no_trial, _ = pytorch_config(tmp_path, searcher=_single(source_trial_id=source.id + 99))
        with pytest.raises(ConfigError, match=r"source_trial_id: trial \d+ does not exist"):
            client.create_experiment(no_trial, model)
        before = client.list_experiments().total

        (master.data_dir / "checkpoints" / uuid / "state.txt").write_text("damaged!")
        corrupt, _ = pytorch_config(tmp_path, searcher=_single(source_checkpoint_uuid=uuid))
        warm = client.create_experiment(corrupt, model)
        assert client.list_experiments().total == before + 1  # the refused ones stored nothing
        client.wait_experiment(warm.id, interval=0.2, timeout=120)
        (trial,) = client.list_trials(warm.id).items
    assert trial.state == "ERRORED" and trial.exit_reason == "errored", master.log()
    assert trial.restarts == 0  # no restart can fix a checkpoint
    assert trial.error is not None and f"cannot restore checkpoint {uuid}" in trial.error
    assert "does not train from scratch" in trial.error
    _, ckpts = stored(master, trial.id)
    assert ckpts == []  # it never trained


def _single(**extra: Any) -> dict[str, Any]:
    return {
        "name": "single",
        "metric": "validation_loss",
        "max_length": {"batches": 4},
        **extra,
    }


def test_a_trial_that_cannot_start_shows_why(
    db_url: str | None, start_master: StartMaster, tmp_path: Path
) -> None:
    master = start_master(db_url=db_url)
    model = write_model(tmp_path / "model")
    config = config_file(tmp_path, {"mode": "ok"}, entrypoint="python3 missing.py", max_restarts=0)
    with master.client() as client:
        exp = client.create_experiment(config, model)
        client.wait_experiment(exp.id, interval=0.2, timeout=60)
        (trial,) = client.list_trials(exp.id).items
        assert client.get_trial(trial.id).error == trial.error
    env = {"TRAINYARD_MASTER": master.url, "TRAINYARD_TOKEN": master.token, "COLUMNS": "250"}
    described = CliRunner().invoke(app, ["trial", "describe", str(trial.id)], env=env)
    assert described.exit_code == 0 and "error      exited with code 2: " in described.stdout
    assert "missing.py" in "".join(described.stdout.split())
    listed = CliRunner().invoke(app, ["trial", "list", str(exp.id)], env=env)
    assert listed.exit_code == 0 and "exited with code 2: " in listed.stdout
    assert trial.state == "ERRORED" and trial.restarts == 0
    assert trial.error is not None and trial.error.startswith("exited with code 2: "), trial.error
    assert "missing.py" in trial.error and "no restarts left (max_restarts 0)" in trial.error


class _NoLaunch(LocalResourceManager):
    def launch(self, spec: LaunchSpec) -> int:
        raise OSError(f"cannot run {spec.entrypoint!r}: no such interpreter")


def test_a_launch_failure_is_the_trials_error(tmp_path: Path) -> None:
    settings = MasterSettings(
        data_dir=tmp_path,
        checkpoint_root=tmp_path / "checkpoints",
        resource_pools=[ResourcePoolSettings(name="default", slots=1)],
    )
    db = Database(f"sqlite:///{tmp_path / 'trainyard.db'}")
    db.migrate()
    try:
        master = Master(settings, db, rm=_NoLaunch())
        eid = master.create_experiment(
            config_file(tmp_path, {"mode": "ok"}, max_restarts=1).read_text(), b"", owner_id=None
        )
        for _ in range(2):  # the first run and its one restart
            master.tick()
        with db.session(read_only=True) as session:
            (trial,) = trial_repo.list_trials(session, eid)
            assert trial.state == "ERRORED" and trial.restarts == 1
            assert trial.error == (
                "could not start: cannot run 'python3 train.py': no such interpreter; "
                "no restarts left (max_restarts 1)"
            )
    finally:
        db.dispose()


def test_a_token_dies_with_its_allocation_and_metric_values_must_be_numbers(
    db_url: str | None, start_master: StartMaster, tmp_path: Path
) -> None:
    master = start_master(db_url=db_url)
    model = write_model(tmp_path / "model")
    config = config_file(tmp_path, {"mode": "token", "dir": str(tmp_path)})
    with master.client() as client:
        exp = client.create_experiment(config, model)
        (trial,) = wait_for("the trial", lambda: client.list_trials(exp.id).items, master=master)
        token_file = tmp_path / f"token-{trial.id}.json"
        wait_for("the trial's token", token_file.exists, master=master)
        creds = json.loads(token_file.read_text())
        tid, aid = trial.id, creds["allocation"]
        auth = {"Authorization": f"Bearer {creds['token']}"}
        with httpx.Client(base_url=f"{master.url}/api/v1", headers=auth, timeout=30) as api:
            for bad, kind in [
                ("high", "the string 'high'"),
                (True, "the boolean true"),
                ({"a": 1}, "an object"),
                ([1], "an array"),
                (None, "null"),
            ]:
                report = {"steps": 1, "metrics": {"val_loss": 0.5, "acc": bad}}
                answer = api.post(
                    f"/trials/{tid}/metrics", json={"group": "validation", "reports": [report]}
                )
                assert answer.status_code == 400, answer.text
                detail = answer.json()["detail"]
                assert f"metric 'acc' is {kind}" in detail and "\n" not in detail
            for bad, kind in [("0.5", "the string '0.5'"), (True, "the boolean true")]:
                body = {"length": 4, "metric": bad}
                answer = api.post(f"/trials/{tid}/searcher/completed_operation", json=body)
                assert answer.status_code == 400, answer.text
                assert f"the searcher metric is {kind}" in answer.json()["detail"]
            best = f"/trials/{tid}/searcher/experiment_best"
            assert api.get(best).json() == {"metric": None}  # no validation yet
            numbers = {"steps": 1, "metrics": {"val_loss": 5, "x": 0.5, "y": "NaN"}}
            for group in ("training", "validation"):
                body = {"group": group, "reports": [numbers]}
                good = api.post(f"/trials/{tid}/metrics", json=body)
                assert good.status_code == 200, good.text
            assert api.get(best).json() == {"metric": 5.0}  # what checkpoint_policy best beats

            (tmp_path / "go").write_text("")
            assert client.wait_experiment(exp.id, interval=0.2, timeout=60).state == "COMPLETED"
            before = client.get_trial(tid)
            stale_calls: list[tuple[str, str, Any]] = [
                ("GET", f"/allocations/{aid}/info", None),
                ("GET", f"/allocations/{aid}/preemption", None),
                ("GET", f"/trials/{tid}/searcher/operation", None),
                ("GET", f"/trials/{tid}/checkpoints", None),
                ("GET", f"/trials/{tid}/searcher/experiment_best", None),
                (
                    "POST",
                    f"/trials/{tid}/metrics",
                    {
                        "group": "validation",
                        "reports": [{"steps": 99, "metrics": {"val_loss": -1}}],
                    },
                ),
                ("POST", f"/trials/{tid}/checkpoints", {"uuid": "forged", "steps": 99}),
                (
                    "POST",
                    f"/trials/{tid}/searcher/completed_operation",
                    {"length": 9, "metric": -1},
                ),
                ("POST", f"/trials/{tid}/early_exit", {"reason": "errored"}),
                ("POST", f"/trials/{tid}/progress", {"progress": 0.5}),
                (
                    "POST",
                    f"/allocations/{aid}/logs",
                    {"lines": [{"timestamp": 1.0, "line": "forged"}]},
                ),
            ]
            for method, path, body in stale_calls:
                answer = api.request(method, path, json=body)
                assert answer.status_code == 401, (path, answer.text)
                assert answer.json()["detail"] == (
                    f"allocation {aid} has ended; its token no longer opens any route"
                )
        after = client.get_trial(tid)
        points = client.trial_metrics(tid, group="validation")
        logs = [line.line for line in client.trial_logs(tid)]
    assert after == before  # nothing changed: best, latest checkpoint, state, error
    assert after.latest_checkpoint is not None and after.best_metric == 0.25
    assert [p.steps for p in points] == [1, 4] and "forged" not in logs


def test_a_trial_no_pool_can_hold_any_more_shows_why(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'trainyard.db'}")
    db.migrate()

    def settings(slots: int) -> MasterSettings:
        pools = [ResourcePoolSettings(name="default", slots=slots)]
        return MasterSettings(
            data_dir=tmp_path, checkpoint_root=tmp_path / "ckpt", resource_pools=pools
        )

    try:
        text = config_file(tmp_path, {"mode": "ok"}, resources={"slots_per_trial": 2}).read_text()
        eid = Master(settings(2), db).create_experiment(text, b"", owner_id=None, activate=False)
        shrunk = Master(settings(1), db)  # the master came back with a smaller pool
        shrunk.activate_experiment(eid)
        shrunk.tick()
        with db.session(read_only=True) as session:
            (trial,) = trial_repo.list_trials(session, eid)
            assert trial.state == "ERRORED"
            assert trial.error is not None and trial.error.startswith("cannot be scheduled: ")
            assert "2 slots" in trial.error, trial.error
    finally:
        db.dispose()
