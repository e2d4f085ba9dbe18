"""The model-based sampler: a multivariate, multi-fidelity tree-structured Parzen estimator.

`TPESampler` (Bergstra et al. 2011; multivariate as Falkner et al.'s BOHB, 2018) draws a new
configuration where good results are dense and bad ones sparse:

- **Native types.** Every non-constant hyperparameter is one axis: `double` on its range, `log`
  on its exponent, `int` on its integers (the kernel is a normal rounded to the nearest integer,
  so the density is a probability mass over the integers and every candidate is an integer),
  `categorical` on its choices (a kernel that keeps the observed choice with probability
  `1 - b` and spreads `b` evenly). Nothing is relaxed to a continuous value and rounded later.
- **Multivariate.** Each observation is one kernel over all axes at once (a product kernel), so
  interactions between hyperparameters (this learning rate with that batch size) are modelled.
  Bandwidths shrink with the number of observations `n` as `0.2 * n**(-1/(d+4))` of the axis
  (Scott's rule shape), and each density has a uniform prior component of weight `prior_weight`.
- **Multi-fidelity (BOHB-style).** Results are grouped by length (lengths within a factor of
  sqrt(2) share a group, so rung lengths and time-driven lengths both group sensibly). Every group
  with at least `n_min` configurations is split into the best `gamma` fraction ("good") and the
  rest ("bad"). The longest such group weighs 1, each shorter one half the one above, and inside
  a group each good (bad) point weighs `weight * n_good_top / n_good` (`n_bad_top / n_bad`), so
  the longest trustworthy results lead and shorter ones refine.
- **Choosing.** `n_candidates` points are drawn from the good density; the one with the highest
  log good/bad density ratio is taken. Until some group has `n_min` results, and for a
  `random_fraction` of draws after that, it draws uniformly.
- **No repeats on finite spaces.** When every hyperparameter is categorical, int or constant, the
  space has `N` configurations and no configuration is drawn twice before all `N` have been drawn
  once (then a new round starts). Spaces larger than `max_seen` configurations avoid repeating
  the last `max_seen` draws.

Pure and replayable: `sample` draws only from the generator it is given, `observe` only
records, and `dump`/`load` carry the whole state as JSON, so a search restored from a snapshot
continues exactly as the uninterrupted one.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from trainyard.searcher._space import HParamSpace

Array = np.ndarray[Any, Any]
_ENUMERATE_LIMIT = 200_000
"""A finite space up to this size is enumerated when random tries fail to find a fresh point."""


def gamma_of(n: int, fraction: float) -> int:
    """How many of `n` results count as good: `ceil(fraction * n)`, at least 1, at most 25."""
    return min(max(1, math.ceil(fraction * n)), 25)


def length_group(length: int) -> int:
    """The fidelity group of a length: lengths within a factor of sqrt(2) share one."""
    return math.floor(2.0 * math.log2(max(int(length), 1)))


class _Axes:
    """A space's non-constant hyperparameters as numeric axes (see the module docstring)."""

    def __init__(self, space: HParamSpace) -> None:
        self.space = space
        self.params = [p for p in space.params if p.type != "const"]
        self.kind: list[str] = []
        self.lo = np.zeros(len(self.params))
        self.hi = np.zeros(len(self.params))
        self.card: list[int] = []
        for i, p in enumerate(self.params):
            if p.type == "categorical":
                self.kind.append("cat")
                self.card.append(len(p.vals))
                self.lo[i], self.hi[i] = 0.0, float(len(p.vals) - 1)
            elif p.type == "int":
                lo, hi = int(p.minval), int(p.maxval)  # the values `Param.sample` draws
                self.kind.append("int")
                self.card.append(max(hi - lo + 1, 1))
                self.lo[i], self.hi[i] = float(lo), float(max(hi, lo))
            else:
                self.kind.append("num")
                self.card.append(0)
                self.lo[i], self.hi[i] = float(p.minval), float(p.maxval)
        finite = all(c > 0 for c in self.card)
        self.size: int | None = math.prod(self.card) if finite else None

    @property
    def dims(self) -> int:
        return len(self.params)

    def encode(self, values: Sequence[Any]) -> Array | None:
        """The axis point of `values` (one per `space.params`), None if one is out of the space."""
        by_keys = dict(zip([p.keys for p in self.space.params], values, strict=False))
        out = np.zeros(self.dims)
        for i, p in enumerate(self.params):
            v = by_keys.get(p.keys)
            if p.type == "categorical":
                if v not in p.vals:
                    return None
                out[i] = float(p.vals.index(v))
            elif not isinstance(v, int | float) or isinstance(v, bool):
                return None
            elif p.type == "log":
                out[i] = math.log(max(float(v), 1e-300)) / math.log(p.base)
            else:
                out[i] = float(v)
        return out

    def decode(self, point: Array) -> dict[str, Any]:
        """The nested hyperparameters of an axis point (constants included)."""
        flat: dict[tuple[str, ...], Any] = {}
        axis = {p.keys: i for i, p in enumerate(self.params)}
        for p in self.space.params:
            if p.type == "const":
                flat[p.keys] = copy.deepcopy(p.val)
                continue
            x = float(point[axis[p.keys]])
            if p.type == "categorical":
                flat[p.keys] = copy.deepcopy(p.vals[round(x)])
            elif p.type == "int":
                flat[p.keys] = round(x)
            elif p.type == "log":
                flat[p.keys] = float(p.base ** min(max(x, p.minval), p.maxval))
            else:
                flat[p.keys] = float(min(max(x, p.minval), p.maxval))
        return self.space.build(flat)

    def index(self, point: Array) -> int:
        """A finite space's configuration number of a point (mixed radix over the axes)."""
        out = 0
        for i, c in enumerate(self.card):
            out = out * c + round(point[i] - self.lo[i])
        return out

    def point_of(self, index: int) -> Array:
        """The inverse of `index`."""
        out = np.zeros(self.dims)
        for i in reversed(range(self.dims)):
            index, r = divmod(index, self.card[i])
            out[i] = self.lo[i] + r
        return out

    def uniform(self, rng: np.random.Generator, count: int) -> Array:
        """`count` points drawn uniformly (ints and choices uniformly over their values)."""
        out = np.zeros((count, self.dims))
        for i, kind in enumerate(self.kind):
            if kind == "num":
                out[:, i] = rng.uniform(self.lo[i], self.hi[i], size=count)
            else:
                out[:, i] = self.lo[i] + rng.integers(0, self.card[i], size=count)
        return out


class _Density:
    """A weighted product-kernel mixture over the axes plus a uniform prior component."""

    def __init__(self, axes: _Axes, points: Array, weights: Array, prior_weight: float) -> None:
        self.axes = axes
        n, d = points.shape
        factor = 0.2 * max(n, 1) ** (-1.0 / (d + 4))
        span = np.maximum(axes.hi - axes.lo, 1e-12)
        self.sigma = np.where(np.array(axes.kind) == "int", np.maximum(span * factor, 0.5), span)
        self.sigma = np.where(np.array(axes.kind) == "num", span * factor, self.sigma)
        self.cat_b = min(1.0, 2.0 * factor)
        self.points = points
        total = float(weights.sum()) + prior_weight
        self.weights = weights / total
        self.prior = prior_weight / total

    def draw(self, rng: np.random.Generator, count: int) -> Array:
        """`count` points from the mixture."""
        n = len(self.points)
        probs = np.append(self.weights, self.prior)
        probs = probs / probs.sum()
        picks = rng.choice(n + 1, size=count, p=probs)
        out = self.axes.uniform(rng, count)
        for row, c in enumerate(picks.tolist()):
            if c == n:
                continue  # the prior: keep the uniform draw
            for i, kind in enumerate(self.axes.kind):
                out[row, i] = self._draw_axis(rng, i, kind, float(self.points[c, i]))
        return out

    def _draw_axis(self, rng: np.random.Generator, i: int, kind: str, mu: float) -> float:
        lo, hi = self.axes.lo[i], self.axes.hi[i]
        if kind == "cat":
            k = self.axes.card[i]
            if k > 1 and rng.random() < self.cat_b * (k - 1) / k:
                other = int(rng.integers(0, k - 1))
                return float(other + (other >= round(mu)))
            return mu
        edge = 0.5 if kind == "int" else 0.0
        x = mu
        for _ in range(64):
            x = float(rng.normal(mu, self.sigma[i]))
            if lo - edge <= x <= hi + edge:
                break
        x = min(max(x, lo - edge), hi + edge)
        return float(min(max(round(x), lo), hi)) if kind == "int" else x

    def log_pdf(self, xs: Array) -> Array:
        """Log density (mass for ints and choices) of each row of `xs`."""
        log_k = np.zeros((len(xs), len(self.points)))
        log_prior = np.zeros(len(xs))
        for i, kind in enumerate(self.axes.kind):
            x, mu = xs[:, i][:, None], self.points[:, i][None, :]
            lo, hi, s = self.axes.lo[i], self.axes.hi[i], self.sigma[i]
            if kind == "cat":
                k = self.axes.card[i]
                same = np.abs(x - mu) < 0.5
                keep = 1.0 - self.cat_b * (k - 1) / k
                log_k += np.log(np.where(same, keep, self.cat_b / k if k > 1 else 1.0))
                log_prior -= math.log(k)
            elif kind == "int":
                mass = _cdf((hi + 0.5 - mu) / s) - _cdf((lo - 0.5 - mu) / s)
                p = _cdf((x + 0.5 - mu) / s) - _cdf((x - 0.5 - mu) / s)
                log_k += np.log(np.maximum(p / np.maximum(mass, 1e-300), 1e-300))
                log_prior -= math.log(self.axes.card[i])
            else:
                mass = _cdf((hi - mu) / s) - _cdf((lo - mu) / s)
                z = (x - mu) / s
                log_k += -0.5 * z * z - math.log(s * math.sqrt(2 * math.pi))
                log_k -= np.log(np.maximum(mass, 1e-300))
                log_prior -= math.log(max(hi - lo, 1e-12))
        terms = np.concatenate(
            [
                log_k + np.log(np.maximum(self.weights, 1e-300))[None, :],
                (log_prior + math.log(max(self.prior, 1e-300)))[:, None],
            ],
            axis=1,
        )
        top = terms.max(axis=1)
        result: Array = top + np.log(np.exp(terms - top[:, None]).sum(axis=1))
        return result


def _cdf(z: Array) -> Array:
    """The standard normal CDF (erf by Abramowitz & Stegun 7.1.26, error < 1.5e-7)."""
    x = np.abs(z) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    erf = 1.0 - poly * np.exp(-x * x)
    result: Array = 0.5 * (1.0 + np.sign(z) * erf)
    return result
