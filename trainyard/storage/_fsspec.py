"""Checkpoints at any fsspec URL (s3://, gs://, file://, memory://...), manifest written last."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

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


class FsspecStorage(CheckpointStorage):
    """Checkpoints under `<url>/<uuid>/`.

    Object stores have no atomic directory rename, so the commit point is the manifest: writers
    fill a local temporary directory, upload its files, and write `MANIFEST.json` last. A reader
    that finds files but no manifest reports the checkpoint as partial.

    >>> storage = FsspecStorage("s3://bucket/checkpoints")
    """

    def __init__(self, url: str, **storage_options: Any) -> None:
        import fsspec

        self.url = url.rstrip("/")
        self._fs, root = fsspec.core.url_to_fs(self.url, **storage_options)
        self._root = str(root).rstrip("/")

    def __repr__(self) -> str:
        return f"FsspecStorage({self.url!r})"

    def _path(self, uuid: str, relpath: str = "") -> str:
        base = f"{self._root}/{check_uuid(uuid)}"
        return f"{base}/{relpath}" if relpath else base

    @contextlib.contextmanager
    def store_path(
        self, uuid: str | None = None, *, shard_rank: int | None = None
    ) -> Iterator[tuple[Path, str]]:
        uid = check_uuid(uuid) if uuid is not None else new_uuid()
        if self._fs.exists(self._path(uid, MANIFEST_NAME)):
            raise CheckpointError(f"checkpoint {uid} already exists at {self.url}")
        work = Path(tempfile.mkdtemp(prefix=f"trainyard-ckpt-{uid}."))
        try:
            yield work, uid
        except Exception as err:
            full = no_space_error(uid, f"the local temporary directory {work.parent}", err, work)
            if full is None:
                raise
            raise full from err
        else:
            self._upload(work, uid, shard_rank)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _upload(self, work: Path, uid: str, shard_rank: int | None) -> None:
        """Files, then the manifest (the commit point); a full store leaves no partial files."""
        entries = build_manifest(work)
        try:
            if self.labels:  # first, so that a partial upload can be traced to its writer
                self._fs.makedirs(self._path(uid), exist_ok=True)
                self._fs.pipe_file(self._path(uid, LABELS_NAME), dump_labels(self.labels))
            self._put_files(work, uid, entries)
            if shard_rank is None:
                self._write_manifest(uid, entries)
            else:
                self._fs.pipe_file(
                    self._path(uid, shard_manifest_name(shard_rank)), dump_manifest(entries)
                )
        except OSError as err:
            full = no_space_error(uid, self.url, err)
            if full is None:
                raise
            if shard_rank is None:
                self.delete(uid)
            raise full from err

    def _put_files(self, work: Path, uid: str, entries: dict[str, FileEntry]) -> None:
        for rel in entries:
            remote = self._path(uid, rel)
            self._fs.makedirs(remote.rsplit("/", 1)[0], exist_ok=True)
            self._fs.put_file(str(work / rel), remote)

    def _write_manifest(self, uid: str, entries: dict[str, FileEntry]) -> None:
        """Commit: the manifest, carrying the writer's labels; then the staged labels go."""
        labels = self._staged_labels(uid)
        self._fs.pipe_file(self._path(uid, MANIFEST_NAME), dump_manifest(entries, labels))
        if labels:
            with contextlib.suppress(FileNotFoundError, OSError):
                self._fs.rm_file(self._path(uid, LABELS_NAME))

    def _staged_labels(self, uid: str) -> dict[str, str]:
        try:
            return parse_labels(self._fs.cat_file(self._path(uid, LABELS_NAME)))
        except (FileNotFoundError, OSError):
            return {}

    def commit_shards(self, uuid: str, ranks: int) -> dict[str, int]:
        shards = []
        for rank in range(ranks):
            path = self._path(uuid, shard_manifest_name(rank))
            if not self._fs.exists(path):
                raise CheckpointError(f"checkpoint {uuid}: rank {rank} did not write its shard")
            shards.append(parse_manifest(uuid, self._fs.cat_file(path), shard_manifest_name(rank)))
        entries = merge_shards(uuid, shards)
        self._write_manifest(uuid, entries)
        for rank in range(ranks):
            self._fs.rm_file(self._path(uuid, shard_manifest_name(rank)))
        return {rel: e.size for rel, e in entries.items()}

    def abort(self, uuid: str) -> None:
        if not self._fs.exists(self._path(uuid, MANIFEST_NAME)):
            self.delete(uuid)

    def read_manifest(self, uuid: str) -> dict[str, FileEntry]:
        manifest = self._path(uuid, MANIFEST_NAME)
        if not self._fs.exists(manifest):
            if self._fs.exists(self._path(uuid)):
                raise partial_error(uuid)
            raise CheckpointError(f"checkpoint {uuid} does not exist at {self.url}")
        return parse_manifest(uuid, self._fs.cat_file(manifest))

    def _open(self, uuid: str, relpath: str) -> IO[bytes] | None:
        path = self._path(uuid, relpath)
        if not self._fs.exists(path):
            return None
        stream: IO[bytes] = self._fs.open(path, "rb")
        return stream

    @contextlib.contextmanager
    def restore_path(self, uuid: str) -> Iterator[Path]:
        work = Path(tempfile.mkdtemp(prefix=f"trainyard-restore-{check_uuid(uuid)}."))
        try:
            self.download(uuid, work)
            yield work
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def download(self, uuid: str, dest: Path) -> None:
        entries = self.read_manifest(uuid)
        dest = Path(dest)
        for rel in entries:
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._fs.get_file(self._path(uuid, rel), str(target))
            except FileNotFoundError:
                raise CheckpointError(f"checkpoint {uuid} is corrupt: {rel} is missing") from None
        verify_entries(uuid, entries, local_opener(dest))

    def delete(self, uuid: str) -> None:
        path = self._path(uuid)
        if self._fs.exists(path):
            self._fs.rm(path, recursive=True)

    def read_labels(self, uuid: str) -> dict[str, str]:
        try:
            return manifest_labels(self._fs.cat_file(self._path(uuid, MANIFEST_NAME)))
        except (FileNotFoundError, OSError):
            return self._staged_labels(uuid)

    def list_checkpoints(self) -> list[str]:
        if not self._fs.exists(self._root):
            return []
        listing = self._fs.ls(self._root, detail=False)
        names = (str(p).rstrip("/").rsplit("/", 1)[-1] for p in listing)
        return sorted(n for n in names if not n.startswith("."))
