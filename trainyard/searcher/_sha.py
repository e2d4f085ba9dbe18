"""Synchronous successive halving (SHA, Jamieson & Talwalkar 2016).

`max_trials` trials train to rung 0's length. When every trial of a rung has its result, the best
`max(1, floor(n / divisor))` (ties by request id) train on to the next rung and the others are
closed; after the top rung all are closed. Example: 16 trials, divisor 4, 3 rungs → 16 trials at
rung 0, 4 at rung 1, 1 at rung 2. At most `max_concurrent_trials` trials train at once (0: no
limit); trials waiting for their rung to finish do not count.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from trainyard.searcher._common import WORST, Seed, decode_metric, encode_metric
from trainyard.searcher._halving import HalvingBase
from trainyard.searcher._ops import Operation, ValidateAfter
from trainyard.searcher._sampler import HParamSampler
from trainyard.searcher._space import HParamSpace


class SyncHalving(HalvingBase):
    """SHA; see the module docstring. A failed or canceled trial counts as the worst metric and is
    never promoted; invalid hyperparameters before the first validation are replaced."""

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
        self.level = 0
        self.members: list[int] = []
        self.results: dict[int, float] = {}
        self.queue: deque[int] = deque()
        self.active: set[int] = set()
        self.exited: set[int] = set()
        self.finished = False

    def _start(self) -> list[Operation]:
        return self._dispatch()

    def _dispatch(self) -> list[Operation]:
        ops: list[Operation] = []
        limit = self.max_concurrent_trials or self.max_trials
        length = self.rungs[self.level].length
        while len(self.active) < limit:
            if self.level == 0 and self.ledger.counted < self.max_trials:
                rid, created = self._create(length)
                self.members.append(rid)
                ops += created
            elif self.queue:
                rid = self.queue.popleft()
                ops.append(ValidateAfter(rid, length))
            else:
                break
            self.active.add(rid)
        return ops

    def _validated(self, request_id: int, metric: float, length: int) -> list[Operation]:
        if request_id not in self.active or length < self.rungs[self.level].length:
            return []
        self.active.discard(request_id)
        self.results[request_id] = metric
        previous = self.rungs[self.level - 1].length if self.level else 0
        self.trained += self.rungs[self.level].length - previous
        return self._advance() + self._dispatch()

    def _exited(self, request_id: int, invalid_hp: bool) -> list[Operation]:
        if request_id in self.active and invalid_hp and self.level == 0:
            self.active.discard(request_id)
            self.members.remove(request_id)
            self.ledger.uncount()
            return self._dispatch()
        self.exited.add(request_id)
        if request_id in self.queue:
            self.queue.remove(request_id)
        self.active.discard(request_id)
        self.results.setdefault(request_id, WORST)
        return self._advance() + self._dispatch()

    def _advance(self) -> list[Operation]:
        """Close out a complete rung and queue its winners for the next one."""
        complete = self.level > 0 or self.ledger.counted == self.max_trials
        if not complete or len(self.results) < len(self.members):
            return []
        ranked = sorted(self.members, key=lambda rid: (self.results[rid], rid))
        alive = [rid for rid in ranked if rid not in self.exited]
        keep = 0 if self.level == self.top else max(1, self.divisor.floor_div(len(ranked)))
        ops: list[Operation] = [self.ledger.close(rid) for rid in sorted(alive[keep:])]
        if not alive[:keep]:
            self.finished = True
            return ops
        self.level += 1
        self.members = alive[:keep]
        self.results = {}
        self.queue.extend(self.members)
        return ops

    def _more_work(self) -> bool:
        return not self.finished

    def _dump(self) -> dict[str, Any]:
        return {
            **self._dump_rungs(),
            "level": self.level,
            "members": self.members,
            "results": [[rid, encode_metric(m)] for rid, m in self.results.items()],
            "queue": list(self.queue),
            "active": sorted(self.active),
            "exited": sorted(self.exited),
            "finished": self.finished,
        }

    def _load(self, data: dict[str, Any]) -> None:
        self._load_rungs(data)
        self.level = int(data["level"])
        self.members = [int(rid) for rid in data["members"]]
        self.results = {int(rid): decode_metric(m) for rid, m in data["results"]}
        self.queue = deque(int(rid) for rid in data["queue"])
        self.active = {int(rid) for rid in data["active"]}
        self.exited = {int(rid) for rid in data["exited"]}
        self.finished = bool(data["finished"])
