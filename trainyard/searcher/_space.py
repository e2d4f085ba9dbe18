"""Hyperparameter spaces: sampling with a seeded generator and grid enumeration.

`HParamSpace.of(hyperparameters)` accepts the config's `hyperparameters` mapping (pydantic
`Hyperparameter` objects with a `.type`), the same thing as plain dicts (`{"type": "int", ...}`),
or bare scalars/lists (constants), nested to any depth. Sampled and grid points are plain nested
dicts of JSON values in the space's key order.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from trainyard.errors import ConfigError

_TYPES = ("const", "int", "double", "log", "categorical")
_MAX_IMPLICIT_INTS = 10_000
"""An int without `count` spans more values than this: the grid needs an explicit `count`."""


@dataclass(frozen=True, slots=True)
class Param:
    """One hyperparameter, by its dotted `path` (for messages) and key path `keys`."""

    keys: tuple[str, ...]
    type: str
    minval: float = 0.0
    maxval: float = 0.0
    base: float = 10.0
    count: int | None = None
    vals: tuple[Any, ...] = ()
    val: Any = None

    @property
    def path(self) -> str:
        return "hyperparameters." + ".".join(self.keys)

    def sample(self, rng: np.random.Generator) -> Any:
        """Draw one value: int uniform inclusive, double uniform, log base**uniform, categorical."""
        if self.type == "int":
            return int(rng.integers(int(self.minval), int(self.maxval), endpoint=True))
        if self.type == "double":
            return float(rng.uniform(self.minval, self.maxval))
        if self.type == "log":
            return float(self.base ** rng.uniform(self.minval, self.maxval))
        if self.type == "categorical":
            return copy.deepcopy(self.vals[int(rng.integers(len(self.vals)))])
        return copy.deepcopy(self.val)

    def grid_axis(self) -> list[Any]:
        """The values this hyperparameter takes in a grid search (`count` evenly spaced values)."""
        if self.type == "const":
            return [self.val]
        if self.type == "categorical":
            return list(self.vals)
        if self.type == "int":
            lo, hi = int(self.minval), int(self.maxval)
            if self.count is None and hi - lo >= _MAX_IMPLICIT_INTS:
                raise ConfigError(
                    f"{self.path}: grid search over all {hi - lo + 1} ints; set `count`"
                )
            count = hi - lo + 1 if self.count is None else min(self.count, hi - lo + 1)
            if count == 1:
                return [(lo + hi) // 2]
            points = (lo + round(i * (hi - lo) / (count - 1)) for i in range(count))
            return list(dict.fromkeys(points))
        if self.count is None:
            raise ConfigError(f"{self.path}: grid search needs `count` for {self.type} values")
        xs = _linspace(self.minval, self.maxval, self.count)
        return xs if self.type == "double" else [float(self.base**x) for x in xs]

    def clamp(self, value: float) -> Any:
        """`value` moved into this numeric hyperparameter's range (ints rounded)."""
        if self.type == "int":
            return int(min(max(round(value), int(self.minval)), int(self.maxval)))
        lo, hi = self.minval, self.maxval
        if self.type == "log":
            lo, hi = self.base**lo, self.base**hi
        return float(min(max(value, lo), hi))


def _linspace(lo: float, hi: float, count: int) -> list[float]:
    if count == 1:
        return [(lo + hi) / 2.0]
    return [lo + i * (hi - lo) / (count - 1) for i in range(count)]


class HParamSpace:
    """A flattened hyperparameter space; every method draws from it in the same, stable order."""

    def __init__(self, params: list[Param]) -> None:
        self.params = params
        self._axes: list[list[Any]] | None = None

    @classmethod
    def of(cls, hyperparameters: HParamSpace | Mapping[str, Any] | None) -> HParamSpace:
        """Build a space from a config `hyperparameters` mapping (or return `hyperparameters`)."""
        if isinstance(hyperparameters, HParamSpace):
            return hyperparameters
        params: list[Param] = []
        _flatten(hyperparameters or {}, (), params)
        return cls(params)

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """A random point: each hyperparameter drawn in order from `rng`."""
        return self.build({p.keys: p.sample(rng) for p in self.params})

    def build(self, flat: Mapping[tuple[str, ...], Any]) -> dict[str, Any]:
        """Nest `{key path: value}` into the space's shape."""
        out: dict[str, Any] = {}
        for keys, value in flat.items():
            node = out
            for key in keys[:-1]:
                node = node.setdefault(key, {})
            node[keys[-1]] = value
        return out

    def flat(self, hparams: Mapping[str, Any]) -> dict[tuple[str, ...], Any]:
        """The values of a nested point by key path (the inverse of `build`)."""
        out: dict[tuple[str, ...], Any] = {}
        for p in self.params:
            node: Any = hparams
            for key in p.keys:
                node = node[key]
            out[p.keys] = node
        return out

    def grid_size(self) -> int:
        """Number of grid points (the product of the axis lengths)."""
        return math.prod(len(axis) for axis in self._grid_axes())

    def grid_point(self, index: int) -> dict[str, Any]:
        """Grid point `index` of the cartesian product; the last hyperparameter varies fastest."""
        axes = self._grid_axes()
        flat: dict[tuple[str, ...], Any] = {}
        for p, axis in zip(reversed(self.params), reversed(axes), strict=True):
            index, i = divmod(index, len(axis))
            flat[p.keys] = copy.deepcopy(axis[i])
        return self.build({p.keys: flat[p.keys] for p in self.params})

    def _grid_axes(self) -> list[list[Any]]:
        if self._axes is None:
            self._axes = [p.grid_axis() for p in self.params]
        return self._axes


def _flatten(node: Mapping[str, Any], prefix: tuple[str, ...], out: list[Param]) -> None:
    for key, value in node.items():
        keys = (*prefix, str(key))
        kind = _type_of(value)
        if kind is None and isinstance(value, Mapping):
            _flatten(value, keys, out)
        else:
            out.append(_param(keys, kind or "const", value))


def _type_of(value: Any) -> str | None:
    if isinstance(value, Mapping):
        kind = value.get("type")
        return kind if isinstance(kind, str) and kind in _TYPES else None
    kind = getattr(value, "type", None)
    return kind if isinstance(kind, str) and kind in _TYPES else None


def _field(value: Any, name: str, default: Any = None) -> Any:
    if isinstance(value, Mapping):
        return value.get(name, default)
    return getattr(value, name, default)


def _param(keys: tuple[str, ...], kind: str, value: Any) -> Param:
    path = "hyperparameters." + ".".join(keys)
    if kind == "const":
        is_spec = isinstance(value, Mapping) or hasattr(value, "type")
        return Param(keys, "const", val=_field(value, "val") if is_spec else value)
    if kind == "categorical":
        vals = tuple(_field(value, "vals") or ())
        if not vals:
            raise ConfigError(f"{path}: categorical needs a non-empty `vals` list")
        return Param(keys, kind, vals=vals)
    lo, hi = _field(value, "minval"), _field(value, "maxval")
    count = _field(value, "count")
    if not isinstance(lo, int | float) or not isinstance(hi, int | float) or lo > hi:
        raise ConfigError(f"{path}: needs numbers minval <= maxval (got {lo!r}, {hi!r})")
    if count is not None and (not isinstance(count, int) or count < 1):
        raise ConfigError(f"{path}: count is {count!r}; it must be a positive integer")
    base = float(_field(value, "base", 10.0) or 10.0)
    return Param(keys, kind, minval=float(lo), maxval=float(hi), base=base, count=count)
