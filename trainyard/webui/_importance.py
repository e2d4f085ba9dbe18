"""Hyperparameter importance: a random forest on (flattened hparams → final searcher metric).

Importances are the forest's impurity-based feature importances, normalised to sum to 1.
Categorical values are label-encoded (a forest splits on them well enough for a ranking).
Results are cached per experiment until its scores change, so a page that polls does not refit
until the search has moved on; concurrent requests share one fit.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from trainyard.webui._cache import VersionedCache

__all__ = ["MIN_TRIALS", "hparam_importance", "importance_cached"]

MIN_TRIALS = 5
"""Fewer trials with a metric than this: no estimate (the answer would be noise)."""
_MAX_ROWS = 1000
_cache: VersionedCache[dict[str, float]] = VersionedCache(capacity=256)


def hparam_importance(
    names: Sequence[str], rows: Sequence[dict[str, Any]], metrics: Sequence[float]
) -> dict[str, float]:
    """{hparam name: importance in [0, 1]} summing to 1, or {} when it cannot be estimated.

    `rows[i]` maps hparam names to values of trial i, `metrics[i]` is its final metric. Hparams
    that never vary score 0. At most 1,000 trials (an even sample) are used, so the fit stays
    around a second even for a 10,000-trial search.
    """
    if len(rows) < MIN_TRIALS or len(rows) != len(metrics) or not names:
        return {}
    if len(rows) > _MAX_ROWS:
        picks = np.linspace(0, len(rows) - 1, _MAX_ROWS).round().astype(int)
        rows = [rows[i] for i in picks]
        metrics = [metrics[i] for i in picks]
    features = np.column_stack([_encode([r.get(n) for r in rows]) for n in names])
    varying = [j for j in range(len(names)) if np.ptp(features[:, j]) > 0]
    if not varying:
        return {}
    from sklearn.ensemble import RandomForestRegressor  # deferred: a slow import

    forest = RandomForestRegressor(
        n_estimators=32, max_depth=10, min_samples_leaf=2, random_state=0, n_jobs=1
    ).fit(features[:, varying], np.asarray(metrics, dtype=float))
    scores = dict.fromkeys(names, 0.0)
    for j, score in zip(varying, forest.feature_importances_, strict=True):
        scores[names[j]] = float(score)
    total = sum(scores.values())
    return {n: s / total for n, s in scores.items()} if total > 0 else {}


def importance_cached(
    key: Hashable,
    version: str,
    names: Sequence[str],
    rows: Sequence[dict[str, Any]],
    metrics: Sequence[float],
) -> dict[str, float]:
    """`hparam_importance`, memoised under `key` (e.g. database and experiment) until `version`
    (e.g. the scored trials' count and sum) changes. Concurrent callers share one fit."""
    return _cache.get((key, tuple(names)), version, lambda: hparam_importance(names, rows, metrics))


def _encode(values: list[Any]) -> np.ndarray:
    numeric = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(numeric) == len(values):
        return np.asarray(values, dtype=float)
    codes: dict[str, int] = {}
    for v in sorted({repr(v) for v in values}):
        codes[v] = len(codes)
    return np.asarray([codes[repr(v)] for v in values], dtype=float)
