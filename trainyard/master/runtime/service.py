"""`Master`: the runtime service the API calls (see `trainyard.master.api._service.MasterService`).

    master = Master(settings, db)      # db already migrated
    master.start()                     # recovery, then the scheduling loop thread
    eid = master.create_experiment(yaml_text, tarball, owner_id=1)
    ...
    master.stop()                      # stops the loop and every allocation (they resume later)

Every method raises `TrainyardError` subclasses for bad requests (`NotFoundError`,
`InvalidTransitionError`, `ConfigError`). Methods are thread-safe; `wait_preemption` blocks and is
meant to run in a worker thread.
"""

from __future__ import annotations

import time
from typing import Any

from trainyard.master.db.database import Database
from trainyard.master.rm import LocalResourceManager
from trainyard.master.runtime import _trial_calls as calls
from trainyard.master.runtime._actions import Actions
from trainyard.master.runtime._cluster import cluster_state
from trainyard.master.runtime._context import Runtime
from trainyard.master.runtime._loop import SchedulingLoop
from trainyard.master.runtime._recovery import recover
from trainyard.master.settings import MasterSettings

__all__ = ["Master"]


class Master:
    """Experiments, trials and allocations of one master process."""

    def __init__(
        self,
        settings: MasterSettings,
        db: Database,
        *,
        rm: LocalResourceManager | None = None,
        checkpoint_wait_s: float = 10.0,
        stop_grace_s: float = 5.0,
    ) -> None:
        self.settings = settings
        self.db = db
        self.runtime = Runtime(settings, db, rm or LocalResourceManager())
        self.actions = Actions(self.runtime)
        self.loop = SchedulingLoop(self.runtime)
        self._checkpoint_wait_s = checkpoint_wait_s
        self._stop_grace_s = stop_grace_s
        self._started = False

    # -- lifecycle --

    def start(self) -> None:
        """Recover what a previous master left (orphaned processes, stopping experiments,
        deletions), then start the scheduling loop."""
        if self._started:
            return
        recover(self.runtime, self.actions)
        self.loop.start()
        self._started = True

    def stop(self) -> None:
        """Stop scheduling and ask every allocation to stop: trials get `checkpoint_wait_s` to
        checkpoint and exit (call this while the API still serves them), then SIGTERM and, after
        `stop_grace_s`, SIGKILL. Their trials are re-queued and resume on the next start."""
        if not self._started:
            return
        self.loop.stop()
        rt = self.runtime
        running = rt.rm.running()
        if running:
            with rt.db.session() as session:
                for allocation_id in running:
                    rt.request_preemption(session, allocation_id, "preempt")
        # While the API still serves them, trials may checkpoint and exit on their own.
        deadline = time.monotonic() + self._checkpoint_wait_s
        while rt.rm.running() and time.monotonic() < deadline:
            for allocation_id, code in rt.rm.poll():
                self.loop.settle_exit(allocation_id, code)
            time.sleep(0.05)
        for allocation_id, code in rt.rm.stop_all(self._stop_grace_s):
            self.loop.settle_exit(allocation_id, code)
        self._started = False

    def tick(self) -> None:
        """Run one scheduling round now (tests and tools; the loop does this by itself)."""
        self.loop.tick()

    # -- experiments --

    def create_experiment(
        self,
        config_yaml: str,
        model_def: bytes,
        *,
        owner_id: int | None,
        activate: bool = True,
        parent_id: int | None = None,
    ) -> int:
        return self.actions.create_experiment(
            config_yaml, model_def, owner_id=owner_id, activate=activate, parent_id=parent_id
        )

    def pause_experiment(self, experiment_id: int) -> None:
        self.actions.pause(experiment_id)

    def activate_experiment(self, experiment_id: int) -> None:
        self.actions.activate(experiment_id)

    def cancel_experiment(self, experiment_id: int) -> None:
        self.actions.cancel(experiment_id)

    def kill_experiment(self, experiment_id: int) -> None:
        self.actions.kill(experiment_id)

    def archive_experiment(self, experiment_id: int) -> None:
        self.actions.archive(experiment_id, True)

    def unarchive_experiment(self, experiment_id: int) -> None:
        self.actions.archive(experiment_id, False)

    def delete_experiment(self, experiment_id: int) -> None:
        self.actions.delete(experiment_id)

    def fork_experiment(
        self, experiment_id: int, config_yaml: str | None, *, owner_id: int | None
    ) -> int:
        return self.actions.fork(experiment_id, config_yaml, owner_id=owner_id)

    def set_priority(self, experiment_id: int, priority: int) -> None:
        self.actions.set_priority(experiment_id, priority)

    def kill_trial(self, trial_id: int) -> None:
        self.actions.kill_trial(trial_id)

    def continue_trial(
        self, trial_id: int, *, checkpoint_uuid: str | None, max_length: int | None
    ) -> tuple[int, int]:
        return self.actions.continue_trial(
            trial_id, checkpoint_uuid=checkpoint_uuid, max_length=max_length
        )

    # -- trial-facing (docs/trial-api.md) --

    def get_allocation_info(self, allocation_id: str) -> dict[str, Any]:
        return calls.allocation_info(self.runtime, allocation_id)

    def searcher_operation(self, trial_id: int) -> tuple[int | None, bool]:
        return calls.searcher_operation(self.runtime, trial_id)

    def complete_operation(self, trial_id: int, length: int, metric: float) -> None:
        calls.complete_operation(self.runtime, trial_id, length, metric)

    def report_metrics(self, trial_id: int, group: str, reports: list[dict[str, Any]]) -> None:
        calls.report_metrics(self.runtime, trial_id, group, reports)

    def report_progress(self, trial_id: int, progress: float) -> None:
        """Accepted for the contract; the master derives progress from searcher lengths."""

    def early_exit(self, trial_id: int, reason: str, message: str | None = None) -> None:
        calls.early_exit(self.runtime, trial_id, reason, message)

    def register_checkpoint(
        self, trial_id: int, allocation_id: str, checkpoint: dict[str, Any]
    ) -> None:
        calls.register_checkpoint(self.runtime, trial_id, allocation_id, checkpoint)

    def wait_preemption(self, allocation_id: str, timeout: float) -> tuple[bool, str | None]:
        return calls.wait_preemption(self.runtime, allocation_id, timeout)

    def cluster_state(self) -> dict[str, Any]:
        return cluster_state(self.runtime)
