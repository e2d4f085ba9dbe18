"""Determined 0.38's search protocol: validations that carry the searcher's `time_metric`.

In a `time_metric` search the trial trains as long as its script decides and reports validation
metrics that include the time metric (`{"x": 3.2, "batches": 40}`). Each such validation is fed to
the searcher as `on_validation_completed(request_id, metric, int(time))`; when the searcher stops
the trial (`Stop`), the shell asks its allocation to stop, so the trial's `should_preempt()` turns
true, it checkpoints and exits 0, and it ends COMPLETED. The same searchers keep working for
scripts that use `searcher.operations()` (0.37): a validation at or past an operation's length
completes it, and `report_completed` for a length already fed is ignored.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from trainyard.master.db import trials as trial_repo
from trainyard.master.runtime._context import Runtime
from trainyard.master.states import TrialState
from trainyard.searcher import Operation, Searcher

__all__ = ["feed_time_metric"]


def feed_time_metric(rt: Runtime, trial_id: int, reports: Sequence[Mapping[str, Any]]) -> None:
    """Feed the validation `reports` of trial `trial_id` that hold both the searcher's metric and
    its `time_metric` to the searcher, in time order; a no-op for searches without a time metric.
    A report for a time already fed (a resend, or a restarted trial) is ignored."""
    eid, time_metric, metric = _searcher_of(rt, trial_id)
    if time_metric is None:
        return
    points = sorted(
        point
        for report in reports
        if (point := _point(report.get("metrics") or {}, time_metric, metric))
    )
    if not points:
        return
    with rt.shell.unit(eid) as session:
        trial = trial_repo.get_trial(session, trial_id, for_update=True)
        for time, value in points:
            ended = TrialState(trial.state).is_terminal or trial.exited_reason is not None
            if ended or trial.stop_requested or time <= trial.completed_length:
                continue
            rt.shell.complete_targets(session, eid, trial, time)
            trial.completed_length = time
            rt.shell.event(session, eid, _validated(trial.request_id, value, time))
    rt.wake.set()


def _validated(rid: int, metric: float, time: int) -> Callable[[Searcher], list[Operation]]:
    return lambda searcher: searcher.on_validation_completed(rid, metric, time)


_SEEN: weakref.WeakKeyDictionary[Any, dict[int, tuple[int, str | None, str]]] = (
    weakref.WeakKeyDictionary()
)
"""Per database: trial id -> (experiment id, time metric, searcher metric). A trial's experiment
and searcher config never change, so validation ingest reads them once per trial."""


def _searcher_of(rt: Runtime, trial_id: int) -> tuple[int, str | None, str]:
    seen = _SEEN.setdefault(rt.db, {})
    known = seen.get(trial_id)
    if known is None:
        with rt.db.session(read_only=True) as session:
            eid = trial_repo.get_trial(session, trial_id).experiment_id
            searcher = rt.config(session, eid).searcher
        if len(seen) > 100_000:
            seen.clear()
        known = seen[trial_id] = (eid, searcher.time_metric, searcher.metric)
    return known


def _point(metrics: Mapping[str, Any], time_metric: str, metric: str) -> tuple[int, float] | None:
    time, value = _number(metrics.get(time_metric)), _number(metrics.get(metric))
    if time is None or value is None or not math.isfinite(time) or time < 0:
        return None
    return int(time), value


def _number(value: Any) -> float | None:
    """A metric value as sent on the wire: a number, or "NaN"/"Infinity"/"-Infinity"."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
        return float(value.replace("Infinity", "inf"))
    return None
