"""kill -9 of the master mid-search, then a restart on the same DB, finishes the search with no
lost or duplicated validations."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from master_runner import RealMaster, experiment_yaml, wait_for, write_experiment
from postgres_schema import fresh_postgres_database

from trainyard.master.db import Allocation, LogLine, Metric, Trial

pytestmark = pytest.mark.slow
StartMaster = Callable[..., RealMaster]


def alive_in_group(pgid: int) -> bool:
    """Whether process group `pgid` has a member that is not a zombie."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


@dataclass(frozen=True)
class Stored:
    """What the DB holds about one experiment at one moment."""

    validations: list[tuple[int, int]]
    trials: dict[int, tuple[str, int]]
    allocations: list[tuple[str, str, int | None, float]]
    promoted: set[int]
    """Running trials past their first rung, with more work and a checkpoint to resume from."""


def snapshot(master: RealMaster, experiment_id: int) -> Stored:
    db = master.db()
    try:
        with db.session(read_only=True) as session:
            trials = session.query(Trial).filter(Trial.experiment_id == experiment_id).all()
            ids = [t.id for t in trials]
            rows = (
                session.query(Metric)
                .filter(Metric.experiment_id == experiment_id, Metric.group == "validation")
                .order_by(Metric.trial_id, Metric.steps)
                .all()
            )
            allocs = session.query(Allocation).filter(Allocation.trial_id.in_(ids)).all()
            return Stored(
                validations=[(r.trial_id, r.steps) for r in rows],
                trials={t.id: (t.state, t.completed_length) for t in trials},
                allocations=[(a.id, a.state, a.pgid, a.created_at) for a in allocs],
                promoted={
                    t.id
                    for t in trials
                    if t.state == "RUNNING"
                    and t.completed_length >= 2
                    and (t.target_length or 0) > t.completed_length
                    and t.latest_checkpoint_uuid is not None
                },
            )
    finally:
        db.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None (SQLite), or a PostgreSQL database of the test's own, dropped after it. Request it
    before `start_master`, so that the masters are stopped before the drop."""
    if request.param == "sqlite":
        yield None
        return
    with fresh_postgres_database("trainyard_runtime") as url:
        yield url


def test_kill_9_mid_search_then_restart_finishes_with_nothing_lost_or_doubled(
    db_url: str | None, start_master: StartMaster, tmp_path: Path
) -> None:
    data_dir = tmp_path / "master"
    master = start_master(slots=2, data_dir=data_dir, db_url=db_url)
    searcher = {
        "name": "async_halving",
        "max_length": {"batches": 8},
        "max_trials": 4,
        "num_rungs": 3,
        "divisor": 2,
    }
    hparams = {"x": {"type": "double", "minval": 0.0, "maxval": 1.0}, "sleep": 0.1}
    config, model_dir = write_experiment(tmp_path, experiment_yaml(searcher, hparams))
    with master.client() as client:
        exp = client.create_experiment(config, model_dir)

    def mid_search() -> bool:
        """A trial works on its second rung. (RUNNING at length 2 alone is not enough: a trial
        waiting for the searcher's decision may yet be stopped and never resume.)"""
        return bool(snapshot(master, exp.id).promoted)

    wait_for("a promoted trial to run from its checkpoint", mid_search, timeout=90, master=master)
    master.kill9()
    before = snapshot(master, exp.id)
    orphans = [a[2] for a in before.allocations if a[1] != "TERMINATED" and a[2]]
    assert orphans, "nothing was running when the master died"
    killed_at = max(a[3] for a in before.allocations)

    master = start_master(slots=2, data_dir=data_dir, db_url=db_url)
    # The new master killed the old master's trials (zombies may wait for a reaper).
    wait_for("the orphans to die", lambda: not any(alive_in_group(g) for g in orphans), 10)
    with master.client() as client:
        final = client.wait_experiment(exp.id, interval=0.2, timeout=120)
    assert final.state == "COMPLETED", master.log()

    after = snapshot(master, exp.id)
    validations = after.validations
    assert set(before.validations) <= set(validations)  # nothing lost
    trials = after.trials
    assert len(trials) == 4  # no trial created twice
    for trial_id, (state, completed) in trials.items():
        steps = [s for t, s in validations if t == trial_id]
        assert steps in ([2], [2, 4], [2, 4, 8]), steps  # each rung reported once, in order
        assert completed == steps[-1] and state == "COMPLETED"
    db = master.db()
    try:
        with db.session(read_only=True) as session:
            resumed = (
                session.query(LogLine)
                .filter(LogLine.timestamp > killed_at, LogLine.line.contains("start trial="))
                .all()
            )
    finally:
        db.dispose()
    assert any("from=0" not in line.line for line in resumed), [r.line for r in resumed]


def test_graceful_stop_checkpoints_running_trials_and_a_restart_resumes_them(
    start_master: StartMaster, tmp_path: Path
) -> None:
    data_dir = tmp_path / "master"
    master = start_master(slots=1, data_dir=data_dir)
    text = experiment_yaml({"name": "single", "max_length": {"batches": 40}}, {"sleep": 0.1})
    config, model_dir = write_experiment(tmp_path, text)
    with master.client() as client:
        exp = client.create_experiment(config, model_dir)
    wait_for(
        "training",
        lambda: any(t[1] != "TERMINATED" for t in snapshot(master, exp.id).allocations),
        master=master,
    )
    time.sleep(1.5)
    master.stop()  # SIGTERM: the runtime stops while the API still serves the trial
    (first,) = snapshot(master, exp.id).allocations
    assert first[1] == "TERMINATED"
    db = master.db()
    try:
        with db.session(read_only=True) as session:
            row = session.get(Allocation, first[0])
            assert row is not None and row.exit_code == 0 and row.preempt_reason == "preempt"
            (trial,) = session.query(Trial).filter(Trial.experiment_id == exp.id).all()
            assert trial.state == "QUEUED" and trial.restarts == 0
            assert trial.latest_checkpoint_uuid is not None
    finally:
        db.dispose()
    master = start_master(slots=1, data_dir=data_dir)
    with master.client() as client:
        assert client.wait_experiment(exp.id, interval=0.2, timeout=90).state == "COMPLETED"
        logs = [line.line for line in client.trial_logs(trial.id)]
    assert any("start trial=" in line and "from=0" not in line for line in logs), logs
