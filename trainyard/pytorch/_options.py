"""Trainer options: Trainer arguments first, then the experiment config's `data` section."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from trainyard.errors import ConfigError
from trainyard.pytorch._dist import Strategy, parse_strategy


@dataclass(frozen=True)
class TrainerOptions:
    """How the Trainer trains; every field can be given to `Trainer(...)` or set in config `data`.

    - `distributed`: "ddp" (default) or "fsdp" (FSDP2 `fully_shard` of each top-level child).
    - `amp`: autocast; default on for CUDA, off on CPU.
    - `amp_dtype`: "float16" (with a GradScaler; the default on CUDA) or "bfloat16" (no scaler
      needed; the default on CPU, and the better choice on GPUs that have it).
    - `gradient_accumulation_steps`: optimizer step every k batches (loss divided by k).
      Checkpoints and preemption wait for the next optimizer step.
    - `clip_grad_norm`: clip the global gradient norm before each optimizer step.
    - `reporting_period`: report training metrics every n batches (default 100).
    - `num_workers`: DataLoader worker processes (default 0).
    - `preemption_check_period`: ask `ctx.preempt.should_preempt()` every n batches. Default:
      every batch with one rank; with several (each check is a broadcast from the chief, which
      per batch would cost several percent of a small model's step time) about once a second:
      `None`, the chief times the first 10 batches of each `fit()` and broadcasts the period.
    """

    distributed: Strategy = "ddp"
    amp: bool = False
    amp_dtype: str = "bfloat16"
    gradient_accumulation_steps: int = 1
    clip_grad_norm: float | None = None
    reporting_period: int = 100
    num_workers: int = 0
    preemption_check_period: int | None = 1

    @classmethod
    def resolve(
        cls,
        given: dict[str, Any],
        data: dict[str, Any] | None,
        device: torch.device,
        world_size: int = 1,
    ) -> TrainerOptions:
        """Explicit arguments (`None` = not given) win over config `data` keys of the same name."""
        data = data or {}

        def pick(name: str) -> Any:
            value = given.get(name)
            return data.get(name) if value is None else value

        amp = pick("amp")
        amp_dtype = pick("amp_dtype")
        if amp_dtype is None:
            amp_dtype = "float16" if device.type == "cuda" else "bfloat16"
        if amp_dtype not in ("float16", "bfloat16"):
            raise ConfigError(
                f"data.amp_dtype is {amp_dtype!r}; it must be 'float16' or 'bfloat16'"
            )
        accumulation = _positive_int(
            pick("gradient_accumulation_steps"), 1, "gradient_accumulation_steps"
        )
        clip = pick("clip_grad_norm")
        if clip is not None and (not isinstance(clip, int | float) or clip <= 0):
            raise ConfigError(f"data.clip_grad_norm is {clip!r}; it must be a positive number")
        return cls(
            distributed=parse_strategy(pick("distributed")),
            amp=device.type == "cuda" if amp is None else bool(amp),
            amp_dtype=amp_dtype,
            gradient_accumulation_steps=accumulation,
            clip_grad_norm=None if clip is None else float(clip),
            reporting_period=_positive_int(pick("reporting_period"), 100, "reporting_period"),
            num_workers=_positive_int(pick("num_workers"), 0, "num_workers", allow_zero=True),
            preemption_check_period=(
                _positive_int(check, 1, "preemption_check_period")
                if (check := pick("preemption_check_period")) is not None or world_size == 1
                else None
            ),
        )


def _positive_int(value: Any, default: int, name: str, allow_zero: bool = False) -> int:
    if value is None:
        return default
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"data.{name} is {value!r}; it must be an integer >= {low}")
    return value
