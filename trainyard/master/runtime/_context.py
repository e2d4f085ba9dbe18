"""`Runtime`: the shared parts every runtime module works with (settings, DB, RM, searchers).

Only the searchers (in `SearchShell`) and the RM's process handles live in memory; everything else
is read from and written to the DB, which stays the single source of truth.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from trainyard.config import ExperimentConfig, load_experiment_config
from trainyard.master.db import allocations as alloc_repo
from trainyard.master.db import experiments as exp_repo
from trainyard.master.db.database import Database
from trainyard.master.rm import LocalResourceManager
from trainyard.master.runtime._searchers import SearchShell
from trainyard.master.settings import MasterSettings
from trainyard.scheduler import DEFAULT_PRIORITY
from trainyard.storage import CheckpointStorage, storage_from_config

__all__ = ["Runtime"]

_log = logging.getLogger("trainyard.master.runtime")


class Runtime:
    """Shared state of one master process; thread-safe."""

    def __init__(self, settings: MasterSettings, db: Database, rm: LocalResourceManager) -> None:
        self.settings = settings
        self.db = db
        self.rm = rm
        self.log = _log
        self._configs: dict[int, ExperimentConfig] = {}
        self._configs_lock = threading.Lock()
        self.shell = SearchShell(
            db, self.config, self.request_preemption, settings.searcher_modules
        )
        self.wake = threading.Event()
        """Set to make the scheduling loop tick now."""
        self.preempted = threading.Condition()
        """Notified whenever an allocation is asked to stop (`wait_preemption` waits on it)."""
        self._gc_lock = threading.Lock()
        self._gc_due: set[int] = set()

    # -- experiment configs (immutable once stored; cached) --

    def config(self, session: Session, experiment_id: int) -> ExperimentConfig:
        """The experiment's validated config."""
        with self._configs_lock:
            cached = self._configs.get(experiment_id)
        if cached is not None:
            return cached
        raw = exp_repo.get_experiment(session, experiment_id).config
        loaded = load_experiment_config(raw)
        with self._configs_lock:
            self._configs[experiment_id] = loaded
        return loaded

    def forget(self, experiment_id: int) -> None:
        """Drop cached state of a deleted experiment."""
        with self._configs_lock:
            self._configs.pop(experiment_id, None)
        self.shell.forget(experiment_id)

    def priority(self, override: int | None, config: ExperimentConfig) -> int:
        """The priority the scheduler uses: the set-priority override, the config's, or 42."""
        if override is not None:
            return override
        return config.resources.priority or DEFAULT_PRIORITY

    # -- checkpoint storage --

    def storage_config(self, config: ExperimentConfig) -> dict[str, Any]:
        """`checkpoint_storage` with paths resolved (a `shared_fs` without `host_path` uses the
        master's `checkpoint_root`), as trials receive it in TRAINYARD_CHECKPOINT_STORAGE."""
        cfg: dict[str, Any] = config.checkpoint_storage.model_dump(mode="json")
        if cfg.get("type", "shared_fs") == "shared_fs" and not cfg.get("host_path"):
            cfg["host_path"] = str(self.settings.checkpoint_root)
        return cfg

    def storage(self, config: ExperimentConfig) -> CheckpointStorage:
        return storage_from_config(self.storage_config(config))

    def storage_json(self, config: ExperimentConfig) -> str:
        return json.dumps(self.storage_config(config))

    def allocation_log(self, allocation_id: str) -> Path:
        """The allocation's raw stdout/stderr (a fallback; the launcher ships logs to the API)."""
        return self.settings.data_dir / "logs" / "allocations" / f"{allocation_id}.log"

    def last_output_line(self, allocation_id: str, limit: int = 300) -> str | None:
        """The last line the allocation's trial printed (the launcher's and the Core API's own
        `[launcher]` / `[trainyard]` lines and the `[rank=N] ` prefix left out), at most `limit`
        characters; None when there is none."""
        try:
            with self.allocation_log(allocation_id).open("rb") as log:
                log.seek(0, 2)
                log.seek(max(0, log.tell() - 8192))
                tail = log.read().decode("utf-8", errors="replace")
        except OSError:
            return None
        for raw in reversed(tail.splitlines()):
            line = raw.strip()
            if line.startswith("[rank=") and "] " in line:
                line = line.split("] ", 1)[1].strip()
            if line and not line.startswith(("[launcher]", "[trainyard]")):
                return line if len(line) <= limit else line[: limit - 3] + "..."
        return None

    # -- signals to trials and to the loop --

    def request_preemption(self, session: Session, allocation_id: str, reason: str) -> None:
        """Record why the allocation must stop (its trial's long poll sees it) and wake waiters
        once the caller's unit of work has committed."""
        alloc_repo.request_preemption(session, allocation_id, reason)
        self.notify_preemption()

    def notify_preemption(self) -> None:
        with self.preempted:
            self.preempted.notify_all()
        self.wake.set()

    def gc_later(self, experiment_id: int) -> None:
        """Ask the loop to run checkpoint GC for this experiment."""
        with self._gc_lock:
            self._gc_due.add(experiment_id)
        self.wake.set()

    def take_gc_due(self) -> list[int]:
        with self._gc_lock:
            due = sorted(self._gc_due)
            self._gc_due.clear()
        return due
