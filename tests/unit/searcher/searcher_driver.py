"""A tiny platform for searcher tests: executes operations, delivers events in a random order.

It checks the rules every searcher must keep while it plays: sequential fresh request ids, no
work for a closed or unknown trial, lengths that only grow and never pass `max_length`, a single
Shutdown after which nothing is created or trained. It is deliberately not `simulate`: the order
of events is chosen by a seeded `random.Random`, including late reports and early exits.
"""

from __future__ import annotations

import json
import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from trainyard.searcher import (
    Close,
    Create,
    ExitedReason,
    Operation,
    Searcher,
    Shutdown,
    Stop,
    ValidateAfter,
)

Metric = Callable[[int, int, random.Random], float]


def random_metric(rid: int, length: int, rnd: random.Random) -> float:
    """Mostly uniform values, sometimes NaN or inf."""
    roll = rnd.random()
    if roll < 0.03:
        return math.nan
    if roll < 0.05:
        return math.inf
    return rnd.random()


@dataclass
class Trial:
    request_id: int
    hparams: dict[str, Any]
    checkpoint_from: int | None
    targets: deque[int] = field(default_factory=deque)
    length: int = 0
    last_target: int = 0
    closing: bool = False
    stopped: bool = False
    ended: bool = False
    exited: ExitedReason | None = None
    reports: list[tuple[int, float]] = field(default_factory=list)


class Driver:
    """Plays `searcher` to the end; `log` holds every (event, operations) pair in order."""

    def __init__(
        self,
        searcher: Searcher,
        *,
        seed: int,
        max_length: int | None = None,
        metric: Metric = random_metric,
        report_every: int | None = None,
        exit_probability: float = 0.0,
        invalid_share: float = 0.3,
        rebuild: Callable[[], Searcher] | None = None,
        swap_at: int | None = None,
    ) -> None:
        self.searcher = searcher
        self.rnd = random.Random(seed)
        self.max_length = max_length
        self.metric = metric
        self.report_every = report_every
        self.exit_probability = exit_probability
        self.invalid_share = invalid_share
        self.rebuild = rebuild
        self.swap_at = swap_at
        self.trials: dict[int, Trial] = {}
        self.ready: list[int] = []
        self.ready_at: dict[int, int] = {}
        self.log: list[tuple[Any, list[Operation]]] = []
        self.shutdowns: list[Shutdown] = []
        self.steps = 0
        self.progress: list[float] = []

    # --- operations -------------------------------------------------------------------------

    def apply(self, event: Any, ops: list[Operation]) -> None:
        self.log.append((event, list(ops)))
        work = deque(ops)
        while work:
            op = work.popleft()
            if isinstance(op, Create):
                assert not self.shutdowns, f"{op} after Shutdown"
                assert op.request_id == len(self.trials) + 1, f"{op}: ids must be sequential"
                json.dumps(op.hparams, allow_nan=False)
                if op.checkpoint_from is not None:
                    assert op.checkpoint_from in self.trials, f"{op}: unknown parent"
                parent = self.trials.get(op.checkpoint_from or 0)
                trial = Trial(op.request_id, op.hparams, op.checkpoint_from)
                if parent is not None:
                    trial.length = trial.last_target = parent.length
                self.trials[op.request_id] = trial
                self._refresh(trial)
                more = self.searcher.on_trial_created(op.request_id)
                self.log.append((("created", op.request_id), list(more)))
                work.extend(more)
            elif isinstance(op, ValidateAfter):
                trial = self._live(op)
                assert not self.shutdowns, f"{op} after Shutdown"
                assert op.length > trial.last_target, f"{op}: length must grow"
                if self.max_length is not None:
                    assert op.length <= self.max_length, f"{op}: past max_length"
                trial.last_target = op.length
                trial.targets.append(op.length)
                self._refresh(trial)
            elif isinstance(op, Close):
                trial = self._live(op)
                trial.closing = True
                self._refresh(trial)
            elif isinstance(op, Stop):
                trial = self._live(op)
                trial.closing = trial.stopped = True
                trial.targets.clear()
                self._refresh(trial)
            elif isinstance(op, Shutdown):
                assert not self.shutdowns, "a second Shutdown"
                self.shutdowns.append(op)
            else:  # pragma: no cover - the union is closed
                raise AssertionError(f"not an operation: {op!r}")

    def _live(self, op: ValidateAfter | Close | Stop) -> Trial:
        rid = op.request_id
        assert rid in self.trials, f"{op}: unknown trial"
        trial = self.trials[rid]
        assert not trial.ended, f"{op}: trial already ended"
        assert not trial.closing, f"{op}: trial already closed/stopped"
        return trial

    # --- events -----------------------------------------------------------------------------

    def _refresh(self, trial: Trial) -> None:
        """Keep `ready` (trials with an event to deliver) in step with the trial's state."""
        ready = not trial.ended and (bool(trial.targets) or trial.closing)
        rid = trial.request_id
        if ready and rid not in self.ready_at:
            self.ready_at[rid] = len(self.ready)
            self.ready.append(rid)
        elif not ready and rid in self.ready_at:
            i = self.ready_at.pop(rid)
            last = self.ready.pop()
            if last != rid:
                self.ready[i] = last
                self.ready_at[last] = i

    def step(self) -> bool:
        """Deliver one event; False when nothing is left to deliver."""
        if not self.ready:
            return False
        if self.swap_at is not None and self.steps == self.swap_at and self.rebuild is not None:
            saved = json.loads(json.dumps(self.searcher.snapshot(), allow_nan=False))
            self.searcher = self.rebuild()
            self.searcher.restore(saved)
        self.steps += 1
        rid = self.rnd.choice(self.ready)
        trial = self.trials[rid]
        if self.exit_probability and self.rnd.random() < self.exit_probability:
            invalid = self.rnd.random() < self.invalid_share
            reason = ExitedReason.INVALID_HP if invalid else ExitedReason.ERRORED
            if not invalid and self.rnd.random() < 0.3:
                reason = ExitedReason.USER_CANCELED
            trial.ended, trial.exited = True, reason
            self._refresh(trial)
            self.apply(("exited", rid, reason), self.searcher.on_trial_exited_early(rid, reason))
        elif not trial.targets:
            trial.ended = True
            self._refresh(trial)
            self.apply(("closed", rid), self.searcher.on_trial_closed(rid))
        else:
            self._report(trial)
        self.progress.append(self.searcher.progress())
        return True

    def _report(self, trial: Trial) -> None:
        target = trial.targets[0]
        length = target
        if self.report_every is not None:
            length = min(target, (trial.length // self.report_every + 1) * self.report_every)
        trial.length = max(trial.length, length)
        if length >= target:
            trial.targets.popleft()
            self._refresh(trial)
        metric = self.metric(trial.request_id, length, self.rnd)
        trial.reports.append((length, metric))
        rid = trial.request_id
        self.apply(
            ("validated", rid, metric, length),
            self.searcher.on_validation_completed(rid, metric, length),
        )

    def run(self, max_steps: int = 200_000) -> Driver:
        self.apply(("start",), self.searcher.initial_operations())
        while self.step():
            assert self.steps < max_steps, "the search does not end"
        return self

    # --- summaries --------------------------------------------------------------------------

    def check_finished(self) -> None:
        """Shutdown came once and every trial ended (closed after Close/Stop, or exited)."""
        assert len(self.shutdowns) == 1, "no Shutdown"
        for trial in self.trials.values():
            assert trial.ended, f"trial {trial.request_id} never ended"
            assert trial.closing or trial.exited is not None
        assert self.searcher.progress() == 1.0

    def final_lengths(self) -> dict[int, int]:
        """How far each trial trained."""
        return {rid: t.length for rid, t in self.trials.items()}

    def operations(self) -> list[Operation]:
        return [op for _, ops in self.log for op in ops]


def new_trial(ops: list[Operation]) -> Create:
    """The Create of `ops`, which must be exactly one new trial: [Create, ValidateAfter]."""
    assert [type(op) for op in ops] == [Create, ValidateAfter], ops
    create = ops[0]
    assert isinstance(create, Create)
    return create
