"""`trainyard.webui._progress` without a browser: lengths in the searcher's unit from the latest
reported step, and the one-line reason each waiting trial gives."""

from __future__ import annotations

from typing import Any

from trainyard.master.db.webui_reads import TrialLength
from trainyard.webui._progress import experiment_progress, live_length, waiting_reason


def _t(
    state: str = "RUNNING", *, done: int = 0, target: int | None = 240, **kw: Any
) -> TrialLength:
    return TrialLength(
        kw.get("id", 1), 1, state, kw.get("closed", False), done, target, kw.get("batches", 0),
        kw.get("hp", {}),
    )  # fmt: skip


def test_trained_length_follows_the_latest_step_in_the_searchers_unit() -> None:
    assert live_length(_t(batches=181), "batches", {}) == 181
    assert live_length(_t(done=240, batches=100), "batches", {}) == 240  # a restart's rewind
    hp = {"global_batch_size": 32}
    assert live_length(_t(batches=10, hp=hp), "records", {}) == 320
    # An epoch is records_per_epoch // global_batch_size batches, as the trainer counts.
    assert live_length(_t(batches=150, hp=hp), "epochs", {"records_per_epoch": 3200}) == 1.5
    assert live_length(_t(done=2, batches=150), "epochs", {}) == 2  # not convertible: as is
    assert live_length(_t(done=3, batches=999), "val_time", {}) == 3


def test_experiment_progress_adds_the_work_since_each_validation() -> None:
    trials = [_t(done=100, target=300, batches=190), _t(done=100, target=300, closed=True)]
    assert experiment_progress(0.25, trials, "batches", {}, planned=900) == 0.25 + 90 / 900
    assert experiment_progress(0.25, trials, "batches", {}, planned=None) == 0.25


def test_each_waiting_trial_says_why() -> None:
    common: dict[str, Any] = {"unit": "batches", "rungs": [100, 300], "queue_size": 4}
    queue = {7: {"position": 2, "priority": 42}}
    free = {"running": 1, "max_concurrent": 16}
    parked = _t("QUEUED", done=300, target=300, id=7)
    assert waiting_reason(parked, queue=queue, **common, **free) == (
        "parked at rung 2 (300 batches): waiting for the searcher to promote it"
    )
    queued = _t("QUEUED", done=0, target=100, id=7)
    assert waiting_reason(queued, queue=queue, **common, **free) == (
        "waiting for a slot: position 2 of 4 in the queue, priority 42"
    )
    held = waiting_reason(queued, queue=queue, **common, running=2, max_concurrent=2)
    assert held == "held by max_concurrent_trials: 2 of 2 trials of this experiment are running"
    assert waiting_reason(_t("PAUSED"), queue={}, **common, **free) == (
        "paused with its experiment: activate the experiment to resume it"
    )
    assert waiting_reason(_t("RUNNING"), queue={}, **common, **free) is None
