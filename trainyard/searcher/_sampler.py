"""How a search draws a new trial's hyperparameters: uniformly, or by TPE from what it has seen.

A sampler is pure, like the searchers: `sample(space, rng)` uses no randomness but `rng`, and
`observe(...)` only records. `TPESampler` is a univariate tree-structured Parzen estimator
(Bergstra et al., 2011; the shape of Optuna's default sampler):

- Multi-fidelity as Optuna ranks pruned trials: each configuration counts once, by the longest
  length it reached and its score there; configurations that went further rank first, then by
  score. The best `gamma(n)` of the `n` configurations are "good", the rest "bad".
- For each hyperparameter it fits one density to the good values and one to the bad (each with
  a broad prior: a mid-range normal for numbers, a uniform share for categories), draws
  `n_candidates` values from the good density and keeps the one where good/bad is highest.
- Until `n_startup` configurations have results, and for a `random_fraction` of draws after
  that (exploration, as BOHB does), it draws uniformly.
- It keeps the `max_kept` most recently seen configurations, so a long search's snapshot and
  sampling cost stay bounded.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from trainyard.searcher._space import HParamSpace, Param


class HParamSampler(Protocol):
    """Draws hyperparameters; `learns` says whether it wants `observe` calls."""

    learns: bool

    def sample(self, space: HParamSpace, rng: np.random.Generator) -> dict[str, Any]:
        """A point of `space` (nested dict), drawing only from `rng`."""
        ...

    def observe(self, values: Sequence[Any], length: int, score: float) -> None:
        """A trial with `values` (one per `space.params`, in order) reached `score` (smaller is
        better, `inf` worst) after `length`."""
        ...

    def dump(self) -> dict[str, Any]:
        """JSON-safe state."""
        ...

    def load(self, data: Mapping[str, Any]) -> None:
        """Replace the state with `dump` output."""
        ...


class UniformSampler:
    """Every hyperparameter drawn independently and uniformly (`HParamSpace.sample`)."""

    learns = False

    def sample(self, space: HParamSpace, rng: np.random.Generator) -> dict[str, Any]:
        return space.sample(rng)

    def observe(self, values: Sequence[Any], length: int, score: float) -> None:
        return None

    def dump(self) -> dict[str, Any]:
        return {}

    def load(self, data: Mapping[str, Any]) -> None:
        return None


def make_sampler(name: str) -> HParamSampler:
    """The sampler a config's `searcher.sampler` names: "random" or "tpe"."""
    return TPESampler() if name == "tpe" else UniformSampler()


def default_gamma(n: int) -> int:
    """How many of `n` results count as good: 10%, at least 1, at most 25."""
    return min(max(1, math.ceil(0.1 * n)), 25)


class TPESampler:
    """Tree-structured Parzen estimator; see the module docstring."""

    learns = True

    def __init__(
        self,
        *,
        n_startup: int = 10,
        n_candidates: int = 24,
        max_kept: int = 1000,
        prior_weight: float = 1.0,
        random_fraction: float = 1 / 3,
    ) -> None:
        self.n_startup = n_startup
        self.random_fraction = random_fraction
        self.n_candidates = n_candidates
        self.max_kept = max_kept
        self.prior_weight = prior_weight
        self.results: dict[str, tuple[list[Any], int, float]] = {}
        """Per configuration (JSON of its values): the values, the longest length it reached
        and its score there; oldest first."""

    def observe(self, values: Sequence[Any], length: int, score: float) -> None:
        key = json.dumps(list(values), sort_keys=True)
        known = self.results.pop(key, None)
        if known is not None and known[1] > length:
            length, score = known[1], known[2]
        self.results[key] = (list(values), int(length), float(score))
        if len(self.results) > self.max_kept:
            del self.results[next(iter(self.results))]

    def sample(self, space: HParamSpace, rng: np.random.Generator) -> dict[str, Any]:
        explore = rng.random() < self.random_fraction
        if len(self.results) < self.n_startup or explore:
            return space.sample(rng)
        kept = list(self.results.values())
        order = sorted(range(len(kept)), key=lambda i: (-kept[i][1], kept[i][2]))
        good = set(order[: default_gamma(len(kept))])
        columns = [
            (
                [v[column] for i, (v, _, _) in enumerate(kept) if i in good],
                [v[column] for i, (v, _, _) in enumerate(kept) if i not in good],
            )
            for column in range(len(space.params))
        ]
        values = [
            self._choose(param, below, above, rng)
            for param, (below, above) in zip(space.params, columns, strict=True)
        ]
        return space.build({p.keys: v for p, v in zip(space.params, values, strict=True)})

    def _choose(
        self, param: Param, good: list[Any], bad: list[Any], rng: np.random.Generator
    ) -> Any:
        if param.type == "const":
            return copy.deepcopy(param.val)
        if param.type == "categorical":
            return copy.deepcopy(param.vals[self._choose_index(param, good, bad, rng)])
        lo, hi = _internal_range(param)
        below = _Parzen([_to_internal(param, v) for v in good], lo, hi, self.prior_weight)
        above = _Parzen([_to_internal(param, v) for v in bad], lo, hi, self.prior_weight)
        candidates = below.draw(rng, self.n_candidates)
        if param.type == "int":
            candidates = np.clip(np.round(candidates), param.minval, param.maxval)
        best = candidates[int(np.argmax(below.log_pdf(candidates) - above.log_pdf(candidates)))]
        return _from_internal(param, float(best))

    def _choose_index(
        self, param: Param, good: list[Any], bad: list[Any], rng: np.random.Generator
    ) -> int:
        k = len(param.vals)
        below = self._category_weights(param, good, k)
        above = self._category_weights(param, bad, k)
        candidates = rng.choice(k, size=self.n_candidates, p=below)
        ratio = np.log(below[candidates]) - np.log(above[candidates])
        return int(candidates[int(np.argmax(ratio))])

    def _category_weights(self, param: Param, values: list[Any], k: int) -> np.ndarray[Any, Any]:
        weights = np.full(k, self.prior_weight / k)
        for value in values:
            if value in param.vals:
                weights[param.vals.index(value)] += 1.0
        result: np.ndarray[Any, Any] = weights / weights.sum()
        return result

    def dump(self) -> dict[str, Any]:
        return {
            "results": [
                [values, length, _json_score(score)]
                for values, length, score in self.results.values()
            ]
        }

    def load(self, data: Mapping[str, Any]) -> None:
        self.results = {}
        for values, length, score in data.get("results", []):
            key = json.dumps(list(values), sort_keys=True)
            self.results[key] = (list(values), int(length), math.inf if score is None else score)


def _normal_cdf(z: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return np.array([0.5 * (1.0 + math.erf(v / math.sqrt(2.0))) for v in z.tolist()])


def _json_score(score: float) -> float | None:
    return None if not math.isfinite(score) else score


def _internal_range(param: Param) -> tuple[float, float]:
    """The axis TPE models a numeric hyperparameter on: exponents for `log`, +-0.5 for ints."""
    if param.type == "int":
        return param.minval - 0.5, param.maxval + 0.5
    return float(param.minval), float(param.maxval)


def _to_internal(param: Param, value: Any) -> float:
    if param.type == "log":
        return math.log(max(float(value), 1e-300)) / math.log(param.base)
    return float(value)


def _from_internal(param: Param, value: float) -> Any:
    if param.type == "int":
        return int(min(max(round(value), int(param.minval)), int(param.maxval)))
    if param.type == "log":
        return float(param.base ** min(max(value, param.minval), param.maxval))
    return float(min(max(value, param.minval), param.maxval))


class _Parzen:
    """A mixture of normals truncated to `[lo, hi]`: one per observation plus a broad prior.

    Each observation's width is the larger gap to its neighbours (prior included), clipped to
    `[(hi - lo) / min(100, n + 1), hi - lo]`; the prior sits mid-range with width `hi - lo`.
    """

    def __init__(self, points: list[float], lo: float, hi: float, prior_weight: float) -> None:
        span = max(hi - lo, 1e-12)
        mus = np.array([*points, (lo + hi) / 2.0])
        order = np.argsort(mus, kind="stable")
        ordered = mus[order]
        edges = np.concatenate([[lo], ordered, [hi]])
        gaps = np.maximum(ordered - edges[:-2], edges[2:] - ordered)
        sigmas = np.empty_like(mus)
        sigmas[order] = np.clip(gaps, span / min(100.0, len(mus) + 1.0), span)
        sigmas[-1] = span
        weights = np.ones_like(mus)
        weights[-1] = prior_weight
        self.mus, self.sigmas = mus, sigmas
        self.weights = weights / weights.sum()
        self.lo, self.hi = lo, hi
        self.mass = _normal_cdf((hi - mus) / sigmas) - _normal_cdf((lo - mus) / sigmas)

    def draw(self, rng: np.random.Generator, count: int) -> np.ndarray[Any, Any]:
        """`count` values from the mixture (a normal's draw outside the range is redrawn)."""
        out = np.empty(count)
        for i in range(count):
            c = int(rng.choice(len(self.mus), p=self.weights))
            for _ in range(100):
                x = rng.normal(self.mus[c], self.sigmas[c])
                if self.lo <= x <= self.hi:
                    break
            out[i] = min(max(x, self.lo), self.hi)
        return out

    def log_pdf(self, xs: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        z = (xs[:, None] - self.mus[None, :]) / self.sigmas[None, :]
        density = np.exp(-0.5 * z * z) / (math.sqrt(2 * math.pi) * self.sigmas[None, :])
        mixed = (density * (self.weights / np.maximum(self.mass, 1e-300))[None, :]).sum(axis=1)
        result: np.ndarray[Any, Any] = np.log(np.maximum(mixed, 1e-300))
        return result
