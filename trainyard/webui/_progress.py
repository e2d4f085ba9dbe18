"""Progress that moves within a searcher step, in the searcher's own length unit, and the
reason each waiting trial waits.

The searcher counts a length once its validation arrives (`Trial.completed_length`), so a trial
at batch 181 of a 240-batch step used to show 0. Here a trial's trained length is the greater of
that and its latest reported step (`Trial.total_batches`) converted to the searcher's unit:
batches as they are; records with the trial's `global_batch_size` hyperparameter; epochs with
that and the config's `records_per_epoch` (an epoch is `records_per_epoch // global_batch_size`
batches, as the PyTorch trainer counts). A unit that cannot be converted (a `time_metric`, or
epochs without those numbers) keeps the searcher's length.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trainyard.config import flatten_hparams, load_experiment_config, searcher_length_unit
from trainyard.master.db.webui_reads import TrialLength

__all__ = [
    "MAX_PREVIEWED_TRIALS",
    "Plan",
    "experiment_progress",
    "length_unit",
    "live_length",
    "plan_pending",
    "planned_length",
    "search_plan",
    "waiting_reason",
]

_planned: dict[tuple[int, int], Plan | None] = {}
_pending: set[tuple[int, int]] = set()
_planned_lock = threading.Lock()


def length_unit(config: Mapping[str, Any]) -> str:
    """The unit of the searcher's lengths (`batches`, `records`, `epochs` or a time metric's
    name); `batches` when the stored config does not load or names none."""
    try:
        return searcher_length_unit(load_experiment_config(dict(config))) or "batches"
    except Exception:  # an old or foreign stored config: lengths are shown as they are
        return "batches"


def _per_batch(unit: str, config: Mapping[str, Any], hparams: Mapping[str, Any]) -> float | None:
    """Searcher units per reported batch, or None when they cannot be converted."""
    if unit == "batches":
        return 1.0
    size = flatten_hparams(dict(hparams)).get("global_batch_size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        return None
    if unit == "records":
        return float(size)
    per_epoch = config.get("records_per_epoch")
    if unit == "epochs" and isinstance(per_epoch, int) and per_epoch > 0:
        return 1.0 / max(1, per_epoch // size)
    return None


def live_length(t: TrialLength, unit: str, config: Mapping[str, Any]) -> float:
    """The trial's trained length in `unit`: its searcher length, or more when its latest
    reported step is further (a whole number for batches and records)."""
    per_batch = _per_batch(unit, config, t.hparams)
    if per_batch is None:
        return float(t.completed)
    reported = t.batches * per_batch
    reported = float(int(reported)) if unit in ("batches", "records") else round(reported, 2)
    return max(float(t.completed), reported)


@dataclass(frozen=True)
class Plan:
    """What `preview_search` plans: trials, total length (searcher unit) and, per rung length
    (brackets merged), how many trials reach it."""

    trials: int
    length: int
    reaching: dict[int, int]


MAX_PREVIEWED_TRIALS = 500
"""Searches of more trials get no plan: previewing one simulates every trial (seconds of the
master's CPU at a few thousand), and with that many trials the searcher's own progress moves
smoothly anyway."""


def search_plan(key: tuple[int, int], config: Mapping[str, Any]) -> Plan | None:
    """The search's plan, or None while it is being computed (in a background thread, once per
    `key`: the store and the experiment, whose config never changes), and for good when the
    search cannot be previewed (a custom searcher) or has more than `MAX_PREVIEWED_TRIALS`.
    Never blocks its caller on the preview."""
    with _planned_lock:
        if key in _planned:
            return _planned[key]
        _planned[key] = None  # computing; callers see "no plan" until it is there
        max_trials = (config.get("searcher") or {}).get("max_trials")
        if isinstance(max_trials, int) and max_trials > MAX_PREVIEWED_TRIALS:
            return None
        _pending.add(key)
    threading.Thread(target=_preview, args=(key, dict(config)), daemon=True).start()
    return None


def plan_pending(key: tuple[int, int]) -> bool:
    """Whether `search_plan(key, ...)` is still being computed (ask again shortly)."""
    with _planned_lock:
        return key in _pending


def _preview(key: tuple[int, int], config: dict[str, Any]) -> None:
    from trainyard.searcher import preview_search

    plan: Plan | None = None
    try:
        preview = preview_search(config)
        reaching: dict[int, int] = {}
        for bracket in preview.brackets:
            for rung in bracket.rungs:
                reaching[rung.length] = reaching.get(rung.length, 0) + rung.trials_reaching
        plan = Plan(preview.total_trials, int(preview.total_length), reaching)
    except Exception:  # custom searchers and foreign configs have no preview
        plan = None
    finally:
        with _planned_lock:
            _planned[key] = plan
            _pending.discard(key)


def planned_length(key: tuple[int, int], config: Mapping[str, Any]) -> int | None:
    """The whole search's planned length in the searcher's unit (see `search_plan`)."""
    plan = search_plan(key, config)
    return plan.length if plan is not None and plan.length > 0 else None


def experiment_progress(
    stored: float,
    trials: Sequence[TrialLength],
    unit: str,
    config: Mapping[str, Any],
    planned: int | None,
) -> float:
    """The searcher's progress plus the work trials did since their last validation, as a
    share of the planned length; `stored` as it is when nothing is planned."""
    if not planned:
        return stored
    extra = 0.0
    for t in trials:
        if t.closed or t.target is None or t.target <= t.completed:
            continue
        extra += max(0.0, min(live_length(t, unit, config), t.target) - t.completed)
    return min(1.0, stored + extra / planned)


def waiting_reason(
    t: TrialLength,
    *,
    unit: str,
    rungs: Sequence[int],
    queue: Mapping[int, Mapping[str, Any]],
    queue_size: int,
    running: int,
    max_concurrent: int | None,
) -> str | None:
    """Why a QUEUED or PAUSED trial is not running, in one line; None for any other state.

    `queue` is the scheduler's queue by trial id (position, priority), `rungs` the lengths the
    experiment's trials stopped at so far (a parked trial's rung is its place among them)."""
    if t.state == "PAUSED":
        return "paused with its experiment: activate the experiment to resume it"
    if t.state != "QUEUED":
        return None
    if not t.closed and (t.target is None or t.target <= t.completed) and t.completed > 0:
        k = 1 + sum(1 for r in rungs if r < t.completed)
        return (
            f"parked at rung {k} ({t.completed:,} {unit}): waiting for the searcher to promote it"
        )
    if max_concurrent is not None and running >= max_concurrent:
        return (
            f"held by max_concurrent_trials: {running} of {max_concurrent} trials of this "
            "experiment are running"
        )
    entry = queue.get(t.id)
    if entry is not None:
        return (
            f"waiting for a slot: position {entry['position']} of {queue_size} in the queue, "
            f"priority {entry['priority']}"
        )
    return "waiting for the scheduler"
