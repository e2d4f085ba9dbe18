"""A synthetic learning-curve problem with a known optimum, for demos, tests and benchmarks.

Over numeric hyperparameters `h` (each with a range; `log` ones measured in exponent space),
validation accuracy after `length` units is

    accuracy(h, L) = final(h) * (1 - exp(-L / tau(h))) + noise * u(h, L)
    final(h)       = best - spread * d(h),  d = sum of squared distances to the optimum, each
                                           normalised by its range; the optimum sits at 60% of it
    tau(h)         = max_length / 20 * 2 ** (-speed_effect * z),  z in [-1, 1] the position of
                     the `speed` hyperparameter (e.g. a learning rate) around its optimum

so early validations rank trials roughly, not exactly, as they finish (a high learning rate looks
better early than it ends up). `u` is a deterministic function in [-1, 1) of the numeric
hyperparameters and the length, so a simulation over it replays exactly. A unit costs
`seconds_per_unit * (0.5 + s)`, `s` in [0, 1] the position of the `size` hyperparameter in its
range: bigger models are slower.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DEFAULT_SPACE", "LearningCurveProblem", "ParamRange"]


@dataclass(frozen=True, slots=True)
class ParamRange:
    """A numeric hyperparameter's range; for `log`, `low`/`high` are exponents of `base`."""

    low: float
    high: float
    log: bool = False
    base: float = 10.0

    def position(self, value: Any) -> float:
        """Where `value` sits in the range: 0 at `low`, 1 at `high`."""
        v = math.log(float(value), self.base) if self.log else float(value)
        return (v - self.low) / (self.high - self.low) if self.high != self.low else 0.5

    def optimum(self) -> float:
        """The best value of this hyperparameter (60% into its range)."""
        v = self.low + 0.6 * (self.high - self.low)
        return float(self.base**v) if self.log else v


DEFAULT_SPACE: dict[str, ParamRange] = {
    "lr": ParamRange(-4.0, -1.0, log=True),
    "width": ParamRange(16, 256),
    "dropout": ParamRange(0.0, 0.5),
}


@dataclass(frozen=True)
class LearningCurveProblem:
    """The problem: `objective` and `cost` plug into `simulate`; `hyperparameters` into a config.

    No trial beats `best` (apart from `noise`); at `optimum()` trained to `max_length` the
    accuracy is `best * (1 - exp(-20))`, which is `best` to 8 digits.
    """

    space: Mapping[str, ParamRange] = field(default_factory=lambda: dict(DEFAULT_SPACE))
    max_length: int = 1600
    best: float = 0.95
    spread: float = 0.1
    noise: float = 0.0
    seconds_per_unit: float = 0.5
    speed: str | None = "lr"
    speed_effect: float = 0.2
    size: str | None = "width"

    @classmethod
    def for_hyperparameters(
        cls, hyperparameters: Mapping[str, Any], **kwargs: Any
    ) -> LearningCurveProblem:
        """A problem over the numeric top-level hyperparameters of a config (dicts or models).

        `speed` defaults to the first `log` hyperparameter, `size` to the first `int` one.
        """
        space: dict[str, ParamRange] = {}
        speed = size = None
        for name, hp in hyperparameters.items():
            kind = _field(hp, "type")
            if kind not in ("int", "double", "log"):
                continue
            base = float(_field(hp, "base") or 10.0)
            space[name] = ParamRange(
                float(_field(hp, "minval")), float(_field(hp, "maxval")), kind == "log", base
            )
            speed = speed or (name if kind == "log" else None)
            size = size or (name if kind == "int" else None)
        return cls(**{"space": space, "speed": speed, "size": size, **kwargs})

    @property
    def hyperparameters(self) -> dict[str, Any]:
        """The search space in experiment-config form."""
        out: dict[str, Any] = {}
        for name, r in self.space.items():
            kind = "log" if r.log else "int" if name == self.size else "double"
            spec: dict[str, Any] = {"type": kind, "minval": r.low, "maxval": r.high}
            if kind == "log":
                spec["base"] = r.base
            elif kind == "int":
                spec = {"type": "int", "minval": int(r.low), "maxval": int(r.high)}
            out[name] = spec
        return out

    def optimum(self) -> dict[str, float]:
        """The best hyperparameters."""
        return {name: r.optimum() for name, r in self.space.items()}

    def final_accuracy(self, hparams: Mapping[str, Any]) -> float:
        """Accuracy the trial converges to: `best` at the optimum, lower with distance."""
        d = sum((r.position(hparams[n]) - 0.6) ** 2 for n, r in self.space.items())
        return self.best - self.spread * d

    def objective(self, hparams: Mapping[str, Any], length: int) -> float:
        """Validation accuracy after training `length` units (larger is better)."""
        positions = [r.position(hparams[n]) for n, r in self.space.items()]
        final = self.best - self.spread * sum((x - 0.6) ** 2 for x in positions)
        tau = self.max_length / 20.0
        if self.speed is not None:
            z = (self.space[self.speed].position(hparams[self.speed]) - 0.6) / 0.6
            tau *= 2.0 ** (-self.speed_effect * max(-1.0, min(1.0, z)))
        value = final * (1.0 - math.exp(-length / tau))
        if self.noise:
            value += self.noise * _unit_noise(positions, length)
        return value

    def cost(self, hparams: Mapping[str, Any], length: int) -> float:
        """Seconds to train from scratch to `length`."""
        factor = 1.0
        if self.size is not None:
            factor = 0.5 + self.space[self.size].position(hparams[self.size])
        return length * self.seconds_per_unit * factor

    def config(self, searcher: Mapping[str, Any], *, name: str = "synthetic") -> dict[str, Any]:
        """An experiment config dict for this problem with the given `searcher` section.

        `metric`, `smaller_is_better` and `max_length` are filled in unless `searcher` sets them.
        """
        section: dict[str, Any] = {
            "metric": "accuracy",
            "smaller_is_better": False,
            "max_length": {"batches": self.max_length},
        }
        section.update(searcher)
        return {
            "name": name,
            "entrypoint": "python3 train.py",
            "hyperparameters": self.hyperparameters,
            "searcher": section,
        }


def _field(hp: Any, name: str) -> Any:
    return hp.get(name) if isinstance(hp, Mapping) else getattr(hp, name, None)


def _unit_noise(positions: list[float], length: int) -> float:
    """Deterministic noise in [-1, 1) from the hyperparameters' positions and the length.

    The shader-style `fract(sin(x) * 43758.5453)` hash: cheap, and uniform enough for noise.
    """
    x = 37.719 * length
    for i, p in enumerate(positions):
        x += (12.9898 + 65.413 * i) * p
    u = math.sin(x) * 43758.5453
    return 2.0 * (u - math.floor(u)) - 1.0
