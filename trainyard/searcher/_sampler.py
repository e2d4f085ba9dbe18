"""How a search draws a new trial's hyperparameters: uniformly, or by TPE from what it has seen.

A sampler is pure, like the searchers: `sample(space, rng)` uses no randomness but `rng`, and
`observe(...)` only records. `UniformSampler` is Determined's behaviour (every hyperparameter
drawn independently and uniformly, with replacement). `TPESampler` is the model-based sampler:
multivariate, native over int and categorical axes, multi-fidelity, and without repeats on finite
spaces; `trainyard/searcher/_tpe.py` says how it models.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from trainyard.searcher._space import HParamSpace
from trainyard.searcher._tpe import _ENUMERATE_LIMIT, Array, _Axes, _Density, gamma_of, length_group

SAMPLER_NAMES = ("tpe", "uniform", "random")
"""What `searcher.sampler` may say; "random" is the old spelling of "uniform"."""
DEFAULT_SAMPLER = "tpe"
"""The sampler of a config that names none (chosen from `make bench-hpo`)."""


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

    def exhausted(self, space: HParamSpace) -> bool:
        """Whether every configuration of a finite `space` was drawn in the current round (the
        next draw would repeat one); always False for samplers that draw with replacement."""
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

    def exhausted(self, space: HParamSpace) -> bool:
        return False

    def dump(self) -> dict[str, Any]:
        return {}

    def load(self, data: Mapping[str, Any]) -> None:
        return None


def make_sampler(name: str | None) -> HParamSampler:
    """The sampler a config's `searcher.sampler` names: "tpe", or "uniform" (alias "random");
    None means `DEFAULT_SAMPLER`."""
    return TPESampler() if (name or DEFAULT_SAMPLER) == "tpe" else UniformSampler()


class TPESampler:
    """The model-based sampler; see `trainyard/searcher/_tpe.py` for the model.

    `n_startup`: results a length group needs before the model is used (capped at a quarter of
    a finite space, at least 2). `gamma`: the fraction of a group that counts as good.
    `max_kept`: configurations remembered (most recent). `max_seen`: draws remembered to avoid
    repeats on finite spaces.
    """

    learns = True

    def __init__(
        self,
        *,
        n_startup: int = 10,
        n_candidates: int = 24,
        gamma: float = 0.15,
        random_fraction: float = 0.1,
        prior_weight: float = 1.0,
        max_kept: int = 1000,
        max_seen: int = 10_000,
    ) -> None:
        self.n_startup = max(2, n_startup)
        self.n_candidates = n_candidates
        self.gamma = gamma
        self.random_fraction = random_fraction
        self.prior_weight = prior_weight
        self.max_kept = max_kept
        self.max_seen = max_seen
        self.results: dict[str, tuple[list[Any], dict[int, float]]] = {}
        """Per configuration (JSON of its values): the values and its score per length group
        (`length_group`); least recently observed first."""
        self.seen: dict[int, None] = {}
        """Finite spaces: the configuration numbers drawn in the current round, oldest first."""
        self._by_group: dict[int, dict[str, float]] = {}
        """The same scores by length group, then configuration."""
        self._axes: _Axes | None = None
        self._encoded: dict[str, Array | None] = {}
        self._cached: tuple[_Density, _Density] | None = None
        self._fresh_model = False
        """Whether `_cached` is the model of the current results (cleared by `observe`)."""

    # --- recording ------------------------------------------------------------------------------

    def observe(self, values: Sequence[Any], length: int, score: float) -> None:
        key = json.dumps(list(values), sort_keys=True)
        known = self.results.pop(key, None)
        groups = known[1] if known else {}
        group = length_group(length)
        groups[group] = float(score)
        self.results[key] = (list(values), groups)
        for g, value in groups.items():  # the key moves to the end of each of its groups, so
            members = self._by_group.setdefault(g, {})  # the order is the results' (as `load`)
            members.pop(key, None)
            members[key] = value
        self._fresh_model = False
        while len(self.results) > self.max_kept:
            oldest = next(iter(self.results))
            for g in self.results.pop(oldest)[1]:
                del self._by_group[g][oldest]
            self._encoded.pop(oldest, None)

    def exhausted(self, space: HParamSpace) -> bool:
        size = self._axes_for(space).size
        return size is not None and len(self.seen) >= size

    def dump(self) -> dict[str, Any]:
        return {
            "results": [
                [values, [[g, None if not math.isfinite(s) else s] for g, s in groups.items()]]
                for values, groups in self.results.values()
            ],
            "seen": list(self.seen),
        }

    def load(self, data: Mapping[str, Any]) -> None:
        self.results = {}
        for values, groups in data.get("results", []):
            key = json.dumps(list(values), sort_keys=True)
            scores = {int(g): math.inf if s is None else float(s) for g, s in groups}
            self.results[key] = (list(values), scores)
        self.seen = {int(i): None for i in data.get("seen", [])}
        self._encoded = {}
        self._by_group = {}
        for key, (_, groups) in self.results.items():
            for g, score in groups.items():
                self._by_group.setdefault(g, {})[key] = score
        self._fresh_model = False

    # --- drawing --------------------------------------------------------------------------------

    def sample(self, space: HParamSpace, rng: np.random.Generator) -> dict[str, Any]:
        axes = self._axes_for(space)
        if axes.dims == 0:
            return space.sample(rng)
        if axes.size is not None and len(self.seen) >= axes.size:
            self.seen.clear()  # every configuration was drawn: a new round
        explore = rng.random() < self.random_fraction
        model = None if explore else self._model(axes)
        point = self._fresh_uniform(axes, rng) if model is None else self._best(axes, model, rng)
        if axes.size is not None:
            self.seen[axes.index(point)] = None
            while len(self.seen) > self.max_seen:
                del self.seen[next(iter(self.seen))]
        return axes.decode(point)

    def _axes_for(self, space: HParamSpace) -> _Axes:
        if self._axes is None or self._axes.space is not space:
            self._axes = _Axes(space)
            self._encoded = {}
            self._fresh_model = False
        return self._axes

    def _fresh(self, axes: _Axes, point: Array) -> bool:
        return axes.size is None or axes.index(point) not in self.seen

    def _fresh_uniform(self, axes: _Axes, rng: np.random.Generator) -> Array:
        """A uniform draw, not seen in this round if the space is finite."""
        point: Array = np.asarray(axes.uniform(rng, 1)[0])
        for _ in range(63):
            if self._fresh(axes, point):
                return point
            point = np.asarray(axes.uniform(rng, 1)[0])
        if axes.size is not None and axes.size <= _ENUMERATE_LIMIT:
            free = [i for i in range(axes.size) if i not in self.seen]
            if free:
                return axes.point_of(free[int(rng.integers(len(free)))])
        return point

    def _best(
        self, axes: _Axes, model: tuple[_Density, _Density], rng: np.random.Generator
    ) -> Array:
        """The candidate from the good density with the best good/bad ratio (fresh ones only)."""
        good, bad = model
        for _ in range(4):
            candidates = good.draw(rng, self.n_candidates)
            fresh = [i for i in range(len(candidates)) if self._fresh(axes, candidates[i])]
            if fresh:
                candidates = candidates[fresh]
                ratio = good.log_pdf(candidates) - bad.log_pdf(candidates)
                return np.asarray(candidates[int(np.argmax(ratio))])
        return self._fresh_uniform(axes, rng)

    def _model(self, axes: _Axes) -> tuple[_Density, _Density] | None:
        """The good and bad densities, or None while no length group has enough results
        (rebuilt only after new results: draws between two results share one model)."""
        if not self._fresh_model:
            self._cached = self._build_model(axes)
            self._fresh_model = True
        return self._cached

    def _build_model(self, axes: _Axes) -> tuple[_Density, _Density] | None:
        groups: dict[int, tuple[list[float], list[Array]]] = {}
        for g, members in self._by_group.items():
            scores: list[float] = []
            points: list[Array] = []
            for key, score in members.items():
                point = self._point(axes, key)
                if point is not None:
                    scores.append(score)
                    points.append(point)
            groups[g] = (scores, points)
        need = self.n_startup
        if axes.size is not None:
            need = max(2, min(need, axes.size // 4))
        qualified = sorted((g for g in groups if len(groups[g][0]) >= need), reverse=True)
        if not qualified:
            return None
        top = len(groups[qualified[0]][0])
        good_top = gamma_of(top, self.gamma)
        bad_top = max(top - good_top, 1)
        good: list[tuple[float, Array]] = []
        bad: list[tuple[float, Array]] = []
        for rank, g in enumerate(qualified):
            weight = 0.5**rank
            scores, points = groups[g]
            order = np.argsort(np.array(scores), kind="stable").tolist()
            k = gamma_of(len(order), self.gamma)
            good += [(weight * good_top / k, points[i]) for i in order[:k]]
            rest = max(len(order) - k, 1)
            bad += [(weight * bad_top / rest, points[i]) for i in order[k:]]
        return self._density(axes, good), self._density(axes, bad)

    def _point(self, axes: _Axes, key: str) -> Array | None:
        if key not in self._encoded:
            self._encoded[key] = axes.encode(self.results[key][0])
        return self._encoded[key]

    def _density(self, axes: _Axes, rows: list[tuple[float, Array]]) -> _Density:
        points = np.array([p for _, p in rows]).reshape(len(rows), axes.dims)
        weights = np.array([w for w, _ in rows], dtype=float)
        return _Density(axes, points, weights, self.prior_weight)
