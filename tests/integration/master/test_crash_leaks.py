"""Nothing leaks after a master crash, and deleting an experiment removes everything it wrote.

A real master (subprocess, SQLite or PostgreSQL) and real trial processes. The trial below checks
in with marker files so the test can kill the master at a known point and let the trial write
checkpoints and log lines while no master is there.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from master_runner import RealMaster, experiment_yaml, wait_for
from postgres_schema import fresh_postgres_database
from sqlalchemy import select

from trainyard.master.db import Allocation, Checkpoint, LogLine, Trial

pytestmark = pytest.mark.slow
StartMaster = Callable[..., RealMaster]

TRIAL_PY = """
import json, os, sys, time
from pathlib import Path
import trainyard.core as core

MARKS = Path(os.environ["LEAK_MARKS"])
HOLD = os.environ.get("LEAK_HOLD") == "1"

def mark(name):
    (MARKS / name).write_text(str(os.getpid()))

def tensorboard(ctx):
    # Where the PyTorch trainer writes its event files.
    from trainyard.pytorch._tensorboard import tensorboard_dir
    path = tensorboard_dir(ctx.info.trial_id, None, ctx.info.checkpoint_storage)
    path.mkdir(parents=True, exist_ok=True)
    (path / "events.out.tfevents.0").write_text("x")

def raw_checkpoint(ctx, steps):
    # A checkpoint written straight to storage; its registration never reached a master.
    with ctx.checkpoint.storage.store_path() as (path, uuid):
        (path / "state.txt").write_text(str(steps))
        (path / "metadata.json").write_text(json.dumps({"steps_completed": steps}))
    return uuid

with core.init() as ctx:
    steps = 0
    if ctx.info.latest_checkpoint:
        with ctx.checkpoint.restore_path(ctx.info.latest_checkpoint) as path:
            steps = int((path / "state.txt").read_text())
    print(f"start from={steps} ckpt={ctx.info.latest_checkpoint}", flush=True)
    tensorboard(ctx)
    for op in ctx.searcher.operations():
        while steps < op.length:
            steps += 1
            ctx.train.report_training_metrics(steps, {"loss": 1.0 / steps})
            if HOLD and steps == 3 and not (MARKS / "go").exists():
                with ctx.checkpoint.store_path({"steps_completed": steps}) as (path, _):
                    (path / "state.txt").write_text(str(steps))
                for i in range(5):
                    print(f"before crash {i}", flush=True)
                mark("ready")
                while not (MARKS / "go").exists():
                    time.sleep(0.05)
                steps += 1
                ctx.train.report_training_metrics(steps, {"loss": 1.0 / steps})
                covered = raw_checkpoint(ctx, 3)
                uncovered = raw_checkpoint(ctx, steps + 10)
                (MARKS / "uuids.json").write_text(json.dumps([covered, uncovered]))
                for i in range(20):
                    print(f"while down {i}", flush=True)
                with ctx.checkpoint.storage.store_path() as (path, _):
                    (path / "half.bin").write_bytes(b"0" * 1000)
                    mark("mid_write")
                    time.sleep(600)
        ctx.train.report_validation_metrics(steps, {"val_loss": 1.0 / steps})
        with ctx.checkpoint.store_path({"steps_completed": steps}) as (path, _):
            (path / "state.txt").write_text(str(steps))
        op.report_completed(1.0 / steps)
    print("done", flush=True)
"""


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield None
        return
    with fresh_postgres_database("trainyard_leaks") as url:
        yield url


def _create(master: RealMaster, root: Path, name: str, marks: Path, *, hold: bool) -> int:
    model_dir = root / f"model-{name}"
    model_dir.mkdir(parents=True)
    (model_dir / "train.py").write_text(TRIAL_PY)
    env = {"LEAK_MARKS": str(marks), "LEAK_HOLD": "1" if hold else "0"}
    text = experiment_yaml(
        {"name": "single", "max_length": {"batches": 6}},
        {},
        name=name,
        max_restarts=3,
        environment={"environment_variables": env},
    )
    config = root / f"{name}.yaml"
    config.write_text(text)
    with master.client() as client:
        return client.create_experiment(config, model_dir).id


def _files_of(master: RealMaster, experiment_id: int) -> dict[str, list[Path]]:
    """The on-disk things an experiment owns, per kind, read from the DB."""
    db = master.db()
    try:
        with db.session(read_only=True) as session:
            trials = list(
                session.scalars(select(Trial.id).where(Trial.experiment_id == experiment_id))
            )
            allocations = list(
                session.scalars(select(Allocation.id).where(Allocation.trial_id.in_(trials)))
            )
            uuids = list(
                session.scalars(
                    select(Checkpoint.uuid).where(Checkpoint.experiment_id == experiment_id)
                )
            )
    finally:
        db.dispose()
    root = master.data_dir / "checkpoints"
    spool = master.data_dir / "logs" / "allocations"
    return {
        "checkpoints": [root / u for u in uuids],
        "tensorboard": [root / "tensorboard" / f"trial_{t}" for t in trials],
        # The raw output; the numbered spool (`.jsonl`) goes once stored after the exit.
        "logs": [spool / f"{a}.log" for a in allocations],
        "work": [master.data_dir / "work" / str(experiment_id)],
    }


def _log_rows(master: RealMaster, experiment_id: int) -> list[str]:
    db = master.db()
    try:
        with db.session(read_only=True) as session:
            trials = select(Trial.id).where(Trial.experiment_id == experiment_id)
            return list(session.scalars(select(LogLine.line).where(LogLine.trial_id.in_(trials))))
    finally:
        db.dispose()


def test_deleting_an_experiment_removes_its_files_and_logs_and_no_one_elses(
    db_url: str | None, start_master: StartMaster, tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    master = start_master(slots=2, data_dir=tmp_path / "master", db_url=db_url)
    kept = _create(master, tmp_path, "kept", marks, hold=False)
    doomed = _create(master, tmp_path, "doomed", marks, hold=False)
    with master.client() as client:
        for eid in (kept, doomed):
            assert client.wait_experiment(eid, interval=0.2, timeout=120).state == "COMPLETED"
    doomed_files, kept_files = _files_of(master, doomed), _files_of(master, kept)
    for kind in ("checkpoints", "tensorboard", "logs"):
        assert doomed_files[kind] and all(p.exists() for p in doomed_files[kind]), kind
    assert _log_rows(master, doomed)
    with master.client() as client:
        client.delete_experiment(doomed)

    def rows_gone() -> bool:
        with master.client() as client:
            return doomed not in [e.id for e in client.list_experiments(limit=1000).items]

    wait_for("the experiment's rows to be gone", rows_gone, master=master)
    for kind, paths in doomed_files.items():
        assert not [p for p in paths if p.exists()], kind
    spool = master.data_dir / "logs" / "allocations"
    assert not [p for p in doomed_files["logs"] if list(spool.glob(f"{p.stem}.*"))]
    assert _log_rows(master, doomed) == []
    for kind, paths in kept_files.items():
        if kind != "work":
            assert paths and all(p.exists() for p in paths), kind
    assert "start from=0 ckpt=None" in _log_rows(master, kept)


def test_checkpoints_logs_and_work_dirs_of_a_crash_are_recovered_or_removed(
    db_url: str | None, start_master: StartMaster, tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    data_dir = tmp_path / "master"
    master = start_master(slots=2, data_dir=data_dir, db_url=db_url)
    eid = _create(master, tmp_path, "crashy", marks, hold=True)
    wait_for("the trial to check in", lambda: (marks / "ready").exists(), 90, master)

    def step_3_stored(master: RealMaster) -> bool:
        db = master.db()
        try:
            with db.session(read_only=True) as session:
                return bool(session.scalar(select(Trial.total_batches)) == 3)
        finally:
            db.dispose()

    wait_for("step 3 to be stored", lambda: step_3_stored(master), 60, master)
    time.sleep(1.5)  # the launcher ships log lines once a second
    master.kill9()
    (aid,) = [p.name for p in (data_dir / "work" / str(eid)).iterdir()]
    (marks / "go").write_text("")
    wait_for("the trial to write while the master is down", lambda: (marks / "mid_write").exists())
    covered, uncovered = json.loads((marks / "uuids.json").read_text())
    root = data_dir / "checkpoints"
    assert (root / covered / "MANIFEST.json").exists() and (root / uncovered).exists()
    assert list((root / ".staging").iterdir())

    master = start_master(slots=2, data_dir=data_dir, db_url=db_url)
    # Work directory of the dead allocation: gone (the trial's next run gets a new one).
    assert not (data_dir / "work" / str(eid) / aid).exists()
    with master.client() as client:
        final = client.wait_experiment(eid, interval=0.2, timeout=120)
        assert final.state == "COMPLETED", master.log()
        (trial,) = client.list_trials(eid).items
        lines = [line.line for line in client.trial_logs(trial.id)]
        uuids = {c.uuid for c in client.list_checkpoints(experiment_id=eid).items}
    # The checkpoint whose metrics had all reached the DB was registered and resumed from.
    assert covered in uuids
    assert f"start from=3 ckpt={covered}" in lines
    # The one ahead of the stored metrics was collected; the half-written one too.
    assert not (root / uncovered).exists() and uncovered not in uuids
    assert [p for p in (root / ".staging").iterdir()] == []
    # Every line the dead run printed is served once, before and after the crash.
    for i in range(5):
        assert lines.count(f"before crash {i}") == 1, lines
    for i in range(20):
        assert lines.count(f"while down {i}") == 1, lines
    # Nothing in storage that the DB does not know.
    stored = {p.name for p in root.iterdir() if p.name not in (".staging", "tensorboard")}
    assert stored <= uuids
    with master.client() as client:
        client.delete_experiment(eid)
    wait_for(
        "the checkpoints to be deleted", lambda: not [p for p in root.iterdir() if p.name in stored]
    )
