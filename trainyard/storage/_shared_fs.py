"""Checkpoints in a directory on a (shared) filesystem, committed by an atomic rename."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from trainyard.errors import CheckpointError
from trainyard.storage._base import CheckpointStorage, new_uuid, no_space_error
from trainyard.storage._manifest import (
    LABELS_NAME,
    MANIFEST_NAME,
    FileEntry,
    build_manifest,
    check_uuid,
    dump_labels,
    dump_manifest,
    local_opener,
    manifest_labels,
    merge_shards,
    parse_labels,
    parse_manifest,
    partial_error,
    shard_manifest_name,
    verify_entries,
)

_STAGING = ".staging"


class SharedFSStorage(CheckpointStorage):
    """Checkpoints under `host_path/storage_path/<uuid>/`.

    Writers get a staging directory on the same filesystem (`<root>/.staging/...`); committing
    writes `MANIFEST.json` into it and renames it to `<root>/<uuid>` in one step, so readers see
    either nothing or the whole checkpoint. `restore_path` yields the checkpoint in place (no copy).

    >>> storage = SharedFSStorage("/mnt/checkpoints")
    >>> with storage.store_path() as (path, uuid):
    ...     (path / "model.pt").write_bytes(b"...")
    """

    def __init__(self, host_path: str | os.PathLike[str], storage_path: str | None = None) -> None:
        base = Path(host_path).expanduser()
        # Determined's semantics: storage_path is relative to host_path (an absolute one is kept).
        self.root = (base / storage_path) if storage_path else base

    def __repr__(self) -> str:
        return f"SharedFSStorage({str(self.root)!r})"

    def _dir(self, uuid: str) -> Path:
        return self.root / check_uuid(uuid)

    def _staging(self) -> Path:
        path = self.root / _STAGING
        path.mkdir(parents=True, exist_ok=True)
        return path

    @contextlib.contextmanager
    def store_path(
        self, uuid: str | None = None, *, shard_rank: int | None = None
    ) -> Iterator[tuple[Path, str]]:
        uid = check_uuid(uuid) if uuid is not None else new_uuid()
        if self._dir(uid).exists():
            raise CheckpointError(f"checkpoint {uid} already exists in {self.root}")
        try:
            work = Path(tempfile.mkdtemp(prefix=f"{uid}.", dir=self._staging()))
        except OSError as err:
            raise no_space_error(uid, str(self.root), err) or err from None
        try:
            self._write_labels(work)
            yield work, uid
            if shard_rank is None:
                self._commit(work, build_manifest(work), uid)
            else:
                self._stage_shard(work, uid, shard_rank)
        except Exception as err:
            # Only new directories were written to: earlier checkpoints are untouched.
            full = no_space_error(uid, str(self.root), err, work)
            if full is None:
                raise
            raise full from err
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _write_labels(self, directory: Path) -> None:
        if self.labels and not (directory / LABELS_NAME).exists():
            (directory / LABELS_NAME).write_bytes(dump_labels(self.labels))

    def _commit(self, work: Path, entries: dict[str, FileEntry], uid: str) -> None:
        staged_labels = work / LABELS_NAME
        labels = _read_labels(work)
        (work / MANIFEST_NAME).write_bytes(dump_manifest(entries, labels))
        staged_labels.unlink(missing_ok=True)
        try:
            os.rename(work, self._dir(uid))
        except OSError as err:
            raise CheckpointError(f"checkpoint {uid} could not be committed: {err}") from None

    def _stage_shard(self, work: Path, uid: str, rank: int) -> None:
        entries = build_manifest(work)
        shared = self._staging() / f"{uid}.sharded"
        shared.mkdir(exist_ok=True)
        self._write_labels(shared)
        for rel in entries:
            target = shared / rel
            if target.exists():
                raise CheckpointError(
                    f"checkpoint {uid}: rank {rank} wrote {rel}, which another rank also wrote"
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(work / rel, target)
        (shared / shard_manifest_name(rank)).write_bytes(dump_manifest(entries))

    def commit_shards(self, uuid: str, ranks: int) -> dict[str, int]:
        shared = self.root / _STAGING / f"{check_uuid(uuid)}.sharded"
        shards = []
        for rank in range(ranks):
            path = shared / shard_manifest_name(rank)
            if not path.is_file():
                raise CheckpointError(f"checkpoint {uuid}: rank {rank} did not write its shard")
            shards.append(parse_manifest(uuid, path.read_bytes(), path.name))
        entries = merge_shards(uuid, shards)
        for rank in range(ranks):
            (shared / shard_manifest_name(rank)).unlink()
        self._commit(shared, entries, uuid)
        return {rel: e.size for rel, e in entries.items()}

    def abort(self, uuid: str) -> None:
        shutil.rmtree(self.root / _STAGING / f"{check_uuid(uuid)}.sharded", ignore_errors=True)

    def read_manifest(self, uuid: str) -> dict[str, FileEntry]:
        path = self._dir(uuid)
        if not path.is_dir():
            raise CheckpointError(f"checkpoint {uuid} does not exist in {self.root}")
        manifest = path / MANIFEST_NAME
        if not manifest.is_file():
            raise partial_error(uuid)
        return parse_manifest(uuid, manifest.read_bytes())

    def _open(self, uuid: str, relpath: str) -> IO[bytes] | None:
        return local_opener(self._dir(uuid))(relpath)

    @contextlib.contextmanager
    def restore_path(self, uuid: str) -> Iterator[Path]:
        self.verify(uuid)
        yield self._dir(uuid)

    def download(self, uuid: str, dest: Path) -> None:
        entries = self.read_manifest(uuid)
        dest = Path(dest)
        for rel in entries:
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            source = self._dir(uuid) / rel
            if not source.is_file():
                raise CheckpointError(f"checkpoint {uuid} is corrupt: {rel} is missing")
            shutil.copyfile(source, target)
        verify_entries(uuid, entries, local_opener(dest))

    def delete(self, uuid: str) -> None:
        shutil.rmtree(self._dir(uuid), ignore_errors=True)

    def list_checkpoints(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            p.name
            for p in self.root.iterdir()
            if p.is_dir() and p.name != _STAGING and _is_uuid(p.name)
        )

    def read_labels(self, uuid: str) -> dict[str, str]:
        try:
            return manifest_labels((self._dir(uuid) / MANIFEST_NAME).read_bytes())
        except OSError:
            return _read_labels(self._dir(uuid))

    def list_staged(self) -> dict[str, dict[str, str]]:
        staging = self.root / _STAGING
        if not staging.is_dir():
            return {}
        return {p.name: _read_labels(p) for p in staging.iterdir() if p.is_dir()}

    def remove_staged(self, name: str) -> None:
        if "/" in name or name in ("", ".", ".."):
            raise CheckpointError(f"{name!r} is not a staged checkpoint write")
        shutil.rmtree(self.root / _STAGING / name, ignore_errors=True)


def _read_labels(directory: Path) -> dict[str, str]:
    try:
        return parse_labels((directory / LABELS_NAME).read_bytes())
    except OSError:
        return {}


def _is_uuid(name: str) -> bool:
    try:
        check_uuid(name)
    except CheckpointError:
        return False
    return True
