"""The discrete-event loop behind `simulate`: a searcher against `workers` slots in simulated time.

The loop is the one imperative shell for searchers outside the master: it matches on the
operations, keeps a FIFO queue of trials waiting for a slot and a heap of segment ends keyed by
(sim time, request id), so every run with the same inputs is identical. Nothing sleeps; each event
costs O(log n).
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_right
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from trainyard.errors import TrainyardError
from trainyard.searcher._base import Searcher
from trainyard.searcher._ops import Close, Create, Operation, Shutdown, Stop, ValidateAfter
from trainyard.searcher._sim_types import Cost, Objective, SimulatedTrial, SimulationResult


@dataclass(frozen=True, slots=True)
class _Closed:
    """Worklist marker: tell the searcher that `request_id` has exited."""

    request_id: int


@dataclass(slots=True)
class _Trial:
    """Mutable run state of one trial next to its public record."""

    record: SimulatedTrial
    cost_now: float
    targets: deque[int] = field(default_factory=deque)
    gen: int = 0
    has_slot: bool = False
    running: bool = False
    queued: bool = False
    closing: bool = False
    closed: bool = False
    seg_start_time: float = 0.0
    seg_start_length: int = 0
    seg_end_length: int = 0
    seg_cost: float = 0.0


class SimulationEngine:
    """Runs one searcher to the end. Use `simulate_searcher`; this class is its implementation."""

    def __init__(
        self,
        searcher: Searcher,
        objective: Objective,
        cost: Cost,
        *,
        workers: int,
        smaller_is_better: bool,
        report_lengths: Sequence[int] | None,
        max_time: float | None,
    ) -> None:
        self._searcher = searcher
        self._objective = objective
        self._cost = cost
        self._workers = workers
        self._free = workers
        self._smaller = smaller_is_better
        self._reports = sorted(set(report_lengths)) if report_lengths else None
        self._max_time = max_time
        self._now = 0.0
        self._busy = 0.0
        self._events = 0
        self._shutdown = False
        self._truncated = False
        self._trials: dict[int, _Trial] = {}
        self._heap: list[tuple[float, int, int]] = []
        self._queue: deque[int] = deque()
        self._trajectory: list[tuple[float, float]] = []
        self._best: SimulatedTrial | None = None

    def run(self) -> SimulationResult:
        """Feed the searcher until no work is left (or `max_time`) and return the figures."""
        self._events += 1
        self._apply(self._searcher.initial_operations())
        self._dispatch()
        heap = self._heap
        while heap:
            time, rid, gen = heap[0]
            if self._max_time is not None and time > self._max_time:
                self._truncate(self._max_time)
                break
            heapq.heappop(heap)
            trial = self._trials[rid]
            if gen != trial.gen or not trial.running:
                continue
            self._now = time
            self._segment_done(trial)
            self._dispatch()
        return self._result()

    # --- operations -----------------------------------------------------------------------------

    def _apply(self, ops: list[Operation] | deque[Operation | _Closed]) -> None:
        work: deque[Operation | _Closed] = deque(ops)
        while work:
            op = work.popleft()
            if isinstance(op, _Closed):
                self._events += 1
                work.extend(self._searcher.on_trial_closed(op.request_id))
            elif isinstance(op, Create):
                self._create(op)
                self._events += 1
                work.extend(self._searcher.on_trial_created(op.request_id))
            elif isinstance(op, ValidateAfter):
                self._validate_after(op)
            elif isinstance(op, Close):
                self._close(self._get(op.request_id, op), work)
            elif isinstance(op, Stop):
                self._stop(self._get(op.request_id, op), work)
            elif isinstance(op, Shutdown):
                self._shutdown = True
            else:
                raise TrainyardError(f"searcher returned {op!r}, which is not an Operation")

    def _get(self, request_id: int, op: Operation) -> _Trial:
        trial = self._trials.get(request_id)
        if trial is None:
            raise TrainyardError(f"searcher sent {op!r} for a trial it never created")
        return trial

    def _create(self, op: Create) -> None:
        if op.request_id in self._trials:
            raise TrainyardError(f"searcher sent {op!r} but request id {op.request_id} exists")
        hparams = dict(op.hparams)
        start = 0
        if op.checkpoint_from is not None:
            start = self._get(op.checkpoint_from, op).record.length
        record = SimulatedTrial(
            request_id=op.request_id,
            hparams=hparams,
            created_at=self._now,
            start_length=start,
            checkpoint_from=op.checkpoint_from,
            length=start,
        )
        self._trials[op.request_id] = _Trial(record, cost_now=self._cost(hparams, start))

    def _validate_after(self, op: ValidateAfter) -> None:
        trial = self._get(op.request_id, op)
        if trial.closed or trial.closing:
            raise TrainyardError(f"searcher sent {op!r} after closing or stopping that trial")
        trial.targets.append(op.length)
        if not trial.has_slot and not trial.queued:
            trial.queued = True
            self._queue.append(op.request_id)

    def _close(self, trial: _Trial, work: deque[Operation | _Closed]) -> None:
        if trial.closed:
            return
        trial.closing = True
        if not trial.targets:
            self._finish(trial, work)

    def _stop(self, trial: _Trial, work: deque[Operation | _Closed]) -> None:
        if trial.closed:
            return
        if trial.running:
            self._cut(trial)
        trial.targets.clear()
        trial.queued = False
        trial.record.stopped = True
        self._finish(trial, work)

    def _finish(self, trial: _Trial, work: deque[Operation | _Closed]) -> None:
        """The trial exits: give its slot back and queue the searcher's `on_trial_closed`."""
        trial.closed = True
        trial.gen += 1
        trial.record.closed_at = self._now
        if trial.has_slot:
            trial.has_slot = False
            self._free += 1
        work.append(_Closed(trial.record.request_id))

    # --- training -------------------------------------------------------------------------------

    def _dispatch(self) -> None:
        while self._free and self._queue:
            trial = self._trials[self._queue.popleft()]
            if not trial.queued:
                continue
            trial.queued = False
            trial.has_slot = True
            self._free -= 1
            self._start_segment(trial)

    def _start_segment(self, trial: _Trial) -> None:
        record = trial.record
        start = record.length
        end = max(start, trial.targets[0])
        if self._reports is not None:
            i = bisect_right(self._reports, start)
            if i < len(self._reports):
                end = max(start, min(end, self._reports[i]))
        end_cost = self._cost(record.hparams, end) if end != start else trial.cost_now
        duration = end_cost - trial.cost_now
        if not duration >= 0.0:
            raise TrainyardError(
                f"cost(hparams, {end}) < cost(hparams, {start}) for trial {record.request_id}: "
                "cost must be the cumulative seconds to train to a length and never decrease"
            )
        trial.running = True
        trial.seg_start_time = self._now
        trial.seg_start_length = start
        trial.seg_end_length = end
        trial.seg_cost = end_cost
        heapq.heappush(self._heap, (self._now + duration, record.request_id, trial.gen))

    def _segment_done(self, trial: _Trial) -> None:
        record = trial.record
        self._busy += self._now - trial.seg_start_time
        trial.running = False
        trial.cost_now = trial.seg_cost
        record.length = trial.seg_end_length
        length = trial.seg_end_length
        if length >= trial.targets[0]:
            length = trial.targets.popleft()
        metric = float(self._objective(record.hparams, length))
        record.metrics.append((length, metric))
        self._note_best(record, metric)
        self._events += 1
        work: deque[Operation | _Closed] = deque(
            self._searcher.on_validation_completed(record.request_id, metric, length)
        )
        # A trial closed while it trained exits once its last target is reached.
        if trial.closing and not trial.targets:
            self._finish(trial, work)
        # The trial keeps its slot while the searcher's answer is applied, so a promotion of this
        # very trial continues in place instead of queueing behind new trials.
        self._apply(work)
        if trial.closed:
            return
        if trial.targets:
            self._start_segment(trial)
        else:
            trial.has_slot = False
            self._free += 1

    def _cut(self, trial: _Trial) -> None:
        """Stop the running segment at `now`; the trial keeps the whole units it trained."""
        elapsed = self._now - trial.seg_start_time
        self._busy += elapsed
        trial.running = False
        trial.gen += 1
        record = trial.record
        lo, hi = trial.seg_start_length, trial.seg_end_length
        if trial.seg_cost - trial.cost_now <= elapsed:
            lo, cost_lo = hi, trial.seg_cost
        else:
            cost_lo = trial.cost_now
            while lo < hi:  # largest length whose extra cost fits in `elapsed`
                mid = (lo + hi + 1) // 2
                cost_mid = self._cost(record.hparams, mid)
                if cost_mid - trial.cost_now <= elapsed:
                    lo, cost_lo = mid, cost_mid
                else:
                    hi = mid - 1
        record.length = lo
        trial.cost_now = cost_lo

    def _truncate(self, at: float) -> None:
        self._now = at
        self._truncated = True
        for trial in self._trials.values():
            if trial.running:
                self._cut(trial)

    # --- results --------------------------------------------------------------------------------

    def _note_best(self, record: SimulatedTrial, metric: float) -> None:
        if math.isnan(metric):
            return
        if self._trajectory:
            best = self._trajectory[-1][1]
            if not (metric < best if self._smaller else metric > best):
                return
        self._trajectory.append((self._now, metric))
        self._best = record

    def _result(self) -> SimulationResult:
        records = [t.record for t in self._trials.values()]
        end = self._now
        capacity = self._workers * end
        utilization = min(1.0, self._busy / capacity) if capacity > 0 else 0.0
        return SimulationResult(
            trajectory=self._trajectory,
            trials=records,
            utilization=utilization,
            total_length=sum(r.length - r.start_length for r in records),
            end_time=end,
            events=self._events,
            workers=self._workers,
            smaller_is_better=self._smaller,
            shutdown=self._shutdown,
            truncated=self._truncated,
            best_trial=self._best,
        )
