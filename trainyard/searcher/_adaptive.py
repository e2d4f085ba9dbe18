"""Adaptive ASHA: a tournament of ASHA brackets (Hyperband's brackets run as ASHA, as Determined).

The tournament owns one ASHA searcher per bracket and routes every event to the bracket that owns
the request id; it maps each bracket's own ids to globally unique ones (1, 2, 3, ... in creation
order) and says Shutdown once every bracket has. Bracket sizes follow `bracket_plan`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from trainyard.errors import ConfigError
from trainyard.searcher._asha import AsyncHalving
from trainyard.searcher._asha_stopping import AsyncHalvingStopping
from trainyard.searcher._base import Searcher
from trainyard.searcher._common import Seed, check_non_negative, check_positive
from trainyard.searcher._halving import HalvingBase
from trainyard.searcher._ops import Create, ExitedReason, Operation, Shutdown
from trainyard.searcher._rungs import Divisor, fitting_rungs
from trainyard.searcher._sampler import HParamSampler, UniformSampler
from trainyard.searcher._space import HParamSpace

MODES = ("aggressive", "standard", "conservative")


def bracket_rungs_for(
    mode: str,
    max_rungs: int,
    bracket_rungs: Sequence[int] | None,
    max_length: int,
    divisor: Divisor,
) -> list[int]:
    """Rung counts of the brackets, most rungs (most aggressive) first.

    aggressive: `[max_rungs]`; standard: the upper half `max_rungs, max_rungs-1, ...`
    (`ceil(max_rungs/2)` brackets); conservative: `max_rungs` down to 1; or `bracket_rungs` as
    given. Each count is capped so rung lengths stay >= 1 (exact integer arithmetic), then
    duplicates are merged.
    """
    if bracket_rungs:
        counts = [check_positive("bracket_rungs[]", r) for r in bracket_rungs]
    else:
        check_positive("max_rungs", max_rungs)
        if mode == "aggressive":
            counts = [max_rungs]
        elif mode == "standard":
            counts = list(range(max_rungs, max_rungs - (max_rungs + 1) // 2, -1))
        elif mode == "conservative":
            counts = list(range(max_rungs, 0, -1))
        else:
            raise ConfigError(f"searcher.mode is {mode!r}; it must be one of {', '.join(MODES)}")
    cap = fitting_rungs(max_length, divisor)
    return sorted({min(r, cap) for r in counts}, reverse=True)


def split_max_trials(max_trials: int, divisor: Divisor, rungs: Sequence[int]) -> list[int]:
    """Trials per bracket in proportion to `divisor**(r-1) / r` (Hyperband's bracket sizes).

    Each share is floored; the remainder goes to the first (most aggressive) bracket.
    """
    d = Fraction(divisor.num, divisor.den)
    weights = [d ** (r - 1) / r for r in rungs]
    total = sum(weights)
    shares = [int(w / total * max_trials) for w in weights]
    shares[0] += max_trials - sum(shares)
    return shares


def split_concurrency(max_concurrent_trials: int, brackets: int) -> list[int]:
    """`max_concurrent_trials` split evenly, the remainder to the first bracket, each >= 1.

    0 (no limit) stays 0 for every bracket.
    """
    if max_concurrent_trials == 0:
        return [0] * brackets
    base, rest = divmod(max_concurrent_trials, brackets)
    return [max(1, base) + (rest if i == 0 else 0) for i in range(brackets)]


class AdaptiveASHA(Searcher):
    """Several ASHA brackets run side by side; see the module docstring.

    With `stop_once` or `trial_driven` the brackets are `AsyncHalvingStopping`, else
    `AsyncHalving`. Bracket i draws from its own generator, spawned from `seed`; all brackets
    share one `sampler` (a learning one sees every bracket's results). Brackets that
    would get no trial are left out.
    """

    def __init__(
        self,
        hparam_space: HParamSpace | Mapping[str, Any] | None,
        *,
        max_length: int,
        max_trials: int,
        max_rungs: int = 5,
        divisor: float = 4,
        mode: str = "standard",
        bracket_rungs: Sequence[int] | None = None,
        max_concurrent_trials: int = 16,
        stop_once: bool = False,
        trial_driven: bool = False,
        smaller_is_better: bool = True,
        seed: Seed = 0,
        sampler: HParamSampler | None = None,
    ) -> None:
        exact = Divisor.of(divisor)
        check_positive("max_length", max_length)
        rungs = bracket_rungs_for(mode, max_rungs, bracket_rungs, max_length, exact)
        trials = split_max_trials(check_positive("max_trials", max_trials), exact, rungs)
        check_non_negative("max_concurrent_trials", max_concurrent_trials)
        concurrency = split_concurrency(max_concurrent_trials, len(rungs))
        seeds = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        space = HParamSpace.of(hparam_space)
        self.sampler: HParamSampler = sampler or UniformSampler()
        self.brackets: list[HalvingBase] = []
        for r, n, c, s in zip(rungs, trials, concurrency, seeds.spawn(len(rungs)), strict=True):
            if n == 0:
                continue
            common: dict[str, Any] = {
                "max_length": max_length,
                "max_trials": n,
                "num_rungs": r,
                "divisor": divisor,
                "max_concurrent_trials": c,
                "smaller_is_better": smaller_is_better,
                "seed": s,
                "sampler": self.sampler,
                "shared_sampler": True,
            }
            if stop_once or trial_driven:
                self.brackets.append(
                    AsyncHalvingStopping(
                        space, stop_once=stop_once, trial_driven=trial_driven, **common
                    )
                )
            else:
                self.brackets.append(AsyncHalving(space, **common))
        self.owner: list[tuple[int, int]] = []
        self.to_global: list[dict[int, int]] = [{} for _ in self.brackets]
        self.done = [False] * len(self.brackets)
        self.failed = [False] * len(self.brackets)
        self.shut_down = False

    def initial_operations(self) -> list[Operation]:
        ops: list[Operation] = []
        for b, bracket in enumerate(self.brackets):
            ops += self._translate(b, bracket.initial_operations())
        return ops

    def on_trial_created(self, request_id: int) -> list[Operation]:
        return self._route(request_id, lambda s, rid: s.on_trial_created(rid))

    def on_validation_completed(
        self, request_id: int, metric: float, length: int
    ) -> list[Operation]:
        return self._route(
            request_id, lambda s, rid: s.on_validation_completed(rid, metric, length)
        )

    def on_trial_closed(self, request_id: int) -> list[Operation]:
        return self._route(request_id, lambda s, rid: s.on_trial_closed(rid))

    def on_trial_exited_early(self, request_id: int, reason: ExitedReason) -> list[Operation]:
        return self._route(request_id, lambda s, rid: s.on_trial_exited_early(rid, reason))

    def _route(self, request_id: int, event: Any) -> list[Operation]:
        if not 1 <= request_id <= len(self.owner):
            return []
        b, local = self.owner[request_id - 1]
        return self._translate(b, event(self.brackets[b], local))

    def _translate(self, b: int, ops: list[Operation]) -> list[Operation]:
        out: list[Operation] = []
        ids = self.to_global[b]
        for op in ops:
            if isinstance(op, Shutdown):
                self.done[b], self.failed[b] = True, op.failure
            elif isinstance(op, Create):
                self.owner.append((b, op.request_id))
                ids[op.request_id] = len(self.owner)
                source = None if op.checkpoint_from is None else ids[op.checkpoint_from]
                out.append(Create(len(self.owner), op.hparams, checkpoint_from=source))
            else:
                out.append(dataclasses.replace(op, request_id=ids[op.request_id]))
        if all(self.done) and not self.shut_down:
            self.shut_down = True
            out.append(Shutdown(failure=all(self.failed)))
        return out

    def progress(self) -> float:
        if self.shut_down:
            return 1.0
        total = sum(b.max_trials for b in self.brackets)
        return sum(b.progress() * b.max_trials for b in self.brackets) / total

    def snapshot(self) -> dict[str, Any]:
        data = {
            "owner": [list(pair) for pair in self.owner],
            "done": self.done,
            "failed": self.failed,
            "shut_down": self.shut_down,
            "brackets": [bracket.snapshot() for bracket in self.brackets],
        }
        if self.sampler.learns:
            data["sampler"] = self.sampler.dump()
        return data

    def restore(self, snapshot: dict[str, Any]) -> None:
        self.owner = [(int(b), int(local)) for b, local in snapshot["owner"]]
        self.to_global = [{} for _ in self.brackets]
        for g, (b, local) in enumerate(self.owner, start=1):
            self.to_global[b][local] = g
        self.done = [bool(x) for x in snapshot["done"]]
        self.failed = [bool(x) for x in snapshot["failed"]]
        self.shut_down = bool(snapshot["shut_down"])
        for bracket, data in zip(self.brackets, snapshot["brackets"], strict=True):
            bracket.restore(data)
        if self.sampler.learns:
            self.sampler.load(snapshot.get("sampler", {}))
