"""The `CheckpointStorage` interface every storage backend implements."""

from __future__ import annotations

import errno
import os
import shutil
import uuid as uuid_lib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from types import MappingProxyType
from typing import IO

from trainyard.errors import CheckpointError
from trainyard.storage._manifest import FileEntry, check_uuid, verify_entries


def new_uuid() -> str:
    """A fresh checkpoint uuid (random, RFC 4122 text form)."""
    return str(uuid_lib.uuid4())


# Below this many free bytes a failed write is taken for a full volume (a filesystem keeps a
# few blocks back; torch's writer reports ENOSPC as "file write failed" without the errno).
_FULL_BELOW_BYTES = 1 << 20


def no_space_error(
    uid: str, where: str, err: BaseException, local: Path | None = None
) -> CheckpointError | None:
    """A one-line `CheckpointError` naming `where` if `err` came from a full volume, else None.

    Full means ENOSPC (or EDQUOT) anywhere in the exception's chain, or, for a write into the
    local directory `local`, less than 1 MiB left on its filesystem when the write failed.
    """
    seen: BaseException | None = err
    full = False
    while seen is not None and not full:
        full = isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT)
        seen = seen.__cause__ or seen.__context__
    if not full and local is not None:
        try:
            stats = os.statvfs(local)
        except OSError:
            return None
        full = stats.f_bavail * stats.f_frsize < _FULL_BELOW_BYTES
    if not full:
        return None
    detail = (str(err).splitlines() or [""])[0].strip() or type(err).__name__
    return CheckpointError(
        f"checkpoint {uid} was not saved: no space left on device under {where} ({detail}); "
        "free space there or point checkpoint_storage elsewhere"
    )


class CheckpointStorage(ABC):
    """Where checkpoints live: `<root>/<uuid>/...`, each committed with a `MANIFEST.json`.

    Callers may rely on: a uuid is visible to `verify`/`restore_path` only once all its files were
    written (a crash mid-write leaves no manifest, so `verify` says "partial"); `verify` re-hashes
    every file; every failure about a checkpoint is a `CheckpointError` with a one-line message.

    Sharded mode (several ranks writing one checkpoint): every rank calls
    `store_path(uuid, shard_rank=rank)` with the same uuid, then — after a barrier — exactly one
    process calls `commit_shards(uuid, ranks)`, which merges the per-rank manifests.

    Labels: set `labels` (e.g. `{"trial_id": "7", "allocation_id": "..."}`) and every checkpoint
    this object writes carries them from its first byte on, committed or not (`read_labels`,
    `list_staged`). A master that died before a checkpoint was registered can tell whose it is.
    """

    labels: Mapping[str, str] = MappingProxyType({})

    @abstractmethod
    def store_path(
        self, uuid: str | None = None, *, shard_rank: int | None = None
    ) -> AbstractContextManager[tuple[Path, str]]:
        """Yield `(local_dir, uuid)` to write into; commit it (or stage the shard) on clean exit.

        On an exception nothing is committed and the staged files are removed. `uuid` defaults to
        a new random one (sharded mode needs the same uuid on every rank, so pass it).
        """

    def upload(self, src: Path, uuid: str | None = None, *, shard_rank: int | None = None) -> str:
        """Copy the local directory `src` in as checkpoint `uuid` (committed like `store_path`)."""
        with self.store_path(uuid, shard_rank=shard_rank) as (path, uid):
            shutil.copytree(src, path, dirs_exist_ok=True)
        return uid

    @abstractmethod
    def commit_shards(self, uuid: str, ranks: int) -> dict[str, int]:
        """Merge the manifests of shards `0..ranks-1` and commit; returns `resources(uuid)`."""

    @abstractmethod
    def abort(self, uuid: str) -> None:
        """Drop everything staged for an uncommitted (sharded) checkpoint `uuid`."""

    @abstractmethod
    def read_manifest(self, uuid: str) -> dict[str, FileEntry]:
        """The committed manifest; `CheckpointError` if `uuid` is missing, partial or unreadable."""

    @abstractmethod
    def _open(self, uuid: str, relpath: str) -> IO[bytes] | None:
        """Open one file of checkpoint `uuid` for reading, or None if it does not exist."""

    def verify(self, uuid: str) -> dict[str, int]:
        """Check every file against the manifest; returns `resources(uuid)` when all match."""
        check_uuid(uuid)
        entries = self.read_manifest(uuid)
        verify_entries(uuid, entries, lambda rel: self._open(uuid, rel))
        return {rel: e.size for rel, e in entries.items()}

    def read_bytes(self, uuid: str, relpath: str) -> bytes:
        """One file of a committed checkpoint, unverified (call `verify` first when it matters);
        `CheckpointError` if the manifest does not list it or it is missing."""
        if relpath not in self.read_manifest(check_uuid(uuid)):
            raise CheckpointError(f"checkpoint {uuid} has no file {relpath}")
        stream = self._open(uuid, relpath)
        if stream is None:
            raise CheckpointError(f"checkpoint {uuid} is corrupt: {relpath} is missing")
        with stream:
            return stream.read()

    def resources(self, uuid: str) -> dict[str, int]:
        """`{relpath: size_bytes}` of a committed checkpoint (from its manifest, not re-hashed)."""
        return {rel: e.size for rel, e in self.read_manifest(check_uuid(uuid)).items()}

    def is_good(self, uuid: str) -> bool:
        """True when `verify(uuid)` passes."""
        try:
            self.verify(uuid)
        except CheckpointError:
            return False
        return True

    @abstractmethod
    def restore_path(self, uuid: str) -> AbstractContextManager[Path]:
        """Yield a local directory holding the verified checkpoint; treat it as read-only."""

    @abstractmethod
    def download(self, uuid: str, dest: Path) -> None:
        """Copy the verified checkpoint into the local directory `dest` (created if needed)."""

    @abstractmethod
    def delete(self, uuid: str) -> None:
        """Remove checkpoint `uuid` (committed or partial); a missing uuid is not an error."""

    @abstractmethod
    def list_checkpoints(self) -> list[str]:
        """Uuids present under the root, committed or partial, sorted."""

    @abstractmethod
    def read_labels(self, uuid: str) -> dict[str, str]:
        """The labels checkpoint `uuid` was written with; {} when it has none or is missing."""

    def list_staged(self) -> dict[str, dict[str, str]]:
        """Uncommitted writes kept apart from `list_checkpoints` (name -> labels); {} where a
        backend has no staging area (fsspec: partial checkpoints are listed as uuids)."""
        return {}

    def remove_staged(self, name: str) -> None:
        """Drop the uncommitted write `name` of `list_staged()` (only when its writer is dead)."""
        raise CheckpointError(f"{self!r} keeps no staged writes; {name!r} is not one")
