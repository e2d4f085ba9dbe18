"""Live read routes of the web UI under `/api/v1/webui` (user identity required): progress
within a searcher step, why each waiting trial waits, why an experiment or trial failed.

- `GET /webui/experiments/{id}/live` → `{"state", "progress", "unit", "planned_length",
  "trials": [{"id", "state", "trained", "target", "batches", "waiting"}], "failures":
  [{"trial_id", "restarts", "error", "traceback"}]}`: `trials` lists the trials that have not
  ended, `failures` the ERRORED trials (the last error line of their stderr and its traceback).
- `GET /webui/progress?experiment_ids=1,2` → `{"1": progress, ...}` (live, as above).
- `GET /webui/trials/{id}/history` → `[{"kind", "time", "exit_code", "reason"}]`, each failure
  once (kind "failure").
- `GET /webui/trials/{id}/live` → one entry of `trials` above plus `"unit"`, `"progress"` and,
  for an ERRORED trial, `"error"` and `"traceback"`.

Lengths are in the searcher's unit (see `_progress`); `progress` is in [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Depends

from trainyard.errors import ConfigError
from trainyard.master.api import _reads
from trainyard.master.api._types import Id
from trainyard.master.api.deps import ApiContext, Context, current_user
from trainyard.master.db import Experiment
from trainyard.master.db import webui_reads as reads
from trainyard.webui._progress import (
    experiment_progress,
    length_unit,
    live_length,
    planned_length,
    waiting_reason,
)

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/webui", tags=["webui"], dependencies=[Depends(current_user)])
_LIVE = ("QUEUED", "RUNNING", "PAUSED", "STOPPING_CANCELED", "STOPPING_KILLED",
         "STOPPING_COMPLETED", "STOPPING_ERROR")  # fmt: skip


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _queue(ctx: ApiContext) -> tuple[dict[int, dict[str, Any]], int]:
    try:
        queue = list(ctx.service.cluster_state().get("queue") or [])
    except Exception:  # no scheduler view (a master shutting down): reasons say less
        return {}, 0
    return {int(q["trial_id"]): q for q in queue if q.get("trial_id") is not None}, len(queue)


def _trials_out(
    ctx: ApiContext, exp: Experiment, trials: Sequence[reads.TrialLength], rungs: list[int]
) -> list[dict[str, Any]]:
    config = exp.config or {}
    unit = length_unit(config)
    waiting_queued = any(t.state == "QUEUED" for t in trials)
    queue, size = _queue(ctx) if waiting_queued else ({}, 0)
    cap = (config.get("searcher") or {}).get("max_concurrent_trials") or None
    running = sum(1 for t in trials if t.state == "RUNNING")
    out = []
    for t in trials:
        trained = live_length(t, unit, config)
        out.append(
            {
                "id": t.id,
                "state": t.state,
                "trained": _number(trained),
                "target": t.target,
                "batches": t.batches,
                "progress": min(1.0, trained / t.target) if t.target else None,
                "waiting": waiting_reason(
                    t,
                    unit=unit,
                    rungs=rungs,
                    queue=queue,
                    queue_size=size,
                    running=running,
                    max_concurrent=cap,
                ),
            }
        )
    return out


def _failure(session: Any, trial_id: int, recorded: str | None = None) -> dict[str, Any]:
    """The last error of a failed trial: the traceback at the end of its stderr (its last line
    is the exception), else the error the runtime recorded, else its last stderr line, else
    its last event's reason."""
    lines = reads.last_error_lines(session, trial_id)
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback")]
    traceback = lines[starts[-1] :] if starts else lines[-20:]
    error = (traceback[-1] if starts and traceback else "") or recorded or ""
    error = error or next((line for line in reversed(traceback) if line.strip()), "")
    if not error:
        events = reads.trial_events(session, trial_id)
        error = next((e.reason for e in reversed(events) if e.reason), "")
    return {"error": error.strip(), "traceback": traceback}


@router.get("/experiments/{experiment_id}/live")
def experiment_live(ctx: Context, experiment_id: Id) -> dict[str, Any]:
    """Live progress, waiting reasons and failures of one experiment."""
    with ctx.db.session(read_only=True) as session:
        exp = _reads.get_experiment(session, experiment_id)
        config = exp.config or {}
        trials = reads.trial_lengths(session, [exp.id], states=_LIVE)
        rungs = reads.rung_lengths(session, exp.id)
        failures = [
            {"trial_id": tid, "restarts": restarts, **_failure(session, tid, recorded)}
            for tid, restarts, recorded in reads.failed_trials(session, exp.id)[:20]
        ]
        state, stored = exp.state, exp.progress
        trial_out = _trials_out(ctx, exp, trials, rungs)
    unit = length_unit(config)
    planned = planned_length((id(ctx.db), experiment_id), config)
    ended = state in ("COMPLETED", "CANCELED", "ERRORED")
    return {
        "state": state,
        "progress": stored if ended else experiment_progress(stored, trials, unit, config, planned),
        "unit": unit,
        "planned_length": planned,
        "trials": trial_out,
        "failures": failures,
    }


@router.get("/progress")
def progress(ctx: Context, experiment_ids: str) -> dict[str, float]:
    """Live progress of each listed experiment (at most 200)."""
    try:
        ids = sorted({int(x) for x in experiment_ids.split(",") if x.strip()})
    except ValueError:
        raise ConfigError("experiment_ids: write experiment ids separated by commas") from None
    if len(ids) > 200:
        raise ConfigError(f"experiment_ids: give at most 200 ids, not {len(ids)}")
    out: dict[str, float] = {}
    with ctx.db.session(read_only=True) as session:
        trials = reads.trial_lengths(session, ids, states=_LIVE)
        for eid in ids:
            exp = session.get(Experiment, eid)
            if exp is None:
                continue
            mine = [t for t in trials if t.experiment_id == eid]
            config = exp.config or {}
            planned = planned_length((id(ctx.db), eid), config) if mine else None
            unit = length_unit(config) if mine else "batches"
            out[str(eid)] = experiment_progress(exp.progress, mine, unit, config, planned)
    return out


@router.get("/trials/{trial_id}/live")
def trial_live(ctx: Context, trial_id: Id) -> dict[str, Any]:
    """Live length, progress and waiting reason (or failure) of one trial."""
    with ctx.db.session(read_only=True) as session:
        trial = _reads.get_trial(session, trial_id)
        exp = _reads.get_experiment(session, trial.experiment_id)
        (t,) = reads.trial_lengths(session, [exp.id], trial_ids=[trial_id])
        others = reads.trial_lengths(session, [exp.id], states=("RUNNING",))
        rungs = reads.rung_lengths(session, exp.id)
        (out,) = _trials_out(ctx, exp, [t, *(o for o in others if o.id != t.id)], rungs)[:1]
        if t.state == "ERRORED":
            out.update(_failure(session, trial_id, trial.error))
    out["unit"] = length_unit(exp.config or {})
    return out


@router.get("/trials/{trial_id}/history")
def trial_history(ctx: Context, trial_id: Id) -> list[dict[str, Any]]:
    """The trial's exits, failures, restarts and preemptions, oldest first, each failure once:
    the runtime records a failed run as an "exit" and a "restart" of the same allocation, shown
    here as one "failure" row with the exit code and the reason."""
    with ctx.db.session(read_only=True) as session:
        _reads.get_trial(session, trial_id)
        events = reads.trial_events(session, trial_id)
    out: list[dict[str, Any]] = []
    for e in events:
        row = {"kind": e.kind, "time": e.time, "exit_code": e.exit_code, "reason": e.reason}
        last = out[-1] if out else None
        if (
            e.kind == "restart"
            and last is not None
            and last["kind"] == "exit"
            and last["_allocation"] == e.allocation_id
        ):
            last.update(kind="failure", reason=e.reason, exit_code=e.exit_code or last["exit_code"])
            continue
        out.append({**row, "_allocation": e.allocation_id})
    return [{k: v for k, v in r.items() if k != "_allocation"} for r in out]
