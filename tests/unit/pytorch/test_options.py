"""Trainer options: arguments win over config `data`, with defaults that depend on the device."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from trainyard.errors import ConfigError
from trainyard.pytorch import TrainerOptions
from trainyard.pytorch import local as local_cli

CPU, CUDA = torch.device("cpu"), torch.device("cuda", 0)


def test_defaults() -> None:
    options = TrainerOptions.resolve({}, None, CPU)
    assert options == TrainerOptions()
    assert (options.reporting_period, options.preemption_check_period) == (100, 1)
    assert TrainerOptions.resolve({}, None, CUDA).amp is True  # AMP by default on GPUs only
    assert TrainerOptions.resolve({}, None, CUDA).amp_dtype == "float16"  # with a GradScaler
    assert options.amp_dtype == "bfloat16"
    assert TrainerOptions.resolve({}, None, CPU, world_size=4).preemption_check_period is None
    assert (
        TrainerOptions.resolve({"preemption_check_period": 3}, None, CPU, 4).preemption_check_period
        == 3
    )


def test_arguments_win_over_config_data() -> None:
    data = {"distributed": "fsdp", "gradient_accumulation_steps": 4, "clip_grad_norm": 1}
    options = TrainerOptions.resolve({"gradient_accumulation_steps": 2}, data, CPU)
    assert (options.distributed, options.gradient_accumulation_steps) == ("fsdp", 2)
    assert options.clip_grad_norm == 1.0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"gradient_accumulation_steps": 0}, r"data\.gradient_accumulation_steps is 0"),
        ({"clip_grad_norm": -1}, r"data\.clip_grad_norm is -1"),
        ({"num_workers": "two"}, r"data\.num_workers is 'two'"),
    ],
)
def test_bad_values_name_the_field(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TrainerOptions.resolve({}, data, CPU)


def test_local_runner_rejects_a_config_without_an_entrypoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("name: x\n")
    assert local_cli.main([str(config)]) == 2
    assert "entrypoint must be 'pkg.module:TrialClass'" in capsys.readouterr().err


def test_local_runner_gives_each_rank_the_torchrun_environment() -> None:
    env = local_cli.rank_env({"A": "1"}, rank=1, size=2, port=29500)
    assert env["A"] == "1"
    assert (env["RANK"], env["WORLD_SIZE"], env["LOCAL_RANK"]) == ("1", "2", "1")
    assert (env["MASTER_ADDR"], env["MASTER_PORT"]) == ("127.0.0.1", "29500")


def test_amp_dtype_is_float16_or_bfloat16() -> None:
    chosen = TrainerOptions.resolve({"amp_dtype": "bfloat16"}, {"amp_dtype": "float16"}, CUDA)
    assert chosen.amp_dtype == "bfloat16"
    with pytest.raises(ConfigError, match=r"data\.amp_dtype is 'fp8'; it must be 'float16' or"):
        TrainerOptions.resolve({}, {"amp_dtype": "fp8"}, CPU)
