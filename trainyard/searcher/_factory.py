"""The one place an experiment config becomes a searcher: `make_searcher`."""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Collection
from typing import Any

from trainyard.config import (
    MAX_PLANNED_TRIALS,
    ExperimentConfig,
    load_experiment_config,
    searcher_max_length,
)
from trainyard.errors import ConfigError
from trainyard.searcher._adaptive import AdaptiveASHA
from trainyard.searcher._asha import AsyncHalving
from trainyard.searcher._asha_stopping import AsyncHalvingStopping
from trainyard.searcher._base import Searcher
from trainyard.searcher._grid import GridSearch
from trainyard.searcher._pbt import PBT
from trainyard.searcher._random import RandomSearch, SingleSearch
from trainyard.searcher._sampler import make_sampler
from trainyard.searcher._sha import SyncHalving
from trainyard.searcher._space import HParamSpace

_Builder = Callable[[Any, HParamSpace, int, ExperimentConfig], Searcher]


def make_searcher(
    config: Any,
    seed: int | None = None,
    *,
    allow_custom: bool | Collection[str] = False,
    max_trials_at_once: int | None = None,
) -> Searcher:
    """The searcher `config.searcher` describes, seeded with `seed`.

    `config` is an `ExperimentConfig` or anything `load_experiment_config` takes (a `Path`, YAML
    text, a dict). `seed` defaults to `config.reproducibility.experiment_seed`, so the same config
    always searches the same way. Bad input raises `ConfigError` with one line per problem.

    `allow_custom` says whose code a `custom` searcher may import: False (the default) none, so
    a config alone never runs code; True any module, for the user's own process (`simulate`,
    `trainyard preview`); a collection of module names those modules and their submodules (the
    master passes its operator's `searcher_modules`). A refused module is never imported.

    `max_trials_at_once` refuses a search that may create more trials in one step (the master
    passes its `max_trials_at_once`: it writes them in one transaction while a request waits);
    None, for simulations, has no such bound. Every search is held to `MAX_PLANNED_TRIALS`.
    """
    loaded = config if isinstance(config, ExperimentConfig) else load_experiment_config(config)
    searcher = loaded.searcher
    if seed is None:
        seed = loaded.reproducibility.experiment_seed
    space = HParamSpace.of(loaded.hyperparameters)
    check_planned_trials(loaded, space, max_trials_at_once)
    if searcher.name == "custom":
        return _custom(searcher, space, seed, loaded, allow_custom)
    return _BUILDERS[searcher.name](searcher, space, seed, loaded)


def planned_trials(config: ExperimentConfig, space: HParamSpace) -> tuple[int, str] | None:
    """How many trials the search may create at most, and the field that decides it; None
    when the method does not say (custom searchers). Pure arithmetic: a grid is never built."""
    s = config.searcher
    if s.name == "single":
        return 1, "searcher"
    if s.name == "grid":
        return math.prod(_axis_bound(p) for p in space.params), "hyperparameters"
    if s.name == "pbt":
        return s.population_size * s.num_rounds, "searcher.population_size"
    max_trials = getattr(s, "max_trials", None)
    return None if max_trials is None else (int(max_trials), "searcher.max_trials")


def check_planned_trials(
    config: ExperimentConfig, space: HParamSpace, max_trials_at_once: int | None = None
) -> None:
    """`ConfigError` (one line naming the field) for a search over `MAX_PLANNED_TRIALS`, or
    one that may create more than `max_trials_at_once` (None: any number) in one step."""
    planned = planned_trials(config, space)
    if planned is None:
        return
    count, where = planned
    if count <= MAX_PLANNED_TRIALS:
        if max_trials_at_once is not None:
            _check_at_once(config, count, max_trials_at_once)
        return
    what = "the grid has" if where == "hyperparameters" else "the search plans"
    fix = "lower the grid counts" if where == "hyperparameters" else f"lower {where}"
    raise ConfigError(
        f"{where}: {what} {_big(count)} trials; the limit is {MAX_PLANNED_TRIALS:,}: {fix}"
    )


def _check_at_once(config: ExperimentConfig, total: int, limit: int) -> None:
    s = config.searcher
    if s.name == "pbt":
        at_once, where, fix = s.population_size, "searcher.population_size", "lower it"
    else:
        concurrent = getattr(s, "max_concurrent_trials", None)
        if concurrent is None:
            return
        at_once, where = min(concurrent or total, total), "searcher.max_concurrent_trials"
        fix = f"set it (0 means all of them) to at most {limit:,}"
    if at_once > limit:
        raise ConfigError(
            f"{where}: the search may create {at_once:,} trials at once; this master's limit "
            f"is {limit:,}: {fix}"
        )


def _axis_bound(p: Any) -> int:
    """At most how many values the grid takes for `p` (before ints are deduplicated)."""
    if p.type == "const":
        return 1
    if p.type == "categorical":
        return len(p.vals)
    if p.type == "int":
        span = int(p.maxval) - int(p.minval) + 1
        return span if p.count is None else min(int(p.count), span)
    return 1 if p.count is None else int(p.count)  # no count: the grid refuses it itself


def _big(count: int) -> str:
    return f"{count:,}" if count < 10**12 else f"about 10^{len(str(count)) - 1}"


def _length(config: ExperimentConfig) -> int:
    length = searcher_max_length(config)
    if length is None:  # pragma: no cover - the config model requires one for these methods
        raise ConfigError("searcher: needs max_length or time_metric with max_time")
    return length


def _common(s: Any, seed: int) -> dict[str, Any]:
    return {"smaller_is_better": s.smaller_is_better, "seed": seed}


def _single(s: Any, space: HParamSpace, seed: int, c: ExperimentConfig) -> Searcher:
    # single, grid, random: no length means the training script decides (Determined 0.38)
    return SingleSearch(space, max_length=searcher_max_length(c), **_common(s, seed))


def _grid(s: Any, space: HParamSpace, seed: int, c: ExperimentConfig) -> Searcher:
    return GridSearch(
        space,
        max_length=searcher_max_length(c),
        max_concurrent_trials=s.max_concurrent_trials,
        **_common(s, seed),
    )


def _random(s: Any, space: HParamSpace, seed: int, c: ExperimentConfig) -> Searcher:
    return RandomSearch(
        space,
        max_length=searcher_max_length(c),
        max_trials=s.max_trials,
        max_concurrent_trials=s.max_concurrent_trials,
        sampler=make_sampler(s.sampler),
        **_common(s, seed),
    )


def _halving(s: Any, c: ExperimentConfig, seed: int) -> dict[str, Any]:
    return {
        "max_length": _length(c),
        "max_trials": s.max_trials,
        "divisor": s.divisor,
        "max_concurrent_trials": s.max_concurrent_trials,
        "sampler": make_sampler(s.sampler),
        **_common(s, seed),
    }


def _sync(s: Any, space: HParamSpace, seed: int, c: ExperimentConfig) -> Searcher:
    return SyncHalving(space, num_rungs=s.num_rungs, **_halving(s, c, seed))


def _async(s: Any, space: HParamSpace, seed: int, c: ExperimentConfig) -> Searcher:
    trial_driven = s.time_metric is not None
    if s.stop_once or trial_driven:
        return AsyncHalvingStopping(
            space,
            num_rungs=s.num_rungs,
            stop_once=s.stop_once,
            trial_driven=trial_driven,
            **_halving(s, c, seed),
        )
    return AsyncHalving(space, num_rungs=s.num_rungs, **_halving(s, c, seed))


def _adaptive(s: Any, space: HParamSpace, seed: int, c: ExperimentConfig) -> Searcher:
    return AdaptiveASHA(
        space,
        max_rungs=s.max_rungs,
        mode=s.mode,
        bracket_rungs=s.bracket_rungs,
        stop_once=s.stop_once,
        trial_driven=s.time_metric is not None,
        **_halving(s, c, seed),
    )


def _pbt(s: Any, space: HParamSpace, seed: int, c: ExperimentConfig) -> Searcher:
    return PBT(
        space,
        population_size=s.population_size,
        num_rounds=s.num_rounds,
        length_per_round=s.length_per_round.value,
        truncate_fraction=s.replace_function.truncate_fraction,
        resample_probability=s.explore_function.resample_probability,
        perturb_factor=s.explore_function.perturb_factor,
        sampler=make_sampler(s.sampler),
        **_common(s, seed),
    )


def _custom(
    s: Any, space: HParamSpace, seed: int, c: ExperimentConfig, allow: bool | Collection[str]
) -> Searcher:
    cls = load_searcher_class(s.searcher_class, allow=allow)
    try:
        return cls(  # type: ignore[call-arg]  # the documented CustomSearcher signature
            space,
            options=dict(s.options),
            seed=seed,
            smaller_is_better=s.smaller_is_better,
            max_length=searcher_max_length(c),
        )
    except TypeError as err:
        raise ConfigError(
            f"searcher.searcher_class: {s.searcher_class} could not be built ({err}); it must "
            "accept (hparam_space, *, options, seed, smaller_is_better, max_length) like "
            "trainyard.searcher.CustomSearcher"
        ) from None


def load_searcher_class(path: str, *, allow: bool | Collection[str] = True) -> type[Searcher]:
    """Import `"pkg.module:Class"`; a ConfigError unless it names a `Searcher` subclass, or
    (before anything is imported) when `allow` does not cover the module (see `make_searcher`)."""
    module_name, _, attr = path.partition(":")
    if not _allowed(module_name, allow):
        raise ConfigError(
            f"searcher.searcher_class: {module_name!r} is not imported here: a master imports "
            "custom searchers only from the modules its operator lists in master.yaml "
            "`searcher_modules`; run custom searchers in your own process "
            "(trainyard.searcher.simulate) or use a built-in searcher"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ConfigError(
            f"searcher.searcher_class: cannot import {module_name!r} ({err}); is it on "
            "PYTHONPATH or in the model directory?"
        ) from None
    cls = getattr(module, attr, None)
    if not (isinstance(cls, type) and issubclass(cls, Searcher)):
        raise ConfigError(
            f"searcher.searcher_class: {path} is not a subclass of trainyard.searcher.Searcher"
        )
    return cls


def _allowed(module_name: str, allow: bool | Collection[str]) -> bool:
    if isinstance(allow, bool):
        return allow
    return any(module_name == m or module_name.startswith(m + ".") for m in allow)


_BUILDERS: dict[str, _Builder] = {
    "single": _single,
    "grid": _grid,
    "random": _random,
    "sync_halving": _sync,
    "async_halving": _async,
    "adaptive_asha": _adaptive,
    "pbt": _pbt,
}
