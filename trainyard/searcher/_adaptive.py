"""Adaptive ASHA: a tournament of ASHA brackets (Hyperband's brackets run as ASHA, as Determined).

The tournament owns one ASHA searcher per bracket and routes every event to the bracket that owns
the request id; it maps each bracket's own ids to globally unique ones (1, 2, 3, ... in creation
order) and says Shutdown once every bracket has. The brackets are planned with Determined's
arithmetic (`capped_max_rungs`, `split_max_trials`, `split_concurrency`), so a ported config
searches the same brackets.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from trainyard.errors import ConfigError, TrainyardError
from trainyard.searcher._asha import AsyncHalving
from trainyard.searcher._asha_stopping import AsyncHalvingStopping
from trainyard.searcher._base import Searcher
from trainyard.searcher._common import Seed, check_non_negative, check_positive
from trainyard.searcher._halving import HalvingBase
from trainyard.searcher._ops import Create, ExitedReason, Operation, Shutdown
from trainyard.searcher._rungs import Divisor
from trainyard.searcher._sampler import HParamSampler, UniformSampler
from trainyard.searcher._space import HParamSpace

MODES = ("aggressive", "standard", "conservative")


def capped_max_rungs(max_rungs: int, max_length: int, max_trials: int, divisor: float) -> int:
    """Determined's cap on the rung count, so the top rung of every bracket gets a trial:
    `min(max_rungs, int(ln(max_length)/ln(divisor)) + 1, int(ln(max_trials)/ln(divisor)) + 1)`.

    Computed with floating-point logs exactly as Determined does (`ln(1000)/ln(10)` is just under
    3, so 1000 batches with divisor 10 get 3 rungs, not 4), so a ported config plans the same
    brackets. `max_trials: 16, divisor: 4, max_length: 937` gives 3 rungs (58, 234, 937).
    """
    log_d = math.log(divisor)
    return min(
        check_positive("max_rungs", max_rungs),
        int(math.log(max_length) / log_d) + 1,
        int(math.log(max_trials) / log_d) + 1,
    )


def bracket_rungs_for(
    mode: str,
    max_rungs: int,
    bracket_rungs: Sequence[int] | None,
    max_length: int,
    divisor: float,
    max_trials: int = 1,
) -> list[int]:
    """Rung counts of the brackets, most rungs (most aggressive) first, as Determined plans them.

    With `bracket_rungs` given they are used as given (sorted, most rungs first). Otherwise
    `max_rungs` is capped by `capped_max_rungs` and the mode picks the counts: aggressive:
    `[m]`; standard: `m` down to `(m-1)//2 + 1`; conservative: `m` down to 1. A bracket whose
    count leaves rungs shorter than one unit trains fewer rungs (see `rung_lengths`).
    """
    if bracket_rungs:
        return sorted((check_positive("bracket_rungs[]", r) for r in bracket_rungs), reverse=True)
    if mode not in MODES:
        raise ConfigError(f"searcher.mode is {mode!r}; it must be one of {', '.join(MODES)}")
    m = capped_max_rungs(max_rungs, max_length, max_trials, divisor)
    lowest = {"aggressive": m, "standard": (m - 1) // 2 + 1, "conservative": 1}[mode]
    return list(range(m, lowest - 1, -1))


def split_max_trials(max_trials: int, divisor: float, rungs: Sequence[int]) -> list[int]:
    """Trials per bracket in proportion to `divisor**(r-1) / r` (Hyperband's bracket sizes).

    As Determined: each share is `max(1, int(weight / total * max_trials))` in floating point,
    and what is left of `max_trials` goes to the first (most aggressive) bracket. Every bracket
    gets at least one trial, so with more brackets than `max_trials` the search runs one trial
    per bracket.
    """
    weights = [math.pow(divisor, r - 1) / r for r in rungs]
    total = sum(weights)
    shares = [max(1, int(w / total * max_trials)) for w in weights]
    shares[0] += max(0, max_trials - sum(shares))
    return shares


def split_concurrency(
    max_concurrent_trials: int, divisor: float, trials: Sequence[int]
) -> list[int]:
    """Trials each bracket trains at once, as Determined splits them.

    `max_concurrent_trials` (raised to at least one per bracket) is split evenly, the remainder
    one each to the first brackets. 0 (no limit given) gives every bracket
    `max(trials of the last bracket, int(divisor))`.
    """
    brackets = len(trials)
    if max_concurrent_trials == 0:
        return [max(trials[-1], int(divisor))] * brackets
    total = max(max_concurrent_trials, brackets)
    base, rest = divmod(total, brackets)
    return [base + (1 if i < rest else 0) for i in range(brackets)]


class AdaptiveASHA(Searcher):
    """Several ASHA brackets run side by side; see the module docstring.

    With `stop_once` or `trial_driven` the brackets are `AsyncHalvingStopping`, else
    `AsyncHalving`. Bracket i draws from its own generator, spawned from `seed`; all brackets
    share one `sampler` (a learning one sees every bracket's results). The bracket plan
    (rungs, trials and concurrency per bracket) is Determined's, see `bracket_rungs_for`.
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
        Divisor.of(divisor)  # a ConfigError unless > 1
        check_positive("max_length", max_length)
        check_positive("max_trials", max_trials)
        rungs = bracket_rungs_for(mode, max_rungs, bracket_rungs, max_length, divisor, max_trials)
        trials = split_max_trials(max_trials, divisor, rungs)
        check_non_negative("max_concurrent_trials", max_concurrent_trials)
        concurrency = split_concurrency(max_concurrent_trials, divisor, trials)
        seeds = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        self.sampler: HParamSampler = sampler or UniformSampler()
        self._settings: dict[str, Any] = {
            "space": HParamSpace.of(hparam_space),
            "max_length": max_length,
            "divisor": divisor,
            "smaller_is_better": smaller_is_better,
            "stop_once": stop_once,
            "trial_driven": trial_driven,
        }
        self.plan = [list(b) for b in zip(rungs, trials, concurrency, strict=True)]
        """[num_rungs, max_trials, max_concurrent_trials] per bracket; kept in the snapshot."""
        self.brackets = self._build(self.plan, seeds.spawn(len(self.plan)))
        self.owner: list[tuple[int, int]] = []
        self.to_global: list[dict[int, int]] = [{} for _ in self.brackets]
        self.done = [False] * len(self.brackets)
        self.failed = [False] * len(self.brackets)
        self.shut_down = False

    def _build(self, plan: list[list[int]], seeds: Sequence[Any]) -> list[HalvingBase]:
        s = self._settings
        brackets: list[HalvingBase] = []
        for (r, n, c), seed in zip(plan, seeds, strict=True):
            common: dict[str, Any] = {
                "max_length": s["max_length"],
                "max_trials": n,
                "num_rungs": r,
                "divisor": s["divisor"],
                "max_concurrent_trials": c,
                "smaller_is_better": s["smaller_is_better"],
                "seed": seed,
                "sampler": self.sampler,
                "shared_sampler": True,
            }
            if s["stop_once"] or s["trial_driven"]:
                stopping = {"stop_once": s["stop_once"], "trial_driven": s["trial_driven"]}
                brackets.append(AsyncHalvingStopping(s["space"], **stopping, **common))
            else:
                brackets.append(AsyncHalving(s["space"], **common))
        return brackets

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
            "plan": self.plan,
            "brackets": [bracket.snapshot() for bracket in self.brackets],
        }
        if self.sampler.learns:
            data["sampler"] = self.sampler.dump()
        return data

    def restore(self, snapshot: dict[str, Any]) -> None:
        """Restore a snapshot. The brackets are rebuilt from the snapshot's own plan, so a search
        continues as it was planned even if the bracket arithmetic changed since."""
        plan = [[int(x) for x in b] for b in snapshot.get("plan", self.plan)]
        if len(plan) != len(snapshot["brackets"]):
            raise TrainyardError(
                f"adaptive_asha snapshot has {len(snapshot['brackets'])} brackets but its plan "
                f"{len(plan)}: it was saved by an older Trainyard (before bracket plans were "
                "kept); finish the experiment with that version or start it again"
            )
        if plan != self.plan:
            self.plan = plan
            self.brackets = self._build(plan, np.random.SeedSequence(0).spawn(len(plan)))
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
