"""Asynchronous successive halving (ASHA), promotion variant (Li et al. 2020; Determined's).

Every trial starts at rung 0. When a trial completes rung k (below the top), its metric enters
rung k and any trial among the top `floor(n / divisor)` of rung k not yet promoted is promoted: it
trains on (from its checkpoint) to rung k+1's length. If nothing was promoted and fewer than
`max_trials` trials exist, a new trial is created, so the number of trials in training stays at
`asynchronous_concurrency()`. Once all `max_trials` exist, trials that can never be promoted any
more are closed: walking up from rung 0, while a rung has no trial training towards it, its
unpromoted trials are closed. A rung that ends up with too few results to promote any
(`n < divisor`) promotes its best one anyway, so every search trains at least one trial to
`max_length` (the paper's rule would leave small brackets without a finished trial).

With a sampler that draws without repeats (`sampler: tpe`) on a finite space, once every
configuration has been drawn a new trial would only repeat one: the best waiting trial of the
highest rung that has one is promoted instead (the uniform sampler never reports that, so
`sampler: uniform` keeps Determined's behaviour).

Example (3 rungs, divisor 3, 12 trials, max_length 9000): 8 trials end at 1000, 3 at 3000 and one
reaches 9000, whatever the metrics and the order of events.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trainyard.searcher._common import WORST, Seed
from trainyard.searcher._halving import HalvingBase
from trainyard.searcher._ops import Operation, ValidateAfter
from trainyard.searcher._rungs import Rung
from trainyard.searcher._sampler import HParamSampler
from trainyard.searcher._space import HParamSpace


class AsyncHalving(HalvingBase):
    """ASHA with promotions; see the module docstring. `max_concurrent_trials=0`: see
    `asynchronous_concurrency`. A trial that fails or is canceled counts as the worst metric at
    the rung it was training towards; one that reports invalid hyperparameters before its first
    validation is replaced and not counted.
    """

    def __init__(
        self,
        hparam_space: HParamSpace | Mapping[str, Any] | None,
        *,
        max_length: int,
        max_trials: int,
        num_rungs: int,
        divisor: float = 4,
        max_concurrent_trials: int = 16,
        smaller_is_better: bool = True,
        seed: Seed = 0,
        sampler: HParamSampler | None = None,
        shared_sampler: bool = False,
    ) -> None:
        super().__init__(
            hparam_space,
            max_length=max_length,
            num_rungs=num_rungs,
            divisor=divisor,
            max_trials=max_trials,
            max_concurrent_trials=max_concurrent_trials,
            smaller_is_better=smaller_is_better,
            seed=seed,
            sampler=sampler,
            shared_sampler=shared_sampler,
        )
        self.trial_rung: dict[int, int] = {}
        self.exited: set[int] = set()

    def _start(self) -> list[Operation]:
        ops: list[Operation] = []
        for _ in range(self.asynchronous_concurrency()):
            ops += self._new_trial()
        return ops

    def _new_trial(self) -> list[Operation]:
        rid, ops = self._create(self.rungs[0].length)
        self.trial_rung[rid] = 0
        self.rungs[0].outstanding += 1
        return ops

    def _validated(self, request_id: int, metric: float, length: int) -> list[Operation]:
        rung = self.rungs[self.trial_rung[request_id]]
        if request_id in rung.waiting or length < rung.length:
            return []
        ops, promoted = self._record(request_id, metric)
        return ops + self._continue(promoted)

    def _exited(self, request_id: int, invalid_hp: bool) -> list[Operation]:
        k = self.trial_rung[request_id]  # open trials always have a rung
        rung = self.rungs[k]
        if request_id in rung.waiting:  # idle between rungs: its result stands
            del rung.waiting[request_id]
            self.exited.add(request_id)
            return self._close_out()
        if invalid_hp and k == 0:
            rung.outstanding -= 1
            del self.trial_rung[request_id]
            self.ledger.uncount()
            return self._new_trial()
        self.exited.add(request_id)
        ops, promoted = self._record(request_id, WORST)
        return ops + self._continue(promoted)

    def _record(self, rid: int, metric: float) -> tuple[list[Operation], bool]:
        """`rid` completed its current rung; returns the operations and whether work was added."""
        k = self.trial_rung[rid]
        rung = self.rungs[k]
        rung.outstanding -= 1
        self.trained += rung.length - (self.rungs[k - 1].length if k else 0)
        rung.insert(metric, rid)
        if k == self.top:
            del self.trial_rung[rid]
            return ([self.ledger.close(rid)] if self.ledger.is_active(rid) else []), False
        if rid not in self.exited:
            rung.waiting[rid] = None
        winner = self._promotion(rung, rid, metric)
        if winner is None:
            return [], False
        rung.promoted.add(winner)
        rung.waiting.pop(winner, None)
        self.trial_rung[winner] = k + 1
        self.rungs[k + 1].outstanding += 1
        if winner in self.exited:  # it is gone: it completes the next rung at once, worst
            return self._record(winner, WORST)
        return [ValidateAfter(winner, self.rungs[k + 1].length)], True

    def _promotion(self, rung: Rung, rid: int, metric: float) -> int | None:
        """The trial to promote after `rid` entered `rung`, if any.

        Invariant: every trial in the top `floor(n / divisor)` of a rung is promoted. One more
        result raises that count by at most one, so at most one trial needs promoting: the new one
        if it ranks inside the top, else the one at the top's last place.
        """
        top = self.divisor.floor_div(len(rung.entries))
        if top == 0:
            return None
        if rung.rank(metric, rid) < top:
            return rid
        candidate = rung.entries[top - 1][1]
        return None if candidate in rung.promoted else candidate

    def _continue(self, promoted: bool) -> list[Operation]:
        ops: list[Operation] = []
        if not promoted and self.ledger.counted < self.max_trials:
            ops += (self._sampler_exhausted() and self._promote_extra()) or self._new_trial()
        return ops + self._close_out()

    def _sampler_exhausted(self) -> bool:
        return self.sampler.exhausted(self.space)

    def _promote_extra(self) -> list[Operation]:
        """A finite space is used up (the next trial would repeat a configuration): instead, the
        best waiting trial of the highest rung that has one goes on to the next rung. Returns []
        when no trial is waiting."""
        for k in range(self.top - 1, -1, -1):
            rung = self.rungs[k]
            if not rung.waiting:
                continue
            best = next(rid for _, rid in rung.entries if rid in rung.waiting)
            rung.promoted.add(best)
            del rung.waiting[best]
            self.trial_rung[best] = k + 1
            self.rungs[k + 1].outstanding += 1
            return [ValidateAfter(best, self.rungs[k + 1].length)]
        return []

    def _close_out(self) -> list[Operation]:
        if self.ledger.counted < self.max_trials:
            return []
        ops: list[Operation] = []
        for k, rung in enumerate(self.rungs):
            if rung.outstanding:
                break
            if k < self.top and not rung.promoted and rung.waiting:
                # Too few results for floor(n / divisor) >= 1: the best still goes on, so every
                # search trains at least one trial to max_length.
                best = next(rid for _, rid in rung.entries if rid in rung.waiting)
                rung.promoted.add(best)
                del rung.waiting[best]
                self.trial_rung[best] = k + 1
                self.rungs[k + 1].outstanding += 1
                ops.append(ValidateAfter(best, self.rungs[k + 1].length))
            ops += [self.ledger.close(rid) for rid in sorted(rung.waiting)]
            rung.waiting.clear()
        return ops

    def _more_work(self) -> bool:
        return self.ledger.counted < self.max_trials

    def _dump(self) -> dict[str, Any]:
        return {
            **self._dump_rungs(),
            "trial_rung": [[rid, k] for rid, k in self.trial_rung.items()],
            "exited": sorted(self.exited),
        }

    def _load(self, data: dict[str, Any]) -> None:
        self._load_rungs(data)
        self.trial_rung = {int(rid): int(k) for rid, k in data["trial_rung"]}
        self.exited = {int(rid) for rid in data["exited"]}
