"""`CustomSearcher`: the base class for search methods users write themselves.

Configure with `searcher: {name: custom, metric: loss, searcher_class: "my_pkg.search:MySearch",
options: {...}}`. The master builds it as `MySearch(hparam_space, options=..., seed=...,
smaller_is_better=..., max_length=...)` and drives it like any built-in method.

Example:
    >>> from trainyard.searcher import Close, Create, CustomSearcher, Shutdown, ValidateAfter
    >>> class TwoTrials(CustomSearcher):
    ...     def initial_operations(self):
    ...         ops = []
    ...         for _ in range(2):
    ...             rid = self.new_request_id()
    ...             ops += [Create(rid, self.sample_hparams()), ValidateAfter(rid, 100)]
    ...         return ops
    ...     def on_validation_completed(self, request_id, metric, length):
    ...         self.state.setdefault("done", []).append(request_id)
    ...         return [Close(request_id)]
    ...     def on_trial_closed(self, request_id):
    ...         return [Shutdown()] if len(self.state["done"]) == 2 else []
    ...     def progress(self):
    ...         return len(self.state.get("done", [])) / 2
    >>> TwoTrials({"lr": 0.1}).initial_operations()[0]
    Create(request_id=1, hparams={'lr': 0.1}, checkpoint_from=None)
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from trainyard.searcher._base import Searcher
from trainyard.searcher._common import Seed, make_rng, rng_state, set_rng_state
from trainyard.searcher._ops import ExitedReason, Operation
from trainyard.searcher._space import HParamSpace


class CustomSearcher(Searcher):
    """A `Searcher` with the plumbing done: ids, a seeded generator, sampling, snapshots.

    Subclasses implement `initial_operations`, `on_validation_completed` and `progress` (and
    `on_trial_closed` / `on_trial_exited_early` when they care; by default those return nothing).
    Keep all mutable state in `self.state` (JSON-safe values only: dicts with str keys, lists,
    numbers, strings); `snapshot()` saves it with the generator state and the id counter, so a
    restarted master continues the search exactly. Use `self.rng` for every random choice.
    """

    def __init__(
        self,
        hparam_space: HParamSpace | Mapping[str, Any] | None,
        *,
        options: Mapping[str, Any] | None = None,
        seed: Seed = 0,
        smaller_is_better: bool = True,
        max_length: int | None = None,
    ) -> None:
        self.space = HParamSpace.of(hparam_space)
        self.options: dict[str, Any] = dict(options or {})
        self.smaller_is_better = smaller_is_better
        self.max_length = max_length
        self.rng = make_rng(seed)
        self.state: dict[str, Any] = {}
        self._next_request_id = 1

    def new_request_id(self) -> int:
        """A fresh request id for a `Create` (1, 2, 3, ... in call order)."""
        rid = self._next_request_id
        self._next_request_id += 1
        return rid

    def sample_hparams(self) -> dict[str, Any]:
        """A random point of the hyperparameter space, drawn from `self.rng`."""
        return self.space.sample(self.rng)

    def on_trial_closed(self, request_id: int) -> list[Operation]:
        return []

    def on_trial_exited_early(self, request_id: int, reason: ExitedReason) -> list[Operation]:
        return []

    def snapshot(self) -> dict[str, Any]:
        return {
            "rng": rng_state(self.rng),
            "next_request_id": self._next_request_id,
            "state": copy.deepcopy(self.state),
        }

    def restore(self, snapshot: dict[str, Any]) -> None:
        set_rng_state(self.rng, snapshot["rng"])
        self._next_request_id = int(snapshot["next_request_id"])
        self.state = copy.deepcopy(snapshot["state"])
