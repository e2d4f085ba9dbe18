"""The search the Core API contract suite runs on the real master: one trial, trained to 10, then
to 25, then closed (the same operations as the stub master hands out).

The master imports it by `searcher_class` (the contract fixture puts this folder on the master's
PYTHONPATH). Every `on_validation_completed` is kept in `state["completed"]` as
`[length, metric]` (non-finite metrics as "NaN"/"Infinity"/"-Infinity"), and every early exit in
`state["early_exits"]`, so the suite can read what the searcher received from the stored snapshot.
"""

from __future__ import annotations

import math

from trainyard.searcher import (
    Close,
    Create,
    CustomSearcher,
    ExitedReason,
    Operation,
    Shutdown,
    ValidateAfter,
)

LENGTHS = (10, 25)
"""The cumulative lengths the one trial is asked to train to, in order."""


def encode_metric(metric: float) -> float | str:
    """`metric` as the trial API writes it: finite as is, else "NaN"/"Infinity"/"-Infinity"."""
    if math.isnan(metric):
        return "NaN"
    if math.isinf(metric):
        return "Infinity" if metric > 0 else "-Infinity"
    return metric


class ContractSearcher(CustomSearcher):
    """One trial: `ValidateAfter(10)`, then `ValidateAfter(25)`, then `Close` and `Shutdown`."""

    def initial_operations(self) -> list[Operation]:
        rid = self.new_request_id()
        self.state.update(completed=[], early_exits=[])
        return [Create(rid, self.sample_hparams()), ValidateAfter(rid, LENGTHS[0])]

    def on_validation_completed(
        self, request_id: int, metric: float, length: int
    ) -> list[Operation]:
        self.state["completed"].append([length, encode_metric(metric)])
        later = [n for n in LENGTHS if n > length]
        return [ValidateAfter(request_id, later[0])] if later else [Close(request_id)]

    def on_trial_closed(self, request_id: int) -> list[Operation]:
        return [Shutdown()]

    def on_trial_exited_early(self, request_id: int, reason: ExitedReason) -> list[Operation]:
        self.state["early_exits"].append(reason.value)
        return [Shutdown()]

    def progress(self) -> float:
        return len(self.state.get("completed", [])) / len(LENGTHS)
