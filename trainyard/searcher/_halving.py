"""What the successive-halving methods (SHA, ASHA and its stopping variant) share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trainyard.searcher._builtin import BuiltinSearch
from trainyard.searcher._common import Seed, check_non_negative, check_positive
from trainyard.searcher._ops import Create, Operation, ValidateAfter
from trainyard.searcher._rungs import Divisor, Rung, expected_total_length, rung_lengths
from trainyard.searcher._sampler import HParamSampler
from trainyard.searcher._space import HParamSpace


class HalvingBase(BuiltinSearch):
    """Rungs, divisor, `max_trials`, concurrency and progress of a halving search.

    Rung lengths are `floor(max_length / divisor**(num_rungs-1-i))`; `num_rungs` is capped so every
    rung is at least 1 long and no two rungs share a length (see `rung_lengths`).
    """

    def __init__(
        self,
        hparam_space: HParamSpace | Mapping[str, Any] | None,
        *,
        max_length: int,
        num_rungs: int,
        divisor: float,
        max_trials: int,
        max_concurrent_trials: int,
        smaller_is_better: bool,
        seed: Seed,
        sampler: HParamSampler | None = None,
        shared_sampler: bool = False,
    ) -> None:
        super().__init__(
            hparam_space,
            smaller_is_better=smaller_is_better,
            seed=seed,
            sampler=sampler,
            shared_sampler=shared_sampler,
        )
        self.divisor = Divisor.of(divisor)
        self.max_trials = check_positive("max_trials", max_trials)
        lengths = rung_lengths(
            check_positive("max_length", max_length),
            self.divisor,
            check_positive("num_rungs", num_rungs),
        )
        self.rungs = [Rung(length) for length in lengths]
        self.max_concurrent_trials = check_non_negative(
            "max_concurrent_trials", max_concurrent_trials
        )
        self.expected_length = expected_total_length(lengths, self.max_trials, self.divisor)
        self.trained = 0

    @property
    def rung_lengths(self) -> list[int]:
        """The rungs' cumulative lengths, ascending; the last is `max_length`."""
        return [rung.length for rung in self.rungs]

    @property
    def top(self) -> int:
        """Index of the top rung."""
        return len(self.rungs) - 1

    def asynchronous_concurrency(self) -> int:
        """Trials ASHA keeps training at once: `max_concurrent_trials`, capped by `max_trials`.

        0 means as many as one bracket can use: `ceil(divisor**(num_rungs-1))`, capped likewise
        (Determined's default), so one trial can reach the top rung per wave.
        """
        if self.max_concurrent_trials:
            return min(self.max_concurrent_trials, self.max_trials)
        power = len(self.rungs) - 1
        wave = int(-(-(self.divisor.num**power) // self.divisor.den**power))
        return max(1, min(wave, self.max_trials))

    def _create(self, length: int) -> tuple[int, list[Operation]]:
        rid = self.ledger.create()
        return rid, [Create(rid, self._sample_hparams(rid)), ValidateAfter(rid, length)]

    def _progress(self) -> float:
        return self.trained / self.expected_length

    def _dump_rungs(self) -> dict[str, Any]:
        return {"rungs": [rung.dump() for rung in self.rungs], "trained": self.trained}

    def _load_rungs(self, data: dict[str, Any]) -> None:
        self.rungs = [Rung.load(rung) for rung in data["rungs"]]
        self.trained = int(data["trained"])
