"""Metric accumulation: training windows between reports, validation over a whole pass.

Nothing syncs with the device per batch: a training window keeps each batch's detached metric
tensors and sums them only when a report is due (then reduced across ranks); a window's pending
values travel in checkpoints so a resumed run reports exactly what an uninterrupted one would.
"""

from __future__ import annotations

import zlib
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
            names = _names_on_every_rank(names, self.device)
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


def _names_on_every_rank(names: list[str], device: torch.device) -> list[str]:
    """The sorted union of every rank's metric names (a collective).

    Usually every rank has the same names: one all_reduce of (d, d**2) for a digest d of the
    names tells that (all equal exactly when size * sum(d**2) == sum(d)**2); only when they
    differ are the names themselves gathered.
    """
    digest = zlib.crc32("\0".join(names).encode()) & 0xFFFFF
    check = torch.tensor([digest, digest * digest], dtype=torch.float64, device=device)
    dist.all_reduce(check)
    total, squares = (int(v) for v in check.tolist())
    if dist.get_world_size() * squares == total * total:
        return names
    every: list[list[str]] = [[] for _ in range(dist.get_world_size())]
    dist.all_gather_object(every, names)
    return sorted({n for ranks in every for n in ranks})


def _stack_scalars(tensors: list[torch.Tensor]) -> torch.Tensor:
    """One 1-D tensor of one-element tensors (0-d ones stacked as they are, the fast case)."""
    try:
        return torch.stack(tensors)
    except RuntimeError:  # shapes differ, e.g. () and (1,)
        return torch.stack([t.reshape(()) for t in tensors])


class TrainingWindow:
    """The training metrics of the batches since the last report, one rank's share.

    `add` is on the hot path: it only keeps the detached values (after checking the first
    batch's metrics once). `reduce` averages per batch over the window and over ranks.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.values: dict[str, list[Any]] = {}
        self.batches = 0
        self._checked = False

    def add(self, metrics: Mapping[str, Any]) -> None:
        """Keep one batch's metrics (tensors that require grad detached, others as they are)."""
        values = self.values
        if not self._checked:
            for name, value in metrics.items():
                _as_tensor(name, value, self.device)
                values.setdefault(name, [])
            self._checked = True
        for name, value in metrics.items():
            if isinstance(value, torch.Tensor) and value.requires_grad:
                value = value.detach()
            kept = values.get(name)
            if kept is None:
                values[name] = [value]
            else:
                kept.append(value)
        self.batches += 1

    def _sums(self) -> MetricSums:
        sums = MetricSums(self.device)
        for name, kept in self.values.items():
            tensors = [v for v in kept if isinstance(v, torch.Tensor)]
            floats = sum(float(v) for v in kept if not isinstance(v, torch.Tensor))
            total = torch.tensor(floats, dtype=torch.float64, device=self.device)
            if tensors:
                total = total + _stack_scalars(tensors).to(torch.float64).sum()
            sums.sums[name] = total
        sums.weight = float(self.batches)
        return sums

    def reduce(self, distributed: bool) -> dict[str, float]:
        """Per-batch means over the window and every rank (a collective when `distributed`);
        then the window is empty."""
        sums = self._sums()
        self.values, self.batches = {}, 0
        return sums.reduce(distributed)

    def state(self) -> dict[str, Any]:
        """Plain-CPU copy for a checkpoint."""
        return {
            "values": {
                k: [v.cpu() if isinstance(v, torch.Tensor) else v for v in vs]
                for k, vs in self.values.items()
            },
            "batches": self.batches,
        }

    def load(self, state: Mapping[str, Any]) -> None:
        """Inverse of `state()`."""
        self.values = {
            k: [v.to(self.device) if isinstance(v, torch.Tensor) else v for v in vs]
            for k, vs in state["values"].items()
        }
        self.batches = int(state["batches"])
