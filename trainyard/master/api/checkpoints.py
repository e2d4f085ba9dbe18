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

from trainyard.errors import CheckpointError, NotFoundError
from trainyard.master.api import _reads
from trainyard.master.api.deps import Context
from trainyard.master.api.schemas import CheckpointOut, checkpoint_out
from trainyard.master.settings import MasterSettings

__all__ = ["checkpoint_dir", "router"]

router = APIRouter(tags=["checkpoints"])


@router.get("/checkpoints/{uuid}", response_model=CheckpointOut)
def get_checkpoint(ctx: Context, uuid: str) -> CheckpointOut:
    with ctx.db.session(read_only=True) as session:
        return checkpoint_out(_reads.get_checkpoint(session, uuid))


def checkpoint_dir(storage: dict[str, Any], settings: MasterSettings, uuid: str) -> Path:
    """Where a checkpoint's files are on this machine, from an experiment's
    `checkpoint_storage` section (shared_fs / directory); `CheckpointError` for remote storage."""
    kind = storage.get("type") or "shared_fs"
    if kind == "directory" and storage.get("container_path"):
        return Path(storage["container_path"]).expanduser() / uuid
    if kind == "fsspec":
        raise CheckpointError(
            f"checkpoint {uuid} is in remote storage ({storage.get('url')}); "
            "download it from there with fsspec"
        )
    host = storage.get("host_path")
    base = Path(host).expanduser() if host else settings.checkpoint_root
    sub = storage.get("storage_path")
    if sub:
        base = base / sub if not Path(sub).is_absolute() else Path(sub)
    return base / uuid


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
    src = checkpoint_dir(storage, ctx.settings, uuid)
    if not src.is_dir():
        raise NotFoundError(f"checkpoint {uuid}: its files are not at {src}")
    fd, tmp = tempfile.mkstemp(suffix=".tar.gz")
    os.close(fd)
    with tarfile.open(tmp, "w:gz") as tar:
        for path in sorted(src.rglob("*")):
            tar.add(path, arcname=path.relative_to(src).as_posix(), recursive=False)
    return FileResponse(
        tmp,
        media_type="application/gzip",
        filename=f"checkpoint-{uuid}.tar.gz",
        background=BackgroundTask(os.unlink, tmp),
    )
