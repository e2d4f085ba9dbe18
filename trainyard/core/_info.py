"""`TrialInfo`: who this trial is and where it starts from (the same on every rank)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TrialInfo:
    """Facts about the running trial, fetched once by the chief and broadcast to all ranks.

    `trial_id`/`experiment_id` are None in local mode. `latest_checkpoint` is the uuid to resume
    from (None: start fresh). `restarts` counts earlier runs of this trial. `config` is the
    experiment's `ExperimentConfig` when one is known (a plain dict if it could not be parsed).
    """

    trial_id: int | None
    experiment_id: int | None
    hparams: dict[str, Any]
    trial_seed: int
    latest_checkpoint: str | None
    slots: int
    restarts: int = 0
    config: Any = None
    checkpoint_storage: dict[str, Any] = field(default_factory=dict)
