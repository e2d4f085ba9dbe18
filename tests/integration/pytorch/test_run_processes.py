"""Real trial processes: DDP over gloo, SIGKILL and resume, failures, FSDP."""

from __future__ import annotations

import math
import signal
import time
from collections.abc import Callable

import pytest
import torch
from conftest import TrialRun

pytestmark = pytest.mark.slow

RESUME_HP = {"dropout": 0.3, "sched": "epoch", "n_train": 64}
RESUME_CONFIG = {
    "batches": 24,
    "min_validation_period": {"batches": 4},
    "min_checkpoint_period": {"batches": 6},
}


def test_two_process_ddp_matches_one_process_with_the_whole_batch(
    trial_run: Callable[..., TrialRun],
) -> None:
    one = trial_run({"global_batch_size": 16}, name="one")
    two = trial_run({"global_batch_size": 16}, name="two", resources={"slots_per_trial": 2})
    assert one.local().returncode == 0
    done = two.local()
    assert done.returncode == 0, done.stderr
    a, b = one.final_model(), two.final_model()
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-5, atol=1e-6)
    va, vb = one.scalars("validation/validation_loss"), two.scalars("validation/validation_loss")
    assert va.keys() == vb.keys() == {12}
    assert va[12] == pytest.approx(vb[12], rel=1e-5)


def test_sigkill_mid_epoch_then_resume_equals_an_uninterrupted_run(
    trial_run: Callable[..., TrialRun],
) -> None:
    straight = trial_run(RESUME_HP, name="straight", **RESUME_CONFIG)
    assert straight.local().returncode == 0

    killed = trial_run(
        {**RESUME_HP, "hang_at_batch": 14, "marker": "hang.marker"}, name="killed", **RESUME_CONFIG
    )
    proc = killed.start()
    marker = killed.model_dir / "hang.marker"
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), proc.communicate(timeout=5)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert [s["steps_completed"] for s in killed.states()] == [6, 12]  # mid-epoch 1: step 14

    resumed = killed.local()
    assert resumed.returncode == 0, resumed.stderr
    a, b = straight.final_model(), killed.final_model()
    for name in a:
        assert torch.equal(a[name], b[name]), name
    for tag in ("validation/validation_loss", "validation/validation_accuracy", "training/loss"):
        assert straight.scalars(tag) == killed.scalars(tag), tag


def test_a_raising_train_batch_exits_non_zero_with_the_traceback(
    trial_run: Callable[..., TrialRun],
) -> None:
    run = trial_run({"fail_at_batch": 3})
    proc = run.start()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert "Traceback" in err and "RuntimeError: deliberate failure at batch 3" in err


def test_a_failing_rank_stops_the_whole_distributed_trial(
    trial_run: Callable[..., TrialRun],
) -> None:
    run = trial_run({"global_batch_size": 16, "fail_at_batch": 2}, resources={"slots_per_trial": 2})
    done = run.local(timeout=120)
    assert done.returncode != 0
    assert "deliberate failure at batch 2" in done.stderr


def test_nan_loss_is_reported_and_the_trial_exits_cleanly(
    trial_run: Callable[..., TrialRun],
) -> None:
    run = trial_run({"nan_at_batch": 2}, batches=4, data={"reporting_period": 1})
    done = run.local()
    assert done.returncode == 0, done.stderr
    losses = run.scalars("training/loss")
    assert not math.isnan(losses[1]) and math.isnan(losses[4])
    assert math.isnan(run.scalars("validation/validation_loss")[4])


def test_fsdp_on_cpu_with_gloo_trains_like_ddp(trial_run: Callable[..., TrialRun]) -> None:
    hp = {"global_batch_size": 16, "optimizer": "adam"}
    ddp = trial_run(hp, name="ddp", resources={"slots_per_trial": 2})
    fsdp = trial_run(
        hp, name="fsdp", resources={"slots_per_trial": 2}, data={"distributed": "fsdp"}
    )
    assert ddp.local().returncode == 0
    done = fsdp.local()
    assert done.returncode == 0, done.stderr
    a, b = ddp.final_model(), fsdp.final_model()
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-4, atol=1e-5)
    assert fsdp.states()[-1]["optimizer"]["state"], "full optimizer state gathered"
