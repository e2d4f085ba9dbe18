"""ASHA, stopping variant: trials train on unless a rung stops them.

Used with `stop_once: true` or a `time_metric` (trial-driven). A trial's validation at or past a
rung's length enters that rung (once per trial and rung, with the metric of its first validation
there). A trial outside the top `max(1, floor(n / divisor))` of a rung it reached is stopped. With
`stop_once` each rung judges a trial once, when the trial reaches it; without, every later
validation re-checks all rungs the trial reached. Each stopped, finished or failed trial makes
room for a new one until `max_trials` exist.

Trial-driven (`trial_driven=True`): each trial gets one `ValidateAfter(max_length)` and reports
validations on the way; a losing trial gets `Stop`. Searcher-driven: a trial gets
`ValidateAfter(rung length)` one rung at a time and a losing one is closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from trainyard.searcher._common import WORST, Seed, decode_metric, encode_metric
from trainyard.searcher._halving import HalvingBase
from trainyard.searcher._ops import Operation, ValidateAfter
from trainyard.searcher._sampler import HParamSampler
from trainyard.searcher._space import HParamSpace


@dataclass(slots=True)
class _Trial:
    next_rung: int = 0
    length: int = 0
    metrics: list[float] = field(default_factory=list)
    """The trial's metric at each rung it reached, by rung index."""


class AsyncHalvingStopping(HalvingBase):
    """ASHA that stops losing trials instead of promoting winners; see the module docstring.

    `stop_once` defaults to True (`searcher.stop_once: true` is the usual way here); the factory
    passes the config's value, so a `time_metric` search without `stop_once` re-checks rungs.
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
        stop_once: bool = True,
        trial_driven: bool = False,
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
        self.stop_once = stop_once
        self.trial_driven = trial_driven
        self.trials: dict[int, _Trial] = {}

    def _start(self) -> list[Operation]:
        ops: list[Operation] = []
        for _ in range(self.asynchronous_concurrency()):
            ops += self._new_trial()
        return ops

    def _new_trial(self) -> list[Operation]:
        first = self.rungs[-1 if self.trial_driven else 0].length
        rid, ops = self._create(first)
        self.trials[rid] = _Trial()
        return ops

    def _validated(self, request_id: int, metric: float, length: int) -> list[Operation]:
        trial = self.trials[request_id]
        start = trial.next_rung
        if not self.trial_driven and length < self.rungs[start].length:
            return []
        self.trained += max(0, length - trial.length)
        trial.length = max(trial.length, length)
        k = start
        while k <= self.top and length >= self.rungs[k].length:
            self.rungs[k].insert(metric, request_id)
            trial.metrics.append(metric)
            k += 1
        trial.next_rung = k
        if k > self.top:
            return self._done(request_id, stop=False)
        judged = range(start, k) if self.stop_once else range(k)
        if any(self._loses(j, trial.metrics[j], request_id) for j in judged):
            return self._done(request_id, stop=self.trial_driven)
        if self.trial_driven:
            return []
        return [ValidateAfter(request_id, self.rungs[k].length)]

    def _loses(self, rung_index: int, metric: float, rid: int) -> bool:
        rung = self.rungs[rung_index]
        keep = max(1, self.divisor.floor_div(len(rung.entries)))
        return rung.rank(metric, rid) >= keep

    def _done(self, rid: int, *, stop: bool) -> list[Operation]:
        del self.trials[rid]
        ops: list[Operation] = [self.ledger.stop(rid) if stop else self.ledger.close(rid)]
        return ops + self._refill()

    def _refill(self) -> list[Operation]:
        return self._new_trial() if self.ledger.counted < self.max_trials else []

    def _exited(self, request_id: int, invalid_hp: bool) -> list[Operation]:
        trial = self.trials.pop(request_id)
        if invalid_hp and trial.length == 0:
            self.ledger.uncount()
        else:  # an open trial has a rung ahead: reaching the top closes it
            self.rungs[trial.next_rung].insert(WORST, request_id)
        return self._refill()

    def _more_work(self) -> bool:
        return self.ledger.counted < self.max_trials

    def _dump(self) -> dict[str, Any]:
        return {
            **self._dump_rungs(),
            "trials": [
                [rid, t.next_rung, t.length, [encode_metric(m) for m in t.metrics]]
                for rid, t in self.trials.items()
            ],
        }

    def _load(self, data: dict[str, Any]) -> None:
        self._load_rungs(data)
        self.trials = {
            int(rid): _Trial(int(k), int(length), [decode_metric(m) for m in metrics])
            for rid, k, length, metrics in data["trials"]
        }
