"""What a search will do before it runs: trials and training length per bracket and rung.

`preview_search(config)` plays the search on one simulated slot with a neutral objective (a
deterministic pseudo-random metric per hyperparameter set, so promotions happen) and counts, per
rung, how many trials reach it and how many stop there. Like Determined's `preview-search`.

Example:
    >>> print(preview_search(Path("examples/synthetic/adaptive.yaml")))  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from trainyard.config import (
    MAX_PREVIEW_TRIALS,
    ExperimentConfig,
    searcher_length_unit,
    searcher_max_length,
)
from trainyard.errors import ConfigError
from trainyard.searcher._adaptive import AdaptiveASHA
from trainyard.searcher._base import Searcher
from trainyard.searcher._halving import HalvingBase
from trainyard.searcher._sim_config import report_lengths, resolve_config
from trainyard.searcher._sim_types import SimulatedTrial, SimulationResult
from trainyard.searcher._simulate import simulate_searcher
from trainyard.searcher._space import HParamSpace
from trainyard.searcher._to_completion import ToCompletionSearch

__all__ = ["BracketPreview", "RungPreview", "SearchPreview", "preview_search"]


@dataclass(frozen=True, slots=True)
class RungPreview:
    """One rung: its length, trials that trained at least that far, trials that ended there.

    A trial "stops" at the highest rung it reached (its furthest length is at least this rung's
    and short of the next one's); a trial that never reached the first rung is in neither count.
    """

    length: int
    trials_reaching: int
    trials_stopping: int


@dataclass(frozen=True, slots=True)
class BracketPreview:
    """One bracket (adaptive ASHA runs several; other methods have exactly one)."""

    index: int
    rungs: list[RungPreview]
    trials: int
    total_length: int


@dataclass(frozen=True, slots=True)
class SearchPreview:
    """The whole preview. `unit` is the length unit (`batches`, `epochs`, or the time metric).

    `script_decides_length`: the search has no length (single/grid/random without max_length),
    so only the trial count is known. `warnings`: the config's lines about ignored or translated
    (e.g. Determined) fields, one per field.
    """

    method: str
    unit: str
    brackets: list[BracketPreview]
    total_trials: int
    total_length: int
    script_decides_length: bool = False
    warnings: list[str] = field(default_factory=list)

    def format(self) -> str:
        """A plain-text table: one line per rung, grouped by bracket, then the totals."""
        header = f"{'bracket':>7}  {'rung':>4}  {'length':>12}  {'reaching':>8}  {'stopping':>8}"
        lines = [f"Search preview: {self.method} ({self.unit})", header, "-" * len(header)]
        for bracket in self.brackets:
            for i, rung in enumerate(bracket.rungs):
                lines.append(
                    f"{bracket.index if i == 0 else '':>7}  {i:>4}  {rung.length:>12,}"
                    f"  {rung.trials_reaching:>8}  {rung.trials_stopping:>8}"
                )
        lines.append("-" * len(header))
        lines.append(f"Total trials: {self.total_trials:,}")
        lines.append(f"Total length: {self.total_length:,} {self.unit}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()


def neutral_metric(hparams: Mapping[str, Any], length: int) -> float:
    """A metric in [0, 1) fixed by the hyperparameters alone: distinct trials rank differently."""
    text = repr(sorted(hparams.items()))
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _unit_cost(hparams: Mapping[str, Any], length: int) -> float:
    return float(length)


def preview_search(
    config: Any, *, seed: int = 0, allow_custom: bool | Collection[str] = False
) -> SearchPreview:
    """Simulate `config`'s search on one slot and summarise it per bracket and rung.

    `config` is anything `load_experiment_config` takes. Halving searches list their own rungs
    (adaptive ASHA one bracket each); any other search is one bracket whose "rungs" are the
    distinct lengths its trials ended at. Bad config input raises `ConfigError`. `allow_custom`
    is `make_searcher`'s: a custom searcher is only previewed where its code may be imported.
    """
    # Imported here: the factory imports every search method, which may import this module.
    from trainyard.searcher._factory import make_searcher

    loaded = _plan_equivalent(resolve_config(config))
    sc = loaded.searcher
    searcher = make_searcher(loaded, seed=seed, allow_custom=allow_custom)
    total = getattr(searcher, "total", None)
    if searcher_max_length(loaded) is None and isinstance(total, int):
        return SearchPreview(
            method=str(sc.name),
            unit=searcher_length_unit(loaded) or "batches",
            brackets=[BracketPreview(index=0, rungs=[], trials=total, total_length=0)],
            total_trials=total,
            total_length=0,
            script_decides_length=True,
            warnings=list(loaded.warnings),
        )
    if isinstance(searcher, ToCompletionSearch) and searcher.max_length is not None:
        return _straight_preview(loaded, searcher, searcher.max_length)
    _check_preview_size(loaded)
    result = simulate_searcher(
        searcher,
        neutral_metric,
        _unit_cost,
        workers=1,
        smaller_is_better=bool(sc.smaller_is_better),
        report_lengths=report_lengths(loaded, searcher),
    )
    brackets = [
        _bracket(i, ladder, trials) for i, (ladder, trials) in enumerate(_plan(searcher, result))
    ]
    return SearchPreview(
        method=str(sc.name),
        unit=sc.time_metric or searcher_length_unit(loaded) or "batches",
        brackets=brackets,
        total_trials=len(result.trials),
        total_length=result.total_length,
        warnings=list(loaded.warnings),
    )


def _plan_equivalent(loaded: ExperimentConfig) -> ExperimentConfig:
    """`loaded` with uninformed (uniform) draws where the sampler's choice is noise.

    The preview scores trials with `neutral_metric`, not a real one, so its promotions are an
    estimate whatever the draws; a model fitted to that metric would only cost milliseconds a
    draw (2,000 trials: 5 s instead of 0.07 s). On a finite space a non-repeating sampler keeps
    its own draws: using the space up changes the plan (ASHA promotes instead of repeating)."""
    sampler = getattr(loaded.searcher, "sampler", None)
    if sampler in (None, "uniform", "random"):
        return loaded
    space = HParamSpace.of(loaded.hyperparameters)
    if all(p.type in ("const", "int", "categorical") for p in space.params):
        return loaded
    searcher = loaded.searcher.model_copy(update={"sampler": "uniform"})
    return loaded.model_copy(update={"searcher": searcher})


def _straight_preview(
    loaded: ExperimentConfig, searcher: ToCompletionSearch, length: int
) -> SearchPreview:
    """Single, grid and random search, without simulating: every trial trains to `length`
    (what the simulation gives, at any size)."""
    total = searcher.total
    rung = RungPreview(length, total, total)
    return SearchPreview(
        method=str(loaded.searcher.name),
        unit=loaded.searcher.time_metric or searcher_length_unit(loaded) or "batches",
        brackets=[BracketPreview(index=0, rungs=[rung], trials=total, total_length=total * length)],
        total_trials=total,
        total_length=total * length,
        warnings=list(loaded.warnings),
    )


def _check_preview_size(loaded: ExperimentConfig) -> None:
    """Halving searches and PBT are simulated trial by trial: refuse one past
    `MAX_PREVIEW_TRIALS`, so a preview (and a request serving one) is bounded work."""
    s = loaded.searcher
    if s.name == "pbt":
        count, where = s.population_size * s.num_rounds, "searcher.population_size"
    else:
        count, where = getattr(s, "max_trials", 0) or 0, "searcher.max_trials"
    if count > MAX_PREVIEW_TRIALS:
        raise ConfigError(
            f"{where}: preview simulates each of the {count:,} trials and stops at "
            f"{MAX_PREVIEW_TRIALS:,}; lower {where} to preview the search"
        )


def _plan(
    searcher: Searcher, result: SimulationResult
) -> list[tuple[list[int], list[SimulatedTrial]]]:
    """(rung lengths, trials) per bracket."""
    if isinstance(searcher, AdaptiveASHA):
        groups: list[list[SimulatedTrial]] = [[] for _ in searcher.brackets]
        for trial in result.trials:
            groups[searcher.owner[trial.request_id - 1][0]].append(trial)
        return [(b.rung_lengths, g) for b, g in zip(searcher.brackets, groups, strict=True)]
    if isinstance(searcher, HalvingBase):
        return [(searcher.rung_lengths, result.trials)]
    return [(sorted({t.length for t in result.trials}), result.trials)]


def _bracket(index: int, ladder: list[int], trials: list[SimulatedTrial]) -> BracketPreview:
    ends = [t.length for t in trials]
    rungs = []
    for i, length in enumerate(ladder):
        reaching = sum(1 for e in ends if e >= length)
        above = sum(1 for e in ends if e >= ladder[i + 1]) if i + 1 < len(ladder) else 0
        rungs.append(RungPreview(length, reaching, reaching - above))
    return BracketPreview(
        index=index,
        rungs=rungs,
        trials=len(trials),
        total_length=sum(t.trained_length for t in trials),
    )
