"""An ensemble regressor with a stated uncertainty: nearest neighbours + gradient boosting.

Both members learn `log(target)` from standardized features: k-nearest neighbours (Karnak-style:
similar past jobs behave alike) and gradient-boosted trees (which also extrapolate along trends,
say a longer length). Their predictions are averaged in log space with weights inverse to each
member's out-of-fold squared error, so a member that predicts badly on this history counts less.
The uncertainty is empirical: the 10th and 90th percentiles of the ensemble's out-of-fold log
errors give an 80% interval `[estimate * exp(q10), estimate * exp(q90)]`. The folds are
contiguous blocks of rows, so rows should come in time order (then each fold is predicted
without its neighbours in time, like new work).

Deterministic: the same rows give the same model (fixed fold split and random state).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.neighbors import KNeighborsRegressor

Array = np.ndarray[Any, Any]
MIN_ROWS = 5
"""Fewer rows than this: no model (every prediction is None)."""


@dataclass(frozen=True)
class Estimate:
    """A predicted value with an 80% interval `[low, high]` (same unit as the value)."""

    value: float
    low: float
    high: float

    @property
    def spread(self) -> float:
        """Half the interval's width: the "±" to show next to the value."""
        return (self.high - self.low) / 2.0

    def scaled(self, factor: float) -> Estimate:
        """The same estimate multiplied by `factor` (>= 0)."""
        return Estimate(self.value * factor, self.low * factor, self.high * factor)


class Ensemble:
    """Fit on rows `x` (2-D) and positive targets `y`; see the module docstring."""

    def __init__(self, x: Array, y: Array, *, neighbours: int = 5, folds: int = 5) -> None:
        if len(x) < MIN_ROWS:
            raise ValueError(f"an ensemble needs at least {MIN_ROWS} rows, got {len(x)}")
        self.mean = x.mean(axis=0)
        self.scale = np.where(x.std(axis=0) > 1e-12, x.std(axis=0), 1.0)
        z = (x - self.mean) / self.scale
        target = np.log(np.maximum(y, 1e-9))
        self.neighbours = neighbours
        oof = np.zeros((len(z), 2))
        # contiguous blocks (rows come in time order): a fold never learns from its neighbours
        # (the other trials of the same experiment), so the errors are those of new work
        fold_of = np.arange(len(z)) * min(folds, len(z)) // len(z)
        for f in np.unique(fold_of):
            test, train = fold_of == f, fold_of != f
            for m, member in enumerate(self._members(int(train.sum()))):
                member.fit(z[train], target[train])
                oof[test, m] = member.predict(z[test])
        errors = ((oof - target[:, None]) ** 2).mean(axis=0)
        self.weights = (1.0 / np.maximum(errors, 1e-9)) / (1.0 / np.maximum(errors, 1e-9)).sum()
        residual = target - oof @ self.weights
        self.q10, self.q90 = (float(v) for v in np.quantile(residual, [0.1, 0.9]))
        self.members = self._members(len(z))
        for member in self.members:
            member.fit(z, target)

    def _members(self, rows: int) -> list[Any]:
        return [
            KNeighborsRegressor(n_neighbors=max(1, min(self.neighbours, rows)), weights="distance"),
            GradientBoostingRegressor(
                n_estimators=80, max_depth=3, learning_rate=0.1, subsample=1.0, random_state=0
            ),
        ]

    def member_log_predict(self, x: Array) -> Array:
        """Each member's log-target for each row of `x` (rows x members: kNN, boosting)."""
        z = (np.atleast_2d(x) - self.mean) / self.scale
        return np.stack([member.predict(z) for member in self.members], axis=1)

    def log_predict(self, x: Array) -> Array:
        """The ensemble's log-target for each row of `x`."""
        result: Array = self.member_log_predict(x) @ self.weights
        return result

    def estimate(self, row: Array) -> Estimate:
        """The estimate for one row, with its 80% interval."""
        log_value = float(self.log_predict(row)[0])
        return Estimate(
            math.exp(log_value), math.exp(log_value + self.q10), math.exp(log_value + self.q90)
        )
