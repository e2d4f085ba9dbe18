"""Checkpoint routes: metadata and a tarball download of the files."""

from __future__ import annotations

import os
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from trainyard.errors import NotFoundError
from trainyard.master.api import _reads
from trainyard.master.api.deps import Context
from trainyard.master.api.schemas import CheckpointOut, checkpoint_out
from trainyard.master.settings import MasterSettings
from trainyard.storage import CheckpointStorage, storage_from_config

__all__ = ["checkpoint_storage", "router"]

router = APIRouter(tags=["checkpoints"])


@router.get("/checkpoints/{uuid}", response_model=CheckpointOut)
def get_checkpoint(ctx: Context, uuid: str) -> CheckpointOut:
    with ctx.db.session(read_only=True) as session:
        return checkpoint_out(_reads.get_checkpoint(session, uuid))


def checkpoint_storage(storage: dict[str, Any], settings: MasterSettings) -> CheckpointStorage:
    """The storage an experiment's `checkpoint_storage` section names; a `shared_fs` section
    without `host_path` means the master's `checkpoint_root`."""
    cfg = dict(storage)
    if cfg.get("type", "shared_fs") == "shared_fs" and not cfg.get("host_path"):
        cfg["host_path"] = str(settings.checkpoint_root)
    return storage_from_config(cfg)


@router.get("/checkpoints/{uuid}/download", response_class=FileResponse)
def download_checkpoint(ctx: Context, uuid: str) -> FileResponse:
    """The checkpoint's files as a `.tar.gz` (members relative to the checkpoint directory)."""
    with ctx.db.session(read_only=True) as session:
        ckpt = _reads.get_checkpoint(session, uuid)
        exp = _reads.get_experiment(session, ckpt.experiment_id)
        storage = dict((exp.config or {}).get("checkpoint_storage") or {})
        state = ckpt.state
    if state != "ACTIVE":
        raise NotFoundError(f"checkpoint {uuid} was deleted ({state}); its files are gone")
    store = checkpoint_storage(storage, ctx.settings)
    fd, tmp = tempfile.mkstemp(suffix=".tar.gz")
    os.close(fd)
    try:
        with tempfile.TemporaryDirectory() as work:
            src = Path(work) / uuid
            store.download(uuid, src)  # verifies the manifest; CheckpointError if corrupt
            with tarfile.open(tmp, "w:gz") as tar:
                for path in sorted(src.rglob("*")):
                    tar.add(path, arcname=path.relative_to(src).as_posix(), recursive=False)
    except BaseException:
        os.unlink(tmp)
        raise
    return FileResponse(
        tmp,
        media_type="application/gzip",
        filename=f"checkpoint-{uuid}.tar.gz",
        background=BackgroundTask(os.unlink, tmp),
    )
