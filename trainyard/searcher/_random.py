"""Random search and the single-trial search (random search with one trial)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trainyard.searcher._common import Seed, check_positive
from trainyard.searcher._sampler import HParamSampler
from trainyard.searcher._space import HParamSpace
from trainyard.searcher._to_completion import ToCompletionSearch


class RandomSearch(ToCompletionSearch):
    """`max_trials` trials with hyperparameters drawn at random, each trained to `max_length`
    (None: as long as the training script decides; see `ToCompletionSearch`).

    Example:
        >>> s = RandomSearch({"lr": {"type": "double", "minval": 0.1, "maxval": 1.0}},
        ...                  max_length=100, max_trials=4, max_concurrent_trials=2)
        >>> [type(op).__name__ for op in s.initial_operations()]
        ['Create', 'ValidateAfter', 'Create', 'ValidateAfter']
    """

    def __init__(
        self,
        hparam_space: HParamSpace | Mapping[str, Any] | None,
        *,
        max_length: int | None,
        max_trials: int,
        max_concurrent_trials: int = 16,
        smaller_is_better: bool = True,
        seed: Seed = 0,
        sampler: HParamSampler | None = None,
    ) -> None:
        super().__init__(
            hparam_space,
            max_length=max_length,
            total=check_positive("max_trials", max_trials),
            max_concurrent_trials=max_concurrent_trials,
            smaller_is_better=smaller_is_better,
            seed=seed,
            sampler=sampler,
        )

    def _next_hparams(self, request_id: int) -> dict[str, Any]:
        return self._sample_hparams(request_id)


class SingleSearch(RandomSearch):
    """One trial trained to `max_length`, or as long as its script decides when None (constant
    hyperparameters as given, others sampled)."""

    def __init__(
        self,
        hparam_space: HParamSpace | Mapping[str, Any] | None,
        *,
        max_length: int | None,
        smaller_is_better: bool = True,
        seed: Seed = 0,
    ) -> None:
        super().__init__(
            hparam_space,
            max_length=max_length,
            max_trials=1,
            max_concurrent_trials=1,
            smaller_is_better=smaller_is_better,
            seed=seed,
        )
