"""What a search will do before it runs: trials and training length per bracket and rung.

`preview_search(config)` plays the search on one simulated slot with a neutral objective (a
deterministic pseudo-random metric per hyperparameter set, so promotions happen) and counts, per
rung, how many trials reach it and how many stop there. Like Determined's `preview-search`.

Example:
    >>> print(preview_search("examples/synthetic/adaptive.yaml"))  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trainyard.searcher._sim_config import halving_rungs, max_length_of, resolve_config
from trainyard.searcher._sim_types import SimulatedTrial
from trainyard.searcher._simulate import simulate

__all__ = ["BracketPreview", "RungPreview", "SearchPreview", "preview_search"]


@dataclass(frozen=True, slots=True)
class RungPreview:
    """One rung: its length, trials that trained at least that far, trials that ended there.

    A trial "stops" at the highest rung it reached (its furthest length is at least this rung's
    and short of the next one's).
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
    """The whole preview. `unit` is the length unit (`batches`, `epochs`, or the time metric)."""

    method: str
    unit: str
    brackets: list[BracketPreview]
    total_trials: int
    total_length: int

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


def preview_search(config: Any, *, seed: int = 0) -> SearchPreview:
    """Simulate `config`'s search on one slot and summarise it per bracket and rung.

    `config` is anything `load_experiment_config` takes. Halving searches driven by the searcher
    get one bracket per distinct first rung; every other search (and trial-driven halving, whose
    trials all aim at `max_time`) is one bracket whose rungs are the lengths trials ended at.
    """
    loaded = resolve_config(config)
    sc = loaded.searcher
    result = simulate(loaded, neutral_metric, _unit_cost, workers=1, seed=seed)
    top = max_length_of(sc)
    by_first_rung = halving_rungs(sc) is not None and getattr(sc, "time_metric", None) is None
    groups: dict[int, list[SimulatedTrial]] = {}
    for trial in result.trials:
        key = trial.metrics[0][0] if by_first_rung and trial.metrics else 0
        groups.setdefault(key, []).append(trial)
    brackets = [
        _bracket(i, groups[key], top, per_rung=by_first_rung)
        for i, key in enumerate(sorted(groups))
    ]
    unit = getattr(sc, "time_metric", None) or _length_unit(sc)
    return SearchPreview(
        method=str(sc.name),
        unit=unit,
        brackets=brackets,
        total_trials=len(result.trials),
        total_length=result.total_length,
    )


def _bracket(
    index: int, trials: list[SimulatedTrial], top: int | None, *, per_rung: bool
) -> BracketPreview:
    lengths = {length for t in trials for length, _ in t.metrics} if per_rung else set()
    lengths |= {t.length for t in trials}
    if per_rung and top is not None:
        lengths.add(top)
    ladder = sorted(lengths)
    ends = sorted(t.length for t in trials)
    rungs = []
    for i, length in enumerate(ladder):
        upper = ladder[i + 1] if i + 1 < len(ladder) else None
        reaching = sum(1 for e in ends if e >= length)
        above = sum(1 for e in ends if upper is not None and e >= upper)
        rungs.append(RungPreview(length, reaching, reaching - above))
    return BracketPreview(
        index=index,
        rungs=rungs,
        trials=len(trials),
        total_length=sum(t.trained_length for t in trials),
    )


def _length_unit(searcher_config: Any) -> str:
    length = getattr(searcher_config, "max_length", None)
    if length is None:
        length = getattr(searcher_config, "length_per_round", None)
    return str(getattr(length, "unit", "batches"))
