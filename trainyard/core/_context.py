"""`init()`: the one composition root of the Core API."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

from trainyard.core._backend import Backend
from trainyard.core._checkpoint import CheckpointContext
from trainyard.core._config import experiment_name, length_unit, load_config
from trainyard.core._distributed import DistributedContext
from trainyard.core._errors import InvalidHP
from trainyard.core._info import TrialInfo
from trainyard.core._preempt import PreemptContext
from trainyard.core._searcher import SearcherContext
from trainyard.core._train import TrainContext
from trainyard.errors import TrainyardError
from trainyard.storage import CheckpointStorage, storage_from_config


class Context:
    """Everything trial code needs, built by `init()`; use it as a context manager.

    On exit it flushes metrics and stops background threads. `InvalidHP` raised inside is
    reported as an early exit (`invalid_hp`) and swallowed; any other exception propagates after
    the flush (the process exits non-zero and the master counts a failed run).
    """

    def __init__(
        self,
        *,
        info: TrialInfo,
        distributed: DistributedContext,
        backend: Backend | None,
        owns_distributed: bool,
    ) -> None:
        self.info = info
        self.distributed = distributed
        self.train = TrainContext(backend)
        self.checkpoint = CheckpointContext(self._make_storage, backend, distributed)
        self.preempt = PreemptContext(backend, distributed)
        self.searcher = SearcherContext(backend, distributed, length_unit(info.config))
        self._backend = backend
        self._owns_distributed = owns_distributed
        self._closed = False

    def _make_storage(self) -> CheckpointStorage:
        storage = storage_from_config(self.info.checkpoint_storage)
        # Who writes: lets a restarted master register or collect a checkpoint whose
        # registration was lost with the previous master.
        owner = {
            "experiment_id": self.info.experiment_id,
            "trial_id": self.info.trial_id,
            "allocation_id": os.environ.get("TRAINYARD_ALLOCATION_ID"),
        }
        storage.labels = {k: str(v) for k, v in owner.items() if v is not None}
        return storage

    def __enter__(self) -> Context:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        swallow = False
        try:
            if isinstance(exc, InvalidHP):
                self.train.report_early_exit("invalid_hp")
                swallow = True
            elif exc is not None and self._backend is not None:
                first_line = (str(exc).splitlines() or [""])[0]
                self._backend.log(f"trial failed: {type(exc).__name__}: {first_line}")
        finally:
            try:
                self.close()
            except TrainyardError as err:
                if exc is None:
                    raise
                print(f"[trainyard] while exiting after an error: {err}", file=sys.stderr)
        return swallow

    def close(self) -> None:
        """Flush and stop the backend (idempotent); destroys a process group `init` created."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._backend is not None:
                self._backend.close()
        finally:
            if self._owns_distributed:
                self.distributed.close()


def default_distributed(cls: type[DistributedContext] = DistributedContext) -> DistributedContext:
    """`cls.from_torch_distributed()` when a group exists or WORLD_SIZE > 1, else `cls.single()`
    (`trainyard.determined` passes its own `DistributedContext`)."""
    torch_dist = sys.modules.get("torch.distributed")
    initialised = (
        torch_dist is not None and torch_dist.is_available() and torch_dist.is_initialized()
    )
    if initialised or int(os.environ.get("WORLD_SIZE", "1") or "1") > 1:
        return cls.from_torch_distributed()
    return cls.single()


def _make_backend(config: Any, hparams: dict[str, Any] | None, run_dir: Any) -> Backend:
    if os.environ.get("TRAINYARD_MASTER_URL"):
        from trainyard.core._master_backend import MasterBackend

        return MasterBackend.from_env()
    from trainyard.core._local_backend import LocalBackend

    cfg = load_config(config)
    where = run_dir or os.environ.get("TRAINYARD_RUN_DIR") or Path("runs") / experiment_name(cfg)
    return LocalBackend(where, config=cfg, hparams=hparams)


def init(
    *,
    distributed: DistributedContext | None = None,
    config: Any = None,
    hparams: dict[str, Any] | None = None,
    run_dir: str | os.PathLike[str] | None = None,
) -> Context:
    """Build the Core API context: master-backed if `TRAINYARD_MASTER_URL` is set, else local.

    Every rank calls it (it is a collective when there are several). Only the chief builds a
    backend; the others get the trial info from it. `config` (an `ExperimentConfig`, path, YAML
    text or dict; default `TRAINYARD_CONFIG`), `hparams` and `run_dir` (default
    `TRAINYARD_RUN_DIR`, else `./runs/<name>`) matter only in local mode.

    >>> with trainyard.core.init() as ctx:
    ...     for op in ctx.searcher.operations(): ...
    """
    owns = distributed is None
    dist = distributed if distributed is not None else default_distributed()
    backend: Backend | None = None
    outcome: tuple[str, Any] = ("ok", None)
    if dist.is_chief:
        try:
            backend = _make_backend(config, hparams, run_dir)
            outcome = ("ok", backend.trial_info())
        except TrainyardError as err:
            outcome = ("error", err)
            if backend is not None:
                backend.close()
    if dist.size > 1:
        outcome = dist.broadcast(outcome)
    kind, value = outcome
    if kind == "error":
        if owns:
            dist.close()
        raise value
    return Context(info=value, distributed=dist, backend=backend, owns_distributed=owns)
