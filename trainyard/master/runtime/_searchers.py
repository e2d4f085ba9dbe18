"""`SearchShell`: the one place that feeds events to searchers and applies their operations.

Every searcher event runs inside `shell.unit(experiment_id)`: the experiment's lock (events of one
experiment are processed serially) and one DB transaction, in which the operations are applied
(trials created, targets set, trials closed/stopped, shutdown recorded) and the searcher snapshot
is saved. If the transaction fails, the in-memory searcher is dropped and reloaded from the last
committed snapshot, so memory never runs ahead of the DB.

The stored snapshot is `{"searcher": <Searcher.snapshot()>, "pending": {request_id: [lengths]},
"shutdown": null | "ok" | "failure"}`; `Trial.target_length` is always the first pending length.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trainyard.config import ExperimentConfig
from trainyard.errors import TrainyardError
from trainyard.master.db import Allocation, Trial
from trainyard.master.db import experiments as exp_repo
from trainyard.master.db import trials as trial_repo
from trainyard.master.db.database import Database
from trainyard.master.runtime._completion import trial_work_saved
from trainyard.master.states import AllocationState, ExperimentState, TrialState
from trainyard.searcher import (
    Close,
    Create,
    ExitedReason,
    Operation,
    Searcher,
    Shutdown,
    Stop,
    ValidateAfter,
    make_searcher,
)

__all__ = ["ExperimentSearch", "SearchShell", "trial_seed"]

ConfigGetter = Callable[[Session, int], ExperimentConfig]
Preempter = Callable[[Session, str, str], None]
_SEED_MOD = 2**31 - 1


def trial_seed(experiment_seed: int, request_id: int) -> int:
    """A trial's seed: fixed by the experiment seed and the searcher's request id."""
    return (experiment_seed * 1_000_003 + request_id * 7919) % _SEED_MOD


@dataclass
class ExperimentSearch:
    """A live searcher plus the platform's bookkeeping that goes into the same snapshot."""

    searcher: Searcher
    pending: dict[int, list[int]] = field(default_factory=dict)
    shutdown: str | None = None

    def snapshot(self) -> dict[str, Any]:
        return {
            "searcher": self.searcher.snapshot(),
            "pending": {str(k): v for k, v in self.pending.items() if v},
            "shutdown": self.shutdown,
        }


class SearchShell:
    """Per-experiment searchers, their locks, and the operation applier."""

    def __init__(
        self,
        db: Database,
        config: ConfigGetter,
        preempt: Preempter,
        searcher_modules: Sequence[str] = (),
    ) -> None:
        self._searcher_modules = tuple(searcher_modules)
        """Where custom searchers may be imported from (master.yaml `searcher_modules`)."""
        self._db = db
        self._config = config
        self._preempt = preempt
        self._searches: dict[int, ExperimentSearch] = {}
        self._locks: dict[int, threading.RLock] = {}
        self._guard = threading.Lock()

    def lock(self, experiment_id: int) -> threading.RLock:
        with self._guard:
            return self._locks.setdefault(experiment_id, threading.RLock())

    @contextmanager
    def unit(self, experiment_id: int) -> Iterator[Session]:
        """The experiment's lock and one write transaction; on failure the cached searcher is
        dropped (the next event reloads it from the committed snapshot)."""
        with self.lock(experiment_id):
            try:
                with self._db.session() as session:
                    yield session
            except BaseException:
                with self._guard:
                    self._searches.pop(experiment_id, None)
                raise

    def forget(self, experiment_id: int) -> None:
        with self._guard:
            self._searches.pop(experiment_id, None)

    def start(self, session: Session, experiment_id: int, searcher: Searcher) -> None:
        """Apply a new searcher's initial operations and save its first snapshot."""
        search = ExperimentSearch(searcher)
        with self._guard:
            self._searches[experiment_id] = search
        self._run(session, experiment_id, search, searcher.initial_operations())

    def search(self, session: Session, experiment_id: int) -> ExperimentSearch:
        """The experiment's searcher, restored from its snapshot when not in memory."""
        with self._guard:
            search = self._searches.get(experiment_id)
        if search is not None:
            return search
        experiment = exp_repo.get_experiment(session, experiment_id)
        config = self._config(session, experiment_id)
        searcher = make_searcher(config, allow_custom=self._searcher_modules)
        saved = experiment.searcher_snapshot
        if saved is None:
            raise TrainyardError(f"experiment {experiment_id} has no searcher snapshot")
        searcher.restore(saved["searcher"])
        pending = {int(k): [int(x) for x in v] for k, v in saved.get("pending", {}).items()}
        search = ExperimentSearch(searcher, pending, saved.get("shutdown"))
        with self._guard:
            self._searches[experiment_id] = search
        return search

    def event(
        self,
        session: Session,
        experiment_id: int,
        call: Callable[[Searcher], list[Operation]],
    ) -> None:
        """Feed one event (`call(searcher)`) and apply what it returns, in `session`."""
        search = self.search(session, experiment_id)
        self._run(session, experiment_id, search, call(search.searcher))

    # -- bookkeeping helpers other modules use inside a unit --

    def complete_targets(
        self, session: Session, experiment_id: int, trial: Trial, length: int
    ) -> list[int]:
        """Consume the trial's pending targets reached by `length`; returns them (oldest first)."""
        search = self.search(session, experiment_id)
        queue = search.pending.get(trial.request_id, [])
        done = [t for t in queue if t <= length]
        search.pending[trial.request_id] = [t for t in queue if t > length]
        _sync_target(trial, search)
        return done

    def drop_work(self, session: Session, experiment_id: int, trial: Trial) -> None:
        """Forget the trial's pending work (it ended or was stopped)."""
        search = self.search(session, experiment_id)
        search.pending.pop(trial.request_id, None)
        trial.target_length = None

    def redo_final_checkpoint(self, session: Session, experiment_id: int, trial: Trial) -> None:
        """Give a trial whose searcher work is done, but whose final checkpoint was lost, one
        more target: its completed length. It trains there again from its latest checkpoint,
        resends that validation (consumed without feeding the searcher twice) and checkpoints."""
        search = self.search(session, experiment_id)
        search.pending[trial.request_id] = [trial.completed_length]
        trial.target_length = trial.completed_length
        self.save(session, experiment_id)

    def save(self, session: Session, experiment_id: int) -> None:
        search = self.search(session, experiment_id)
        exp_repo.save_searcher_snapshot(
            session, experiment_id, search.snapshot(), progress=search.searcher.progress()
        )

    def finish_if_done(self, session: Session, experiment_id: int) -> None:
        """COMPLETED (or ERRORED) once the searcher shut down and every trial has ended."""
        search = self.search(session, experiment_id)
        experiment = exp_repo.get_experiment(session, experiment_id)
        state = ExperimentState(experiment.state)
        if search.shutdown is None or state not in (ExperimentState.ACTIVE, ExperimentState.PAUSED):
            return
        live = trial_repo.count_trials(session, experiment_id, states=_LIVE_TRIALS)
        if live:
            return
        target = (
            ExperimentState.ERRORED if search.shutdown == "failure" else ExperimentState.COMPLETED
        )
        exp_repo.set_experiment_state(session, experiment_id, target)
        experiment.progress = 1.0 if target is ExperimentState.COMPLETED else experiment.progress

    # -- the operation applier --

    def _run(
        self, session: Session, experiment_id: int, search: ExperimentSearch, ops: list[Operation]
    ) -> None:
        work: deque[Operation | _Closed] = deque(ops)
        while work:
            op = work.popleft()
            if isinstance(op, _Closed):
                work.extend(search.searcher.on_trial_closed(op.request_id))
            elif isinstance(op, Create):
                self._create(session, experiment_id, op)
                work.extend(search.searcher.on_trial_created(op.request_id))
            elif isinstance(op, ValidateAfter):
                trial = self._trial(session, experiment_id, op)
                search.pending.setdefault(op.request_id, []).append(op.length)
                _sync_target(trial, search)
            elif isinstance(op, Close | Stop):
                trial = self._trial(session, experiment_id, op)
                trial.closed = True
                if isinstance(op, Stop):
                    trial.stop_requested = True
                    search.pending.pop(op.request_id, None)
                    _sync_target(trial, search)
                    self._stop_running(session, trial)
                if self._finalize_idle(session, trial, search):
                    work.append(_Closed(op.request_id))
            elif isinstance(op, Shutdown):
                search.shutdown = "failure" if op.failure else "ok"
                for trial in trial_repo.list_trials(session, experiment_id, states=_LIVE_TRIALS):
                    trial.closed = True
                    if self._finalize_idle(session, trial, search):
                        work.append(_Closed(trial.request_id))
            else:  # pragma: no cover - the union is closed
                raise TrainyardError(f"searcher returned {op!r}, which is not an operation")
        exp_repo.save_searcher_snapshot(
            session, experiment_id, search.snapshot(), progress=search.searcher.progress()
        )
        self.finish_if_done(session, experiment_id)

    def _create(self, session: Session, experiment_id: int, op: Create) -> None:
        experiment = exp_repo.get_experiment(session, experiment_id)
        config = self._config(session, experiment_id)
        warm = None
        if op.checkpoint_from is not None:
            parent = trial_repo.get_trial_by_request(session, experiment_id, op.checkpoint_from)
            if parent is not None:
                warm = parent.latest_checkpoint_uuid or parent.warm_start_checkpoint_uuid
        elif config.searcher.source_checkpoint_uuid:
            warm = config.searcher.source_checkpoint_uuid
        elif config.searcher.source_trial_id is not None:
            source = session.get(Trial, config.searcher.source_trial_id)
            warm = source.latest_checkpoint_uuid if source is not None else None
        paused = experiment.state != ExperimentState.ACTIVE
        trial_repo.create_trial(
            session,
            experiment_id,
            op.request_id,
            dict(op.hparams),
            seed=trial_seed(config.reproducibility.experiment_seed, op.request_id),
            parent_request_id=op.checkpoint_from,
            warm_start_checkpoint_uuid=warm,
            state=TrialState.PAUSED if paused else TrialState.QUEUED,
        )

    def _trial(self, session: Session, experiment_id: int, op: Operation) -> Trial:
        rid = getattr(op, "request_id", None)
        trial = trial_repo.get_trial_by_request(session, experiment_id, int(rid or 0))
        if trial is None:
            raise TrainyardError(f"searcher sent {op!r} for a trial it never created")
        return trial

    def _stop_running(self, session: Session, trial: Trial) -> None:
        query = select(Allocation.id).where(
            Allocation.trial_id == trial.id, Allocation.state != AllocationState.TERMINATED.value
        )
        for allocation_id in session.scalars(query):
            self._preempt(session, allocation_id, "stop")

    def _finalize_idle(self, session: Session, trial: Trial, search: ExperimentSearch) -> bool:
        """A closed trial with no work and no running processes is COMPLETED right away when
        its work is saved (`_completion.trial_work_saved`, the rule the exit handler applies
        too); returns True when the searcher must hear `on_trial_closed`. One whose final
        checkpoint was lost gets the target "redo it" and stays queued; the searcher hears
        `on_trial_closed` when that run exits."""
        state = TrialState(trial.state)
        if state.is_terminal or state is TrialState.RUNNING:
            return False
        if search.pending.get(trial.request_id):
            return False
        if not trial_work_saved(session, trial):
            search.pending[trial.request_id] = [trial.completed_length]
            trial.target_length = trial.completed_length
            trial_repo.record_event(
                session,
                trial.id,
                "redo_final_checkpoint",
                reason=f"closed without a checkpoint at {trial.completed_length}; redoing it",
            )
            return False
        trial_repo.set_trial_state(session, trial.id, TrialState.COMPLETED)
        return True


@dataclass(frozen=True)
class _Closed:
    """Worklist marker: tell the searcher that `request_id` has exited after a Close/Stop."""

    request_id: int


_LIVE_TRIALS = [
    TrialState.QUEUED,
    TrialState.RUNNING,
    TrialState.PAUSED,
    TrialState.STOPPING_CANCELED,
    TrialState.STOPPING_KILLED,
    TrialState.STOPPING_COMPLETED,
    TrialState.STOPPING_ERROR,
]


def _sync_target(trial: Trial, search: ExperimentSearch) -> None:
    queue = search.pending.get(trial.request_id) or []
    trial.target_length = queue[0] if queue else None


def exited_reason(reason: str) -> ExitedReason:
    """The searcher's `ExitedReason` for an early-exit reason string."""
    return ExitedReason(reason)
