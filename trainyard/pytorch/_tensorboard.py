"""TensorBoard event files per trial: `<run dir or checkpoint root>/tensorboard/trial_<id>`."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def tensorboard_dir(
    trial_id: int | None,
    run_dir: str | Path | None = None,
    checkpoint_storage: dict[str, Any] | None = None,
) -> Path:
    """Where this trial's event files go: `<root>/tensorboard/trial_<id>` (`trial_local` when
    the trial has no id, i.e. in local mode).

    The root is the first that is known: `run_dir`, `TRAINYARD_RUN_DIR` (the local run folder),
    the shared-fs/directory root of `checkpoint_storage` (`ctx.info.checkpoint_storage`) or of
    `TRAINYARD_CHECKPOINT_STORAGE`, else `./runs`.
    """
    root: str | Path | None = run_dir or os.environ.get("TRAINYARD_RUN_DIR")
    if root is None and checkpoint_storage:
        root = _checkpoint_root(json.dumps(checkpoint_storage))
    if root is None:
        root = _checkpoint_root(os.environ.get("TRAINYARD_CHECKPOINT_STORAGE"))
    name = f"trial_{trial_id}" if trial_id is not None else "trial_local"
    return Path(root or "runs") / "tensorboard" / name


def _checkpoint_root(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        storage = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(storage, dict):
        return None
    host, sub = storage.get("host_path"), storage.get("storage_path")
    if isinstance(host, str):
        return os.path.join(host, sub) if isinstance(sub, str) else host
    path = storage.get("container_path")
    return path if isinstance(path, str) else None


class TensorBoardSink:
    """Writes `<group>/<metric>` scalars at a step; a no-op when created with `logdir=None`."""

    def __init__(self, logdir: Path | None) -> None:
        self._writer: Any = None
        if logdir is not None:
            from torch.utils.tensorboard import SummaryWriter

            logdir.mkdir(parents=True, exist_ok=True)
            self._writer = SummaryWriter(log_dir=str(logdir))

    def scalars(self, group: str, steps: int, metrics: Mapping[str, float]) -> None:
        """Record every metric, NaN and infinities as they are."""
        if self._writer is None:
            return
        for name, value in metrics.items():
            self._writer.add_scalar(f"{group}/{name}", value, steps)

    def close(self) -> None:
        """Flush and close the event file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
