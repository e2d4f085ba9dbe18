"""The narrow interface the API needs from the runtime `Master` service (engineer B's
`trainyard.master.runtime`). Routes depend on this Protocol only, so read routes can be tested
against the store alone and the runtime can change behind it."""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["MasterService"]


class MasterService(Protocol):
    """Lifecycle actions and trial-facing handlers; every method raises `TrainyardError`
    subclasses (`NotFoundError`, `InvalidTransitionError`, `ConfigError`) for bad requests."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def create_experiment(
        self,
        config_yaml: str,
        model_def: bytes,
        *,
        owner_id: int | None,
        activate: bool = True,
        parent_id: int | None = None,
    ) -> int: ...

    def pause_experiment(self, experiment_id: int) -> None: ...

    def activate_experiment(self, experiment_id: int) -> None: ...

    def cancel_experiment(self, experiment_id: int) -> None: ...

    def kill_experiment(self, experiment_id: int) -> None: ...

    def archive_experiment(self, experiment_id: int) -> None: ...

    def unarchive_experiment(self, experiment_id: int) -> None: ...

    def delete_experiment(self, experiment_id: int) -> None: ...

    def fork_experiment(
        self, experiment_id: int, config_yaml: str | None, *, owner_id: int | None
    ) -> int: ...

    def set_priority(self, experiment_id: int, priority: int) -> None: ...

    def kill_trial(self, trial_id: int) -> None: ...

    def continue_trial(
        self, trial_id: int, *, checkpoint_uuid: str | None, max_length: int | None
    ) -> tuple[int, int]: ...

    # -- trial-facing (docs/trial-api.md) --

    def searcher_operation(self, trial_id: int) -> tuple[int | None, bool]: ...

    def complete_operation(self, trial_id: int, length: int, metric: float) -> None: ...

    def report_metrics(self, trial_id: int, group: str, reports: list[dict[str, Any]]) -> None: ...

    def report_progress(self, trial_id: int, progress: float) -> None: ...

    def early_exit(self, trial_id: int, reason: str, message: str | None = None) -> None: ...

    def register_checkpoint(
        self, trial_id: int, allocation_id: str, checkpoint: dict[str, Any]
    ) -> None: ...

    def wait_preemption(self, allocation_id: str, timeout: float) -> tuple[bool, str | None]: ...

    def cluster_state(self) -> dict[str, Any]: ...
