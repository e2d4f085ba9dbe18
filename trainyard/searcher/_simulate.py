"""Run any search method against simulated slots: how long it takes, how well it finds the best.

`simulate(config, objective, cost, workers=...)` builds the config's searcher and plays it against
a model of training: `objective(hparams, length)` is the metric a trial reports after training to
`length`, `cost(hparams, length)` the seconds training to `length` takes from scratch. Time is
simulated (a discrete event queue, nothing sleeps), so a 10,000-trial search takes seconds.

Example:
    >>> objective, cost = (lambda hp, n: hp["lr"] / n), (lambda hp, n: n)
    >>> result = simulate(Path("adaptive.yaml"), objective, cost, workers=4)  # doctest: +SKIP
    >>> result.best_metric, result.utilization  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from trainyard.config import searcher_max_length
from trainyard.errors import ConfigError, TrainyardError
from trainyard.searcher._base import Searcher
from trainyard.searcher._sim_config import report_lengths, resolve_config
from trainyard.searcher._sim_engine import SimulationEngine
from trainyard.searcher._sim_types import Cost, Objective, SimulatedTrial, SimulationResult

__all__ = ["SimulatedTrial", "SimulationResult", "simulate", "simulate_searcher"]


def simulate(
    config: Any,
    objective: Objective,
    cost: Cost,
    *,
    workers: int,
    max_time: float | None = None,
    seed: int = 0,
) -> SimulationResult:
    """Simulate the search `config` describes on `workers` slots and return what happened.

    `config` is anything `trainyard.config.load_experiment_config` takes, or a loaded config.
    `seed` seeds the searcher, so the same arguments give the same result. `max_time` (simulated
    seconds, not the config's `searcher.max_time`) ends the simulation at that time, cutting any
    work in flight. A trial occupies one slot while it trains; a resumed trial pays only
    `cost(L2) - cost(L1)`, and a PBT child (`Create.checkpoint_from`) starts at its parent's
    length. For trial-driven searches (`time_metric`) a trial trains towards `max_time` and
    reports at every rung boundary on the way.
    """
    # Imported here: the factory imports every search method, and they may import this module.
    from trainyard.searcher._factory import make_searcher

    loaded = resolve_config(config)
    if searcher_max_length(loaded) is None and loaded.searcher.name in ("single", "grid", "random"):
        raise ConfigError(
            f"searcher: the {loaded.searcher.name} searcher has no max_length (its training script "
            "decides how long trials train); to simulate it, set max_length or time_metric with "
            "max_time"
        )
    searcher: Searcher = make_searcher(loaded, seed=seed, allow_custom=True)  # user's process
    return simulate_searcher(
        searcher,
        objective,
        cost,
        workers=workers,
        smaller_is_better=bool(loaded.searcher.smaller_is_better),
        report_lengths=report_lengths(loaded, searcher),
        max_time=max_time,
    )


def simulate_searcher(
    searcher: Searcher,
    objective: Objective,
    cost: Cost,
    *,
    workers: int,
    smaller_is_better: bool = True,
    report_lengths: list[int] | None = None,
    max_time: float | None = None,
) -> SimulationResult:
    """Simulate an already-built `searcher` (e.g. a custom one); see `simulate` for the model.

    `report_lengths`, when given, makes the search trial-driven: a training trial also reports a
    validation at each of these lengths it passes on the way to its target.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise TrainyardError(f"workers is {workers!r}; it must be a positive integer")
    if max_time is not None and not max_time >= 0:
        raise TrainyardError(f"max_time is {max_time!r}; it must be >= 0 simulated seconds")
    engine = SimulationEngine(
        searcher,
        objective,
        cost,
        workers=workers,
        smaller_is_better=smaller_is_better,
        report_lengths=report_lengths,
        max_time=max_time,
    )
    return engine.run()
