"""CustomSearcher: ids, sampling, state and generator survive snapshot/restore."""

from __future__ import annotations

import json
from typing import Any

from trainyard.searcher import (
    Close,
    Create,
    CustomSearcher,
    ExitedReason,
    Operation,
    Shutdown,
    ValidateAfter,
)

SPACE = {"lr": {"type": "double", "minval": 0.0, "maxval": 1.0}}


class OneAtATime(CustomSearcher):
    """Trials one after another until `options["trials"]` have validated."""

    def initial_operations(self) -> list[Operation]:
        return self._next()

    def _next(self) -> list[Operation]:
        rid = self.new_request_id()
        return [Create(rid, self.sample_hparams()), ValidateAfter(rid, 10)]

    def on_validation_completed(
        self, request_id: int, metric: float, length: int
    ) -> list[Operation]:
        done = self.state.setdefault("done", [])
        done.append(request_id)
        if len(done) == self.options["trials"]:
            return [Close(request_id), Shutdown()]
        return [Close(request_id), *self._next()]

    def progress(self) -> float:
        return len(self.state.get("done", [])) / int(self.options["trials"])


def test_defaults_and_helpers() -> None:
    s = OneAtATime(SPACE, options={"trials": 3}, seed=4, max_length=10)
    assert s.on_trial_closed(1) == [] and s.on_trial_exited_early(1, ExitedReason.ERRORED) == []
    assert s.new_request_id() == 1 and s.new_request_id() == 2
    assert s.max_length == 10 and s.smaller_is_better is True


def test_snapshot_restores_ids_state_and_generator() -> None:
    a = OneAtATime(SPACE, options={"trials": 3}, seed=4)
    a.initial_operations()
    a.on_validation_completed(1, 0.3, 10)
    saved: dict[str, Any] = json.loads(json.dumps(a.snapshot()))
    b = OneAtATime(SPACE, options={"trials": 3}, seed=999)
    b.restore(saved)
    assert b.on_validation_completed(2, 0.2, 10) == a.on_validation_completed(2, 0.2, 10)
    assert b.progress() == a.progress() == 2 / 3
