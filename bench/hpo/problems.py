"""The benchmark's tuning problems: what a trial reports after training to a length, and its cost.

Every problem is a `Problem`: a search space (in experiment-config form, so our searchers and the
peers see the same space), `objective(hparams, length)` = validation accuracy (larger is better)
after training to `length` units, `cost(hparams, length)` = seconds to train to `length` from
scratch, the lengths at which a trial may report (`report_lengths`), and `best`, the best accuracy
any configuration reaches at any length, so regret is `best - best_found >= 0`.

- `digits_mlp`: the table recorded from real training by `record_digits.py` (324 configurations
  x 30 epochs; the cost is the recorded CPU seconds per epoch).
- `lcdb_<openml id>`: learning curves over training-set size from the LCDB database shipped in
  the `lcdb` package on PyPI (Mohr et al. 2022): one categorical hyperparameter, the learner;
  the length is the number of training examples, reported at LCDB's anchors; the metric is the
  validation accuracy averaged over LCDB's seeds, the cost its training time.
- `synthetic`: `trainyard.searcher._sim_synthetic.LearningCurveProblem` (known optimum 0.95,
  controllable noise) over lr (log), width (int) and dropout, 81 units.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.hpo.digits_training import SPACE
from trainyard.searcher._sim_synthetic import LearningCurveProblem, ParamRange

DATA_DIR = Path(__file__).parent / "data"
DIGITS_TABLE = DATA_DIR / "digits_mlp.npz"


@dataclass(frozen=True)
class Problem:
    """One tuning problem; see the module docstring for what each field means."""

    name: str
    hyperparameters: dict[str, Any]
    max_length: int
    objective: Callable[[Mapping[str, Any], int], float]
    cost: Callable[[Mapping[str, Any], int], float]
    report_lengths: list[int]
    best: float
    description: str
    unit: str = "epochs"
    rungs: int = 4
    divisor: int = 3
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def mean_full_cost(self) -> float:
        """Mean seconds to train a configuration to `max_length` (over `sample_configs`)."""
        configs = self.sample_configs()
        return sum(self.full_cost(c) for c in configs) / len(configs)

    def sample_configs(self) -> list[dict[str, Any]]:
        """Configurations to average over: the whole table, or a fixed random sample."""
        curves = self.extra.get("curves")
        if isinstance(curves, TabularCurves):
            return [dict(zip(curves.names, v, strict=True)) for v in curves.values]
        rng = np.random.default_rng(0)
        out = []
        for _ in range(64):
            config: dict[str, Any] = {}
            for name, spec in self.hyperparameters.items():
                low, high = float(spec["minval"]), float(spec["maxval"])
                x = rng.uniform(low, high)
                config[name] = {"log": 10**x, "int": round(x)}.get(spec["type"], x)
            out.append(config)
        return out

    def full_cost(self, hparams: Mapping[str, Any]) -> float:
        """Seconds to train `hparams` to `max_length`."""
        return self.cost(hparams, self.max_length)


@dataclass(frozen=True)
class TabularCurves:
    """Per-configuration curves: `metric[i, j]` and cumulative `seconds[i, j]` at `lengths[j]`."""

    names: list[str]
    values: list[tuple[Any, ...]]
    lengths: list[int]
    metric: np.ndarray
    seconds: np.ndarray

    def problem(
        self, name: str, description: str, unit: str, *, max_length: int, rungs: int, divisor: int
    ) -> Problem:
        """A `Problem` categorical over the recorded values, cut at `max_length` (a length)."""
        index = {v: i for i, v in enumerate(self.values)}
        lengths = [x for x in self.lengths if x <= max_length]
        cut = len(lengths)

        def row(hparams: Mapping[str, Any], length: int) -> tuple[int, int]:
            key = tuple(hparams[n] for n in self.names)
            j = bisect.bisect_right(lengths, length) - 1
            return index[key], j

        def objective(hparams: Mapping[str, Any], length: int) -> float:
            i, j = row(hparams, length)
            return float(self.metric[i, j]) if j >= 0 else float("nan")

        def cost(hparams: Mapping[str, Any], length: int) -> float:
            i, j = row(hparams, length)
            return float(self.seconds[i, j]) if j >= 0 else 0.0

        hyperparameters = {
            n: {"type": "categorical", "vals": sorted({v[k] for v in self.values})}
            for k, n in enumerate(self.names)
        }
        return Problem(
            name=name,
            hyperparameters=hyperparameters,
            max_length=lengths[-1],
            objective=objective,
            cost=cost,
            report_lengths=rung_lengths(lengths[-1], rungs, divisor),
            best=float(np.nanmax(self.metric[:, :cut])),
            description=description,
            unit=unit,
            rungs=rungs,
            divisor=divisor,
            extra={"configs": len(self.values), "curves": self},
        )


def rung_lengths(max_length: int, rungs: int, divisor: int) -> list[int]:
    """`max_length / divisor**k` for k = rungs-1 .. 0: where every method validates.

    All methods (ours and the peers) validate at these lengths only, as a Trainyard trial under a
    halving search does: the same number of chances to find a good validation for everyone, and
    Optuna's pruners, which re-read the whole study at each report, stay fast.
    """
    return [max_length // divisor**k for k in range(rungs - 1, -1, -1)]


def digits_curves(path: Path = DIGITS_TABLE) -> TabularCurves:
    """The recorded digits table (or, while recording, what `<path>.partial.jsonl` holds)."""
    names = list(SPACE)
    if path.exists():
        with np.load(path) as table:
            configs, metric = table["configs"], table["val_accuracy"]
            seconds = np.cumsum(table["cpu_seconds"], axis=1)
    else:
        partial = path.with_suffix(".partial.jsonl")
        if not partial.exists():
            raise SystemExit(f"{path} is missing; record it: python -m bench.hpo.record_digits")
        from bench.hpo.digits_training import all_configs

        grid = all_configs()
        rows = [json.loads(line) for line in partial.read_text().splitlines()]
        configs = np.array([[grid[r["index"]][n] for n in names] for r in rows], dtype=float)
        metric = np.array([r["val_accuracy"] for r in rows])
        seconds = np.cumsum(np.array([r["cpu_seconds"] for r in rows]), axis=1)
    values = [tuple(_native(SPACE[n], x) for n, x in zip(names, c, strict=True)) for c in configs]
    lengths = list(range(1, metric.shape[1] + 1))
    return TabularCurves(names, values, lengths, metric, seconds)


def _native(choices: list[Any], x: float) -> Any:
    """The grid value `x` stands for (ints stay ints, so configs compare equal)."""
    return min(choices, key=lambda c: abs(float(c) - x))


def digits_problem(path: Path = DIGITS_TABLE) -> Problem:
    """The recorded digits MLP benchmark, cut at 27 epochs so rungs fall on 1, 3, 9, 27."""
    curves = digits_curves(path)
    return curves.problem(
        "digits_mlp",
        f"MLP on scikit-learn digits, {len(curves.values)} configs, 27 of the"
        f" {curves.lengths[-1]} recorded epochs, cost = recorded CPU seconds",
        "epochs",
        max_length=27,
        rungs=4,
        divisor=3,
    )


SYNTHETIC_SPACE = {
    "lr": ParamRange(-4.0, -1.0, log=True),
    "width": ParamRange(16, 256),
    "dropout": ParamRange(0.0, 0.5),
    "weight_decay": ParamRange(-6.0, -2.0, log=True),
    "momentum": ParamRange(0.5, 0.99),
    "warmup": ParamRange(0.0, 0.2),
}


def synthetic_problem(noise: float = 0.002) -> Problem:
    """Trainyard's synthetic learning-curve problem over 6 hyperparameters, 81 units.

    `spread` 0.3 (accuracy falls 0.3 x the squared normalised distance to the optimum) makes the
    optimum hard enough to find that methods differ; `noise` is added to every validation.
    """
    lc = LearningCurveProblem(
        space=SYNTHETIC_SPACE, max_length=81, noise=noise, spread=0.3, seconds_per_unit=10.0
    )
    return Problem(
        name="synthetic",
        hyperparameters=lc.hyperparameters,
        max_length=lc.max_length,
        objective=lc.objective,
        cost=lc.cost,
        report_lengths=rung_lengths(lc.max_length, 5, 3),
        best=lc.best,
        description=f"synthetic learning curves, known optimum {lc.best}, noise +-{noise}",
        unit="units",
        rungs=5,
        divisor=3,
    )
