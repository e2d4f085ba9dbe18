"""From what the master stores to `RunRecord`s: one allocation row with its trial and experiment.

Pure: rows in (ORM objects or plain mappings with the column names of `trainyard.master.db`'s
`allocations`, `trials` and `experiments` tables), a record out. The master does not store a
per-allocation length or peak memory; a caller that knows them (from the allocation's
checkpoints' `steps_completed`, or from metrics) passes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trainyard.predict._features import RunRecord


def _get(row: Any, name: str, default: Any = None) -> Any:
    if isinstance(row, Mapping):
        return row.get(name, default)
    return getattr(row, name, default)


def record_from_rows(
    allocation: Any,
    trial: Any,
    experiment: Any,
    *,
    user: str | None = None,
    length: float | None = None,
    peak_memory: float | None = None,
) -> RunRecord:
    """The record of one allocation. `user` defaults to the experiment's `owner_id` as text;
    the context is the resource pool and the experiment config's entrypoint."""
    config = _get(experiment, "config") or {}
    entrypoint = config.get("entrypoint") if isinstance(config, Mapping) else None
    context: dict[str, Any] = {"pool": _get(allocation, "resource_pool", "default")}
    if entrypoint is not None:
        context["entrypoint"] = str(entrypoint)
    return RunRecord(
        user=user if user is not None else str(_get(experiment, "owner_id")),
        experiment_id=int(_get(trial, "experiment_id")),
        slots=int(_get(allocation, "slots", 1)),
        queued_at=float(_get(allocation, "created_at")),
        hparams=dict(_get(trial, "hparams") or {}),
        context=context,
        length=length,
        started_at=_float_or_none(_get(allocation, "started_at")),
        ended_at=_float_or_none(_get(allocation, "ended_at")),
        peak_memory=peak_memory,
    )


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)
