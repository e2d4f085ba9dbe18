"""Data of the HPO page, bounded so a 10,000-trial search draws quickly.

- `hpo_trials` reads each trial's flattened hparams and final searcher metric in one query
  (no metric rows), which is all the scatter, parallel coordinates, heat map and importance need.
- `sample_trials` keeps at most `max_trials` of the scored trials: the best half always, the
  other half a seeded random draw of the rest, so the charts and their note are stable between
  polls and the best trials are always among those drawn.
- `curve_traces` packs every trial's downsampled curve into one `scattergl` trace per group
  (the rung the trial reached, or its state), trials separated by `null`, with each point's
  trial id alongside for hover and for counting.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from trainyard.config import flatten_hparams
from trainyard.master.db import Trial

__all__ = ["HpoTrial", "curve_traces", "hpo_trials", "sample_trials"]

MAX_GROUPS = 8
"""Curves are grouped by the length trials reached when there are at most this many lengths."""


@dataclass(frozen=True)
class HpoTrial:
    """One trial as the HPO charts see it; `metric` is None (no score yet) or finite."""

    id: int
    state: str
    trained_length: int
    metric: float | None
    hp: dict[str, Any]
    started_at: float | None = None
    ended_at: float | None = None


def hpo_trials(session: Session, experiment_id: int) -> list[HpoTrial]:
    """Every trial of the experiment, oldest first."""
    rows = session.execute(
        select(
            Trial.id,
            Trial.state,
            Trial.completed_length,
            Trial.latest_validation,
            Trial.hparams,
            Trial.started_at,
            Trial.ended_at,
        )
        .where(Trial.experiment_id == experiment_id)
        .order_by(Trial.id)
    ).all()
    return [
        HpoTrial(
            tid,
            state,
            max(length, 0),
            last if last is not None and math.isfinite(last) else None,
            flatten_hparams(hparams or {}),
            started,
            ended,
        )
        for tid, state, length, last, hparams, started, ended in rows
    ]


def sample_trials(
    trials: Sequence[HpoTrial], *, max_trials: int, smaller_is_better: bool, seed: int
) -> tuple[list[HpoTrial], str]:
    """(the scored trials to draw, oldest first; a note saying what was left out, "" if nothing).

    Past `max_trials` scored trials: the best `max_trials // 2` and a random draw (seeded by
    `seed`) of the same number from the rest.
    """
    scored = [t for t in trials if t.metric is not None]
    if len(scored) <= max_trials:
        return scored, ""
    sign = 1.0 if smaller_is_better else -1.0
    ranked = sorted(scored, key=lambda t: (sign * (t.metric or 0.0), t.id))
    n_best = max_trials // 2
    rest = ranked[n_best:]
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(rest), size=max_trials - n_best, replace=False)
    shown = sorted([*ranked[:n_best], *(rest[int(i)] for i in picks)], key=lambda t: t.id)
    note = (
        f"showing {len(shown):,} of {len(scored):,} trials: "
        f"the best {n_best:,} and a random {len(shown) - n_best:,}"
    )
    return shown, note


def curve_traces(
    trials: Sequence[HpoTrial], curves: Mapping[int, Sequence[tuple[int, float]]]
) -> list[dict[str, Any]]:
    """[{"name", "x", "y", "trial_ids"}]: one trace per group, trials separated by `None`.

    `trial_ids[i]` is the trial of point i (None at separators), so a trace holds exactly as many
    curves as it has distinct ids. Groups are "reached <length>" when the trials reached at most
    `MAX_GROUPS` distinct lengths (an ASHA search's rungs), else the trial states.
    """
    drawn = [t for t in trials if curves.get(t.id)]
    lengths = {t.trained_length for t in drawn}
    by_length = len(lengths) <= MAX_GROUPS

    def group(t: HpoTrial) -> tuple[Any, str]:
        if by_length and t.trained_length > 0:
            return ((0, t.trained_length), f"reached {t.trained_length:,}")
        # Not validated at any searcher length yet ("reached 0" would read as no training).
        return ((1, t.state), t.state.lower())

    traces: dict[tuple[Any, str], dict[str, list[Any]]] = {}
    for t in drawn:
        trace = traces.setdefault(group(t), {"x": [], "y": [], "trial_ids": []})
        x, y, ids = trace["x"], trace["y"], trace["trial_ids"]
        if x:
            x.append(None)
            y.append(None)
            ids.append(None)
        for steps, value in curves[t.id]:
            x.append(steps)
            y.append(_json_number(value))
            ids.append(t.id)
    return [{"name": name, **trace} for (_key, name), trace in sorted(traces.items())]


def _json_number(value: float) -> float | str:
    """±inf as the strings the REST API uses ("Infinity"), so the JSON stays standard."""
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value
