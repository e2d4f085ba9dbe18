"""The Trainer's loop: periods, metrics, checkpoints, preemption and resume, in one process."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import torch
from scripted_backend import RunFactory, experiment_config, final_state
from tiny_trial import TinyTrial

from trainyard.errors import ConfigError, TrainyardError
from trainyard.pytorch import Trainer
from trainyard.pytorch._checkpoint import unpack
from trainyard.pytorch._tensorboard import tensorboard_dir


def config(**kw: Any) -> dict[str, Any]:
    return experiment_config(**kw)


def test_follows_searcher_operations_and_reports_the_searcher_metric(
    make_core: RunFactory,
) -> None:
    core = make_core({}, lengths=(5, 12), config=config(metric="validation_accuracy"))
    result = Trainer(TinyTrial, core.ctx, reporting_period=4, tensorboard=False).fit()
    assert result.steps_completed == 12 and not result.preempted
    assert [s for s, _ in core.validation] == [5, 12]
    assert core.reported == [m["validation_accuracy"] for _, m in core.validation]
    assert [s for s, _ in core.training] == [4, 5, 8, 12]  # every 4 batches and at each op end


def test_progress_is_the_fraction_of_max_length_trained(make_core: RunFactory) -> None:
    core = make_core({}, lengths=(80,), config=config(max_length={"records": 80}))
    Trainer(TinyTrial, core.ctx, reporting_period=5, tensorboard=False).fit()
    events = (core.run_dir / "events.jsonl").read_text().splitlines()
    progress = [json.loads(e)["progress"] for e in events if '"progress"' in e]
    assert progress == [0.5, 1.0]  # 80 records are 10 batches of 8


def test_validation_period_in_epochs_and_records_converts_to_batches(
    make_core: RunFactory,
) -> None:
    # 64 records, global batch 8: one epoch is 8 batches; 20 records round up to 3 batches.
    core = make_core({}, lengths=(20,), config=config(min_validation_period={"epochs": 1}))
    Trainer(TinyTrial, core.ctx, tensorboard=False).fit()
    assert [s for s, _ in core.validation] == [8, 16, 20]
    core = make_core(
        {}, run="records", lengths=(7,), config=config(min_validation_period={"records": 20})
    )
    Trainer(TinyTrial, core.ctx, tensorboard=False).fit()
    assert [s for s, _ in core.validation] == [3, 6, 7]


def test_searcher_lengths_in_epochs_train_whole_epochs(make_core: RunFactory) -> None:
    core = make_core({}, lengths=(2,), config=config(max_length={"epochs": 2}))
    trainer = Trainer(TinyTrial, core.ctx, tensorboard=False)
    assert trainer.fit().steps_completed == 16
    assert trainer.trial.epochs_ended == [0, 1]  # type: ignore[attr-defined]


def test_checkpoint_holds_everything_needed_to_resume(make_core: RunFactory) -> None:
    core = make_core({"sched": "epoch"}, lengths=(11,))
    result = Trainer(TinyTrial, core.ctx, tensorboard=False).fit()
    state = final_state(core, result.checkpoint)
    assert state["steps_completed"] == 11
    assert (state["epoch"], state["batch_in_epoch"]) == (1, 3)
    assert set(state["model"]) == {"0.weight", "0.bias", "3.weight", "3.bias"}
    assert state["optimizer"]["state"], "momentum buffers are saved"
    assert state["lr_scheduler"]["last_epoch"] == 1
    assert "grad_scaler" in state
    (blob,) = state["per_rank"]
    rank0 = unpack(blob)
    assert set(rank0["rng"]) >= {"python", "numpy", "torch"}
    assert state["trainer"]["last_validation_step"] == 11


def test_preemption_writes_exactly_one_checkpoint_and_stops(make_core: RunFactory) -> None:
    core = make_core({}, lengths=(50,), preempt_at_call=6)
    result = Trainer(TinyTrial, core.ctx, tensorboard=False).fit()
    assert result.preempted and result.steps_completed == 6
    assert len(core.checkpoints()) == 1
    assert final_state(core, result.checkpoint)["steps_completed"] == 6
    assert core.reported == []


def test_preemption_is_checked_every_preemption_check_period_batches(
    make_core: RunFactory,
) -> None:
    core = make_core({}, lengths=(50,), preempt_at_call=2)
    result = Trainer(TinyTrial, core.ctx, preemption_check_period=4, tensorboard=False).fit()
    assert (result.preempted, result.steps_completed) == (True, 8)
    assert core.backend.preempt_checks == 2


def test_resume_after_preemption_is_bitwise_identical(make_core: RunFactory, tmp_path: Any) -> None:
    hp = {"dropout": 0.3, "sched": "epoch"}
    cfg = config(min_validation_period={"batches": 4})
    straight = make_core(hp, run="straight", lengths=(20,), config=cfg)
    expected = Trainer(TinyTrial, straight.ctx, reporting_period=3, tensorboard=False).fit()

    first = make_core(hp, lengths=(20,), config=cfg, preempt_at_call=11)  # mid-epoch 1
    assert Trainer(TinyTrial, first.ctx, reporting_period=3, tensorboard=False).fit().preempted
    second = make_core(hp, lengths=(20,), config=cfg)
    resumed = Trainer(TinyTrial, second.ctx, reporting_period=3, tensorboard=False).fit()

    a, b = final_state(straight, expected.checkpoint), final_state(second, resumed.checkpoint)
    for name, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][name]), name
    assert first.validation + second.validation == straight.validation
    assert first.training + second.training == straight.training


def test_corrupt_newest_checkpoint_falls_back_to_the_previous(
    make_core: RunFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config(min_checkpoint_period={"batches": 5})
    first = make_core({}, lengths=(10,), config=cfg)
    Trainer(TinyTrial, first.ctx, tensorboard=False).fit()
    older, newest = first.checkpoints()
    first.corrupt(newest)
    second = make_core({}, lengths=(12,), config=cfg)
    trainer = Trainer(TinyTrial, second.ctx, tensorboard=False)
    result = trainer.fit()
    assert f"checkpoint {newest} is unusable" in capsys.readouterr().err
    assert [s for s, _ in second.validation] == [12]
    assert result.steps_completed == 12
    assert [s for s, _ in second.training] == [12]  # trained 5 -> 12, not 10 -> 12
    assert older in second.checkpoints()


def test_nan_loss_is_reported_as_nan_not_raised(make_core: RunFactory) -> None:
    core = make_core({"nan_at_batch": 3}, lengths=(6,))
    result = Trainer(TinyTrial, core.ctx, reporting_period=2, tensorboard=False).fit()
    assert result.steps_completed == 6
    losses = [m["loss"] for _, m in core.training]
    assert not math.isnan(losses[0]) and math.isnan(losses[-1])
    assert math.isnan(core.reported[0])


def test_gradient_accumulation_matches_one_big_batch(make_core: RunFactory, tmp_path: Any) -> None:
    big = make_core({"global_batch_size": 8}, run="big", lengths=(6,))
    small = make_core({"global_batch_size": 4}, lengths=(12,))
    a = Trainer(TinyTrial, big.ctx, tensorboard=False).fit()
    b = Trainer(TinyTrial, small.ctx, gradient_accumulation_steps=2, tensorboard=False).fit()
    wa, wb = final_state(big, a.checkpoint)["model"], final_state(small, b.checkpoint)["model"]
    for name in wa:
        torch.testing.assert_close(wa[name], wb[name], rtol=1e-5, atol=1e-6)


def test_clipping_bounds_each_update(make_core: RunFactory) -> None:
    core = make_core({"lr": 0.1}, lengths=(4,))
    trainer = Trainer(TinyTrial, core.ctx, clip_grad_norm=1e-3, tensorboard=False)
    result = trainer.fit()
    torch.manual_seed(core.ctx.info.trial_seed)  # the weights the trainer started from
    start = TinyTrial.build_model(trainer.trial).state_dict()
    end = final_state(core, result.checkpoint)["model"]
    moved = torch.cat([(end[k] - start[k]).flatten() for k in start]).norm().item()
    assert 0 < moved <= 4 * 0.1 * 1e-3 * 10  # steps * lr * clip * momentum gain bound


@pytest.mark.parametrize(
    ("cadence", "steps", "expected_lr"), [("batch", 3, 0.0125), ("epoch", 16, 0.025)]
)
def test_lr_scheduler_steps_per_batch_or_per_epoch(
    make_core: RunFactory, cadence: str, steps: int, expected_lr: float
) -> None:
    core = make_core({"sched": cadence}, lengths=(steps,))
    result = Trainer(TinyTrial, core.ctx, tensorboard=False).fit()
    state = final_state(core, result.checkpoint)
    assert state["optimizer"]["param_groups"][0]["lr"] == pytest.approx(expected_lr)


def test_amp_on_cpu_autocasts_the_forward_pass(make_core: RunFactory) -> None:
    core = make_core({"probe_autocast": True}, lengths=(2,))
    Trainer(TinyTrial, core.ctx, amp=True, reporting_period=1, tensorboard=False).fit()
    assert [m["autocast"] for _, m in core.training] == [1.0, 1.0]
    off = make_core({"probe_autocast": True}, run="off", lengths=(1,))
    Trainer(TinyTrial, off.ctx, reporting_period=1, tensorboard=False).fit()
    assert off.training[-1][1]["autocast"] == 0.0


def test_float16_amp_runs_the_grad_scaler_path_and_resumes_it_exactly(
    make_core: RunFactory,
) -> None:
    """The GPU recipe (float16 autocast, GradScaler, unscale before clipping) on the CPU."""
    hp = {"probe_autocast": True}
    options: dict[str, Any] = {"amp": True, "amp_dtype": "float16", "clip_grad_norm": 0.5}
    straight = make_core(hp, run="straight", lengths=(9,))
    expected = Trainer(TinyTrial, straight.ctx, reporting_period=1, tensorboard=False, **options)
    done = final_state(straight, expected.fit().checkpoint)
    scaler = done["grad_scaler"]
    assert scaler["scale"] == 65536.0 and scaler["_growth_tracker"] == 9  # one update per step
    assert all(m["autocast"] == 1.0 for _, m in straight.training)

    first = make_core(hp, lengths=(9,), preempt_at_call=4)
    assert Trainer(TinyTrial, first.ctx, tensorboard=False, **options).fit().preempted
    second = make_core(hp, lengths=(9,))
    resumed = final_state(
        second, Trainer(TinyTrial, second.ctx, tensorboard=False, **options).fit().checkpoint
    )
    assert resumed["grad_scaler"] == scaler
    for name, tensor in done["model"].items():
        assert torch.equal(tensor, resumed["model"][name]), name


def test_tensorboard_event_files_per_trial(make_core: RunFactory, tmp_path: Any) -> None:
    core = make_core({}, lengths=(2,))
    Trainer(TinyTrial, core.ctx, run_dir=tmp_path / "tb").fit()
    assert list((tmp_path / "tb" / "tensorboard" / "trial_local").glob("events.out.tfevents.*"))


def test_tensorboard_goes_under_the_checkpoint_root_with_the_trial_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TRAINYARD_RUN_DIR", raising=False)
    storage = {"type": "shared_fs", "host_path": "/mnt/ckpt", "storage_path": "exp"}
    assert tensorboard_dir(5, None, storage) == Path("/mnt/ckpt/exp/tensorboard/trial_5")
    monkeypatch.setenv(
        "TRAINYARD_CHECKPOINT_STORAGE", '{"type": "directory", "container_path": "/c"}'
    )
    assert tensorboard_dir(6) == Path("/c/tensorboard/trial_6")
    monkeypatch.setenv("TRAINYARD_RUN_DIR", "/r")
    assert tensorboard_dir(None, None, storage) == Path("/r/tensorboard/trial_local")


def test_user_mistakes_are_one_line_errors(make_core: RunFactory) -> None:
    with pytest.raises(ConfigError, match="global_batch_size: must be a positive integer"):
        Trainer(TinyTrial, make_core({"global_batch_size": None}).ctx, tensorboard=False).fit()
    with pytest.raises(TrainyardError, match=r"searcher\.metric 'nope' is not among"):
        Trainer(
            TinyTrial,
            make_core({}, lengths=(1,), config=config(metric="nope")).ctx,
            tensorboard=False,
        ).fit()
    with pytest.raises(ConfigError, match=r"data\.distributed is 'zero3'"):
        Trainer(TinyTrial, make_core({}).ctx, distributed="zero3", tensorboard=False).fit()


def test_trial_exceptions_propagate_unchanged(make_core: RunFactory) -> None:
    with pytest.raises(RuntimeError, match="deliberate failure at batch 2"):
        Trainer(
            TinyTrial, make_core({"fail_at_batch": 2}, lengths=(5,)).ctx, tensorboard=False
        ).fit()
