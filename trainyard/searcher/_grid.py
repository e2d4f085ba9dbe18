"""Grid search: one trial per point of the hyperparameter grid, each trained to `max_length`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trainyard.searcher._common import Seed
from trainyard.searcher._space import HParamSpace
from trainyard.searcher._to_completion import ToCompletionSearch


class GridSearch(ToCompletionSearch):
    """Every point of the cartesian product of the hyperparameters' grid axes, in order, each
    trained to `max_length` (None: as long as the training script decides).

    Axes: `count` evenly spaced values from minval to maxval inclusive (ints rounded and
    deduplicated, every int when `count` is missing and the range holds at most 10,000; the
    midpoint when `count` is 1; log values spaced in the exponent), categorical `vals`,
    constants. A point whose trial reports invalid hyperparameters is not retried (the same point
    would fail again).

    Example: int [0, 20] and int [0, 10], both with count 3 → 9 points {0,10,20} × {0,5,10}.
    """

    replaces_invalid_hp = False

    def __init__(
        self,
        hparam_space: HParamSpace | Mapping[str, Any] | None,
        *,
        max_length: int | None,
        max_concurrent_trials: int = 16,
        smaller_is_better: bool = True,
        seed: Seed = 0,
    ) -> None:
        space = HParamSpace.of(hparam_space)
        super().__init__(
            space,
            max_length=max_length,
            total=space.grid_size(),
            max_concurrent_trials=max_concurrent_trials,
            smaller_is_better=smaller_is_better,
            seed=seed,
        )

    def _next_hparams(self, request_id: int) -> dict[str, Any]:
        return self.space.grid_point(self.drawn)
