"""Population-based training (Jaderberg et al. 2017), truncation selection as in Determined.

`population_size` trials train `length_per_round` per round: in round r every member validates at
cumulative length `r * length_per_round`. When all members of a round have a result, the worst
`floor(truncate_fraction * population_size)` (ties by request id) are closed and replaced by
children of the same number of best members: child i explores the hyperparameters of the i-th best
(`_explore.explore`) and starts from its checkpoint (`Create(..., checkpoint_from=parent)`), so it
inherits the parent's trained length. Members that failed count as the worst and are always
replaced. After `num_rounds` rounds every member is closed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from trainyard.searcher._builtin import BuiltinSearch
from trainyard.searcher._common import (
    WORST,
    Seed,
    check_fraction,
    check_positive,
    decode_metric,
    encode_metric,
)
from trainyard.searcher._explore import explore
from trainyard.searcher._ops import Create, Operation, ValidateAfter
from trainyard.searcher._sampler import HParamSampler
from trainyard.searcher._space import HParamSpace


class PBT(BuiltinSearch):
    """PBT; see the module docstring. A first-round trial that reports invalid hyperparameters
    before its first validation is replaced at once by a fresh sample; a child that does counts
    as failed and is replaced at the end of the round like any failed member.

    `sampler` draws the first population and the values a child resamples (uniform by default,
    Determined's way); a learning sampler sees every member's result at its cumulative length.
    """

    def __init__(
        self,
        hparam_space: HParamSpace | Mapping[str, Any] | None,
        *,
        population_size: int,
        num_rounds: int,
        length_per_round: int,
        truncate_fraction: float,
        resample_probability: float,
        perturb_factor: float,
        smaller_is_better: bool = True,
        seed: Seed = 0,
        sampler: HParamSampler | None = None,
    ) -> None:
        super().__init__(
            hparam_space, smaller_is_better=smaller_is_better, seed=seed, sampler=sampler
        )
        self.population_size = check_positive("population_size", population_size)
        self.num_rounds = check_positive("num_rounds", num_rounds)
        self.length_per_round = check_positive("length_per_round", length_per_round)
        fraction = check_fraction("truncate_fraction", truncate_fraction, low=0.0, high=0.5)
        # floor, robust to 0.29 * 100 == 28.999999999999996
        self.truncate = math.floor(fraction * self.population_size + 1e-9)
        self.resample_probability = check_fraction(
            "resample_probability", resample_probability, low=0.0, high=1.0
        )
        self.perturb_factor = check_fraction("perturb_factor", perturb_factor, low=0.0, high=1.0)
        self.round = 1
        self.members: list[int] = []
        self.results: dict[int, float] = {}
        self.exited: set[int] = set()
        self.hparams: dict[int, dict[str, Any]] = {}
        self.fresh: set[int] = set()
        self.finished = False

    @property
    def target(self) -> int:
        """The cumulative length the current round trains to."""
        return self.round * self.length_per_round

    def _start(self) -> list[Operation]:
        ops: list[Operation] = []
        for _ in range(self.population_size):
            ops += self._spawn(None)
        return ops

    def _spawn(self, parent: int | None) -> list[Operation]:
        rid = self.ledger.create()
        if parent is None:
            hparams = self._sample_hparams(rid)
        else:
            hparams = explore(
                self.space,
                self.hparams[parent],
                self.rng,
                resample_probability=self.resample_probability,
                perturb_factor=self.perturb_factor,
                sampler=self.sampler,
            )
            if self.sampler.learns:
                flat = self.space.flat(hparams)
                self.sampled[rid] = [flat[p.keys] for p in self.space.params]
        self.hparams[rid] = hparams
        self.members.append(rid)
        if parent is None:
            self.fresh.add(rid)
        return [Create(rid, hparams, checkpoint_from=parent), ValidateAfter(rid, self.target)]

    def _validated(self, request_id: int, metric: float, length: int) -> list[Operation]:
        if request_id in self.results or length < self.target:
            return []
        self.results[request_id] = metric
        self.fresh.discard(request_id)
        return self._end_round()

    def _exited(self, request_id: int, invalid_hp: bool) -> list[Operation]:
        if invalid_hp and request_id in self.fresh:
            self.fresh.discard(request_id)
            self.members.remove(request_id)
            self.ledger.uncount()
            return self._spawn(None)
        self.exited.add(request_id)
        self.fresh.discard(request_id)
        self.results.setdefault(request_id, WORST)
        return self._end_round()

    def _end_round(self) -> list[Operation]:
        if len(self.results) < len(self.members):
            return []
        ranked = sorted(self.members, key=lambda rid: (self.results[rid], rid))
        cut = len(ranked) - self.truncate if self.round < self.num_rounds else 0
        replaced = ranked[cut:] + [rid for rid in ranked[:cut] if rid in self.exited]
        survivors = [rid for rid in ranked[:cut] if rid not in self.exited]
        ops: list[Operation] = [
            self.ledger.close(rid) for rid in replaced if self.ledger.is_active(rid)
        ]
        self.members, self.results = [], {}
        self.exited.clear()
        if not survivors:
            self.finished = True
            return ops
        self.round += 1
        for rid in survivors:
            self.members.append(rid)
            ops.append(ValidateAfter(rid, self.target))
        parents = survivors[: max(1, self.truncate)]
        for i in range(len(replaced)):
            ops += self._spawn(parents[i % len(parents)])
        self._forget()
        return ops

    def _forget(self) -> None:
        """Drop hyperparameters nobody can inherit from any more (keeps snapshots small)."""
        keep = set(self.members)
        self.hparams = {rid: hp for rid, hp in self.hparams.items() if rid in keep}

    def _more_work(self) -> bool:
        return not self.finished

    def _progress(self) -> float:
        done = (self.round - 1) * self.population_size + len(self.results)
        return done / (self.num_rounds * self.population_size)

    def _dump(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "members": self.members,
            "results": [[rid, encode_metric(m)] for rid, m in self.results.items()],
            "exited": sorted(self.exited),
            "hparams": [[rid, hp] for rid, hp in self.hparams.items()],
            "fresh": sorted(self.fresh),
            "finished": self.finished,
        }

    def _load(self, data: dict[str, Any]) -> None:
        self.round = int(data["round"])
        self.members = [int(rid) for rid in data["members"]]
        self.results = {int(rid): decode_metric(m) for rid, m in data["results"]}
        self.exited = {int(rid) for rid in data["exited"]}
        self.hparams = {int(rid): hp for rid, hp in data["hparams"]}
        self.fresh = {int(rid) for rid in data["fresh"]}
        self.finished = bool(data["finished"])
