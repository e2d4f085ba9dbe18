"""Real trial processes: DDP and FSDP over gloo, SIGKILL and resume, a failing rank.

Each process costs seconds of torch start-up, so runs are shared where a test only reads them.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from trial_process import TrialRun

pytestmark = pytest.mark.slow

PARALLEL_HP = {"global_batch_size": 16, "optimizer": "adam"}
RESUME_HP = {"dropout": 0.3, "sched": "epoch", "n_train": 64}
RESUME_CONFIG = {
    "batches": 24,
    "min_validation_period": {"batches": 4},
    "min_checkpoint_period": {"batches": 6},
    "checkpoint_policy": "none",  # checkpoints only every 6 batches (best would add 4 and 8)
}


@pytest.fixture(scope="module")
def one_process(tmp_path_factory: pytest.TempPathFactory) -> TrialRun:
    """One process training with the whole global batch of 16."""
    run = TrialRun(tmp_path_factory.mktemp("one"), PARALLEL_HP)
    run.in_process()
    return run


def two_ranks(root: Path, **config: object) -> TrialRun:
    run = TrialRun(root, PARALLEL_HP, resources={"slots_per_trial": 2}, **config)
    done = run.local()
    assert done.returncode == 0, done.stderr
    return run


def assert_same_training(a: TrialRun, b: TrialRun, rtol: float, atol: float) -> None:
    wa, wb = a.final_model(), b.final_model()
    assert wa.keys() == wb.keys()
    for name in wa:
        torch.testing.assert_close(wa[name], wb[name], rtol=rtol, atol=atol)
    va, vb = a.scalars("validation/validation_loss"), b.scalars("validation/validation_loss")
    assert va.keys() == vb.keys() == {12}
    assert va[12] == pytest.approx(vb[12], rel=1e-4)


def test_two_process_ddp_matches_one_process_with_the_whole_batch(
    one_process: TrialRun, tmp_path: Path
) -> None:
    assert_same_training(one_process, two_ranks(tmp_path), rtol=1e-5, atol=1e-6)


def test_fsdp_on_cpu_with_gloo_matches_one_process(one_process: TrialRun, tmp_path: Path) -> None:
    fsdp = two_ranks(tmp_path, data={"distributed": "fsdp"})
    assert_same_training(one_process, fsdp, rtol=1e-4, atol=1e-5)
    assert fsdp.states()[-1]["optimizer"]["state"], "the full optimizer state was gathered"


def test_sigkill_mid_epoch_then_resume_equals_an_uninterrupted_run(
    trial_run: Callable[..., TrialRun],
) -> None:
    straight = trial_run(RESUME_HP, name="straight", **RESUME_CONFIG)
    straight.in_process()

    killed = trial_run(
        {**RESUME_HP, "hang_at_batch": 14, "marker": "hang.marker"}, name="killed", **RESUME_CONFIG
    )
    proc = killed.start()
    marker = killed.model_dir / "hang.marker"
    deadline = time.monotonic() + 120
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), proc.communicate(timeout=5)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    # 8 batches per epoch: killed at batch 14, mid-epoch 1, after the checkpoint at 12.
    assert [s["steps_completed"] for s in killed.states()] == [6, 12]

    resumed = killed.local()
    assert resumed.returncode == 0, resumed.stderr
    a, b = straight.final_model(), killed.final_model()
    for name in a:
        assert torch.equal(a[name], b[name]), name
    for tag in ("validation/validation_loss", "validation/validation_accuracy", "training/loss"):
        assert straight.scalars(tag) == killed.scalars(tag), tag
    assert sorted(killed.scalars("validation/validation_loss")) == [4, 8, 12, 16, 20, 24]


def test_sigterm_preempts_with_exactly_one_checkpoint_and_exit_0(
    trial_run: Callable[..., TrialRun],
) -> None:
    run = trial_run({"pause_at_batch": 5, "marker": "pause.marker"}, batches=1000)
    proc = run.start()
    marker = run.model_dir / "pause.marker"
    deadline = time.monotonic() + 120
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert [s["steps_completed"] for s in run.states()] == [6]  # the batch in flight completes


def test_a_failing_rank_ends_the_trial_non_zero_with_its_traceback(
    trial_run: Callable[..., TrialRun],
) -> None:
    run = trial_run(
        {"global_batch_size": 16, "fail_at_batch": 2, "fail_rank": 1},
        resources={"slots_per_trial": 2},
    )
    done = run.local(timeout=120)
    assert done.returncode != 0
    assert "Traceback (most recent call last)" in done.stderr
    assert "RuntimeError: deliberate failure at batch 2" in done.stderr
