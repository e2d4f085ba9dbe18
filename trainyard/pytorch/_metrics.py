"""Metric accumulation: training windows between reports, validation over a whole pass.

Sums stay on the device as float64 tensors (no host sync per batch); they are reduced across ranks
only when a report is due, and a window's partial sums travel in checkpoints so a resumed run
reports exactly what an uninterrupted one would.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
import torch.distributed as dist

from trainyard.errors import TrainyardError


def _as_tensor(name: str, value: Any, device: torch.device) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise TrainyardError(
                f"metric {name!r} has shape {tuple(value.shape)}; return a scalar (e.g. .mean())"
            )
        return value.detach().reshape(()).to(torch.float64)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return torch.tensor(float(value), dtype=torch.float64, device=device)
    raise TrainyardError(
        f"metric {name!r} is a {type(value).__name__}; return a float or a scalar tensor"
    )


class MetricSums:
    """Per-name sums of `weight * value` and the total weight, on one rank."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.sums: dict[str, torch.Tensor] = {}
        self.weight = 0.0

    def add(self, metrics: Mapping[str, Any], weight: float = 1.0) -> None:
        """Add one batch's metrics, weighted (training: 1 per batch; validation: its records)."""
        for name, value in metrics.items():
            t = _as_tensor(name, value, self.device)
            if weight != 1.0:
                t = t * weight
            prev = self.sums.get(name)
            self.sums[name] = t if prev is None else prev + t
        self.weight += weight

    def reduce(self, distributed: bool) -> dict[str, float]:
        """Weighted means over every rank's sums (a collective when `distributed`), then reset.

        Names missing on some rank count as 0 there; NaN and infinities pass through unchanged.
        """
        names = sorted(self.sums)
        if distributed:
            every: list[list[str]] = [[] for _ in range(dist.get_world_size())]
            dist.all_gather_object(every, names)
            names = sorted({n for ranks in every for n in ranks})
        zero = torch.zeros((), dtype=torch.float64, device=self.device)
        weight = torch.tensor(self.weight, dtype=torch.float64, device=self.device)
        flat = torch.stack([*(self.sums.get(n, zero) for n in names), weight])
        if distributed:
            dist.all_reduce(flat)
        values = flat.tolist()
        self.sums, self.weight = {}, 0.0
        total = values[-1]
        if total == 0:
            return {}
        return {n: values[i] / total for i, n in enumerate(names)}

    def state(self) -> dict[str, Any]:
        """Plain-CPU copy for a checkpoint."""
        return {"sums": {k: v.cpu() for k, v in self.sums.items()}, "weight": self.weight}

    def load(self, state: Mapping[str, Any]) -> None:
        """Inverse of `state()`."""
        self.sums = {k: v.to(self.device) for k, v in state["sums"].items()}
        self.weight = float(state["weight"])


def is_finite(value: float) -> bool:
    """False for NaN and infinities (metrics are reported as they are, never raised on)."""
    return math.isfinite(value)
