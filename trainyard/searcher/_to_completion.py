"""Methods whose trials all train straight to `max_length`: single, grid and random search.

Without a `max_length` (None: Determined 0.38's way) the training script decides how long a trial
trains: trials get `ValidateAfter(request_id, 0)` (work without a length), and a trial that ends on
its own (`on_trial_closed` without a Close) has finished its work and counts as a success.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any

from trainyard.searcher._builtin import BuiltinSearch
from trainyard.searcher._common import Seed, check_non_negative, check_positive
from trainyard.searcher._ops import Create, Operation, ValidateAfter
from trainyard.searcher._sampler import HParamSampler
from trainyard.searcher._space import HParamSpace


class ToCompletionSearch(BuiltinSearch):
    """`total` trials, each trained to `max_length` and then closed (or, with `max_length`
    None, each training as long as its script decides).

    At most `max_concurrent_trials` trials are open at once (0: all of them); the next one is
    created when an open one has exited. A trial that reports invalid hyperparameters is replaced
    by a fresh one when `replaces_invalid_hp` is true, otherwise it simply counts as done.
    """

    replaces_invalid_hp = True

    def __init__(
        self,
        hparam_space: HParamSpace | Mapping[str, Any] | None,
        *,
        max_length: int | None,
        total: int,
        max_concurrent_trials: int,
        smaller_is_better: bool,
        seed: Seed,
        sampler: HParamSampler | None = None,
    ) -> None:
        super().__init__(
            hparam_space, smaller_is_better=smaller_is_better, seed=seed, sampler=sampler
        )
        self.max_length = None if max_length is None else check_positive("max_length", max_length)
        self.total = total
        self.max_concurrent_trials = check_non_negative(
            "max_concurrent_trials", max_concurrent_trials
        )
        self.drawn = 0
        self.completed = 0

    @abstractmethod
    def _next_hparams(self, request_id: int) -> dict[str, Any]:
        """Hyperparameters of trial `request_id` (`self.drawn` were handed out before it)."""

    def _start(self) -> list[Operation]:
        return self._fill()

    def _fill(self) -> list[Operation]:
        limit = self.max_concurrent_trials or self.total
        ops: list[Operation] = []
        while len(self.ledger.open) < limit and self.ledger.counted < self.total:
            rid = self.ledger.create()
            hparams = self._next_hparams(rid)
            self.drawn += 1
            ops += [Create(rid, hparams), ValidateAfter(rid, self.max_length or 0)]
        return ops

    def on_trial_closed(self, request_id: int) -> list[Operation]:
        if self.max_length is None and self.ledger.is_active(request_id):
            # The script decided its length and exited cleanly: the trial is done, not failed.
            self.ledger.close(request_id)
            self.completed += 1
        return super().on_trial_closed(request_id)

    def _validated(self, request_id: int, metric: float, length: int) -> list[Operation]:
        if self.max_length is None or length < self.max_length:
            return []
        self.completed += 1
        return [self.ledger.close(request_id)]

    def _closed(self, request_id: int) -> list[Operation]:
        return self._fill()

    def _exited(self, request_id: int, invalid_hp: bool) -> list[Operation]:
        if invalid_hp and self.replaces_invalid_hp:
            self.ledger.uncount()
        else:
            self.completed += 1
        return self._fill()

    def _more_work(self) -> bool:
        return self.ledger.counted < self.total

    def _progress(self) -> float:
        return self.completed / self.total

    def _dump(self) -> dict[str, Any]:
        return {"drawn": self.drawn, "completed": self.completed}

    def _load(self, data: dict[str, Any]) -> None:
        self.drawn = int(data["drawn"])
        self.completed = int(data["completed"])
