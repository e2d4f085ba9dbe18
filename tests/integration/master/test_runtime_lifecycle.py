"""Pause/activate, priority preemption, gang waits and restarts on a real master."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from master_runner import RealMaster, experiment_yaml, wait_for, write_experiment

from trainyard.errors import NotFoundError
from trainyard.master.db import Allocation, TrialEvent
from trainyard.master.db import trials as trial_repo

pytestmark = pytest.mark.slow
StartMaster = Callable[..., RealMaster]


def single(length: int, sleep: float = 0.0, **extra: Any) -> str:
    return experiment_yaml(
        {"name": "single", "max_length": {"batches": length}},
        {"x": 0.3, "sleep": sleep},
        **extra,
    )


def trial_logs(master: RealMaster, trial_id: int) -> list[str]:
    with master.client() as client:
        return [line.line for line in client.trial_logs(trial_id)]


def allocations(master: RealMaster, trial_id: int) -> list[Allocation]:
    db = master.db()
    try:
        with db.session(read_only=True) as session:
            rows = session.query(Allocation).filter(Allocation.trial_id == trial_id)
            return list(rows.order_by(Allocation.created_at))
    finally:
        db.dispose()


def events(master: RealMaster, trial_id: int) -> list[TrialEvent]:
    db = master.db()
    try:
        with db.session(read_only=True) as session:
            return trial_repo.list_events(session, trial_id)
    finally:
        db.dispose()


def trained(master: RealMaster, trial_id: int) -> int:
    with master.client() as client:
        points = client.trial_metrics(trial_id, group="training")
    return max((p.steps for p in points), default=0)


def test_pause_checkpoints_and_activate_resumes_from_there(
    shared_master: RealMaster, tmp_path: Path
) -> None:
    master = shared_master
    config, model_dir = write_experiment(tmp_path, single(40, sleep=0.05))
    with master.client() as client:
        exp = client.create_experiment(config, model_dir)
        (trial,) = wait_for("the trial", lambda: client.list_trials(exp.id).items, master=master)
        wait_for("some training", lambda: trained(master, trial.id) >= 3, master=master)
        assert client.pause_experiment(exp.id).state == "PAUSED"
        wait_for(
            "the paused trial to free its slot",
            lambda: (
                client.get_trial(trial.id).state == "PAUSED" and not client.cluster().allocations
            ),
            master=master,
        )
        paused_at = client.get_trial(trial.id)
        assert paused_at.latest_checkpoint is not None
        client.activate_experiment(exp.id)
        final = client.wait_experiment(exp.id, interval=0.2, timeout=90)
    assert final.state == "COMPLETED", master.log()
    runs = allocations(master, trial.id)
    assert len(runs) == 2 and runs[0].preempt_reason == "pause"
    logs = trial_logs(master, trial.id)
    resumed = [line for line in logs if "from=" in line and "from=0" not in line]
    assert resumed, logs  # the second run started from the pause checkpoint


def test_higher_priority_preempts_lower_which_resumes_and_finishes(
    start_master: StartMaster, tmp_path: Path
) -> None:
    master = start_master(slots=1)
    low_cfg, model_dir = write_experiment(
        tmp_path, single(40, sleep=0.1, resources={"priority": 60}, name="low")
    )
    high_cfg, _ = write_experiment(tmp_path, single(2, resources={"priority": 10}, name="high"))
    with master.client() as client:
        low = client.create_experiment(low_cfg, model_dir)
        (low_trial,) = wait_for("low's trial", lambda: client.list_trials(low.id).items)
        wait_for("low to train", lambda: trained(master, low_trial.id) >= 2, master=master)
        high = client.create_experiment(high_cfg, model_dir)
        high_done = client.wait_experiment(high.id, interval=0.2, timeout=90)
        assert high_done.state == "COMPLETED", master.log()
        assert client.get_experiment(low.id).state == "ACTIVE"
        low_done = client.wait_experiment(low.id, interval=0.2, timeout=90)
    assert low_done.state == "COMPLETED", master.log()
    runs = allocations(master, low_trial.id)
    assert runs[0].preempt_reason == "preempt" and len(runs) == 2
    (high_trial,) = allocations(master, low_trial.id + 1)
    assert runs[0].ended_at is not None and high_trial.created_at >= runs[0].ended_at
    assert high_trial.ended_at is not None
    assert runs[1].created_at >= high_trial.ended_at  # low came back after high finished
    assert any(
        "from=0" not in line and "from=" in line for line in trial_logs(master, low_trial.id)
    )


def test_two_slot_trial_waits_until_two_slots_are_free(
    shared_master: RealMaster, tmp_path: Path
) -> None:
    master = shared_master
    busy_cfg, model_dir = write_experiment(tmp_path, single(20, sleep=0.05, name="busy"))
    gang_cfg, _ = write_experiment(tmp_path, single(2, resources={"slots_per_trial": 2}))
    with master.client() as client:
        busy = client.create_experiment(busy_cfg, model_dir)
        (busy_trial,) = wait_for("busy's trial", lambda: client.list_trials(busy.id).items)
        wait_for("busy to train", lambda: trained(master, busy_trial.id) >= 1, master=master)
        gang = client.create_experiment(gang_cfg, model_dir)
        (gang_trial,) = wait_for("the gang trial", lambda: client.list_trials(gang.id).items)
        cluster = client.cluster()
        assert [q.trial_id for q in cluster.queue] == [gang_trial.id]
        assert client.get_trial(gang_trial.id).state == "QUEUED"
        assert client.wait_experiment(gang.id, interval=0.2, timeout=120).state == "COMPLETED"
        assert client.get_experiment(busy.id).state == "COMPLETED"
    (gang_run,) = allocations(master, gang_trial.id)
    (busy_run,) = allocations(master, busy_trial.id)
    assert gang_run.slot_ids == [0, 1] and gang_run.slots == 2
    assert busy_run.ended_at is not None and gang_run.created_at >= busy_run.ended_at


def test_crashing_trial_restarts_max_restarts_times_then_errors_and_the_search_goes_on(
    shared_master: RealMaster, tmp_path: Path
) -> None:
    master = shared_master
    hparams = {"mode": {"type": "categorical", "vals": ["crash", "ok", "invalid"]}}
    text = experiment_yaml({"name": "grid", "max_length": {"batches": 2}}, hparams, max_restarts=2)
    config, model_dir = write_experiment(tmp_path, text)
    with master.client() as client:
        exp = client.create_experiment(config, model_dir)
        final = client.wait_experiment(exp.id, interval=0.2, timeout=120)
        assert final.state == "COMPLETED", master.log()
        trials = {t.hparams["mode"]: t for t in client.list_trials(exp.id).items}
    assert set(trials) == {"crash", "ok", "invalid"}, master.log()
    crashed = trials["crash"]
    assert crashed.state == "ERRORED" and crashed.exit_reason == "errored"
    assert trials["ok"].state == "COMPLETED"
    assert trials["invalid"].exit_reason == "invalid_hp"
    assert len(allocations(master, crashed.id)) == 3  # the first run and 2 restarts
    assert crashed.restarts == 2  # restarts, not failures (it failed 3 times)
    history = events(master, crashed.id)
    restarts = [e for e in history if e.kind == "restart"]
    assert [e.exit_code for e in restarts] == [3, 3]
    why = "exited with code 3: crashing on purpose"  # the code and the run's last output line
    assert [e.reason for e in restarts] == [why, why]
    (failure,) = [e for e in history if e.kind == "failure"]
    assert failure.reason == f"{why}; no restarts left (max_restarts 2)"
    assert crashed.error == failure.reason
    assert len(allocations(master, trials["invalid"].id)) == 1  # never restarted


def test_cancel_keeps_results_kill_trial_stops_it_and_delete_removes_checkpoints(
    shared_master: RealMaster, tmp_path: Path
) -> None:
    master = shared_master
    config, model_dir = write_experiment(tmp_path, single(60, sleep=0.1))
    with master.client() as client:
        canceled = client.create_experiment(config, model_dir)
        killed = client.create_experiment(config, model_dir)
        (c_trial,) = wait_for("a trial", lambda: client.list_trials(canceled.id).items)
        (k_trial,) = wait_for("a trial", lambda: client.list_trials(killed.id).items)
        for trial in (c_trial, k_trial):
            wait_for("training", lambda t=trial: trained(master, t.id) >= 2, master=master)
        client.cancel_experiment(canceled.id)
        client.kill_trial(k_trial.id)
        done = client.wait_experiment(canceled.id, interval=0.2, timeout=60)
        assert done.state == "CANCELED" and done.trial_counts == {"CANCELED": 1}
        kept = client.list_checkpoints(trial_id=c_trial.id).items
        assert kept, "a canceled trial checkpoints before it stops"
        after_kill = client.wait_experiment(killed.id, interval=0.2, timeout=60)
        assert client.get_trial(k_trial.id).state == "CANCELED"
        assert client.get_trial(k_trial.id).exit_reason == "user_canceled"
        assert after_kill.state in ("COMPLETED", "ERRORED")  # the searcher saw the kill

        client.delete_experiment(canceled.id)
        paths = [master.data_dir / "checkpoints" / c.uuid for c in kept]

        def gone() -> bool:
            try:
                client.get_experiment(canceled.id)
            except NotFoundError:
                return True
            return False

        wait_for("the deleted experiment to go", gone, timeout=30, master=master)
    assert not any(p.exists() for p in paths)
