"""Checkpoint manifests: what a committed checkpoint holds, file by file.

A checkpoint is committed when its `MANIFEST.json` exists; the manifest maps every file's relative
path (POSIX separators) to its size and sha256. Reading a checkpoint re-hashes its files against
the manifest, so a partial write (no manifest) or a damaged file is caught before it is used.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from trainyard.errors import CheckpointError

MANIFEST_NAME = "MANIFEST.json"
LABELS_NAME = "MANIFEST.labels.json"
"""Who is writing an uncommitted checkpoint (`CheckpointStorage.labels`); on commit the labels
move into `MANIFEST.json` and this file goes. Never one of the checkpoint's files."""
_SHARD_RE = re.compile(r"^MANIFEST\.shard-(\d+)\.json$")
_UUID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
_CHUNK = 1 << 20


def shard_manifest_name(rank: int) -> str:
    """File name of the manifest rank `rank` writes in sharded mode (merged away on commit)."""
    return f"MANIFEST.shard-{rank}.json"


def is_manifest_name(relpath: str) -> bool:
    """True for `MANIFEST.json` and the per-rank shard manifests (never checkpoint content)."""
    return relpath in (MANIFEST_NAME, LABELS_NAME) or _SHARD_RE.match(relpath) is not None


def check_uuid(uuid: str) -> str:
    """Return `uuid` if it is a safe directory name, else raise `CheckpointError`."""
    if not _UUID_RE.match(uuid):
        raise CheckpointError(
            f"{uuid!r} is not a valid checkpoint uuid; use letters, digits, '.', '_' or '-'"
        )
    return uuid


@dataclass(frozen=True)
class FileEntry:
    """One file of a checkpoint as the manifest records it."""

    size: int
    sha256: str


def hash_stream(stream: IO[bytes]) -> FileEntry:
    """Size and sha256 of everything left in `stream`."""
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return FileEntry(size=size, sha256=digest.hexdigest())


def local_files(root: Path) -> list[str]:
    """Relative POSIX paths of the regular files under `root`, sorted, manifests excluded."""
    found: list[str] = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            rel = Path(dirpath, name).relative_to(root).as_posix()
            if not is_manifest_name(rel):
                found.append(rel)
    return sorted(found)


def build_manifest(root: Path) -> dict[str, FileEntry]:
    """Hash every file under the local directory `root`."""
    entries: dict[str, FileEntry] = {}
    for rel in local_files(root):
        with open(root / rel, "rb") as f:
            entries[rel] = hash_stream(f)
    return entries


def dump_manifest(entries: dict[str, FileEntry], labels: Mapping[str, str] | None = None) -> bytes:
    """The manifest file's bytes: `{"version": 1, "files": {relpath: {"size", "sha256"}}}`,
    plus `"labels"` (who wrote the checkpoint) when given."""
    files = {rel: {"size": e.size, "sha256": e.sha256} for rel, e in sorted(entries.items())}
    doc: dict[str, Any] = {"version": 1, "files": files}
    if labels:
        doc["labels"] = {str(k): str(v) for k, v in sorted(labels.items())}
    return json.dumps(doc, indent=1).encode()


def manifest_labels(raw: bytes | None) -> dict[str, str]:
    """The `"labels"` of manifest bytes; {} when absent or unreadable."""
    try:
        doc: Any = json.loads(raw or b"")
    except ValueError:
        return {}
    labels = doc.get("labels") if isinstance(doc, dict) else None
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def parse_manifest(uuid: str, raw: bytes, name: str = MANIFEST_NAME) -> dict[str, FileEntry]:
    """Parse manifest bytes; a malformed manifest means a corrupt checkpoint."""
    try:
        doc: Any = json.loads(raw)
        return {
            str(rel): FileEntry(size=int(e["size"]), sha256=str(e["sha256"]))
            for rel, e in doc["files"].items()
        }
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise CheckpointError(
            f"checkpoint {uuid} is corrupt: {name} is unreadable ({type(err).__name__})"
        ) from None


def dump_labels(labels: Mapping[str, str]) -> bytes:
    """The labels file's bytes."""
    return json.dumps({str(k): str(v) for k, v in sorted(labels.items())}).encode()


def parse_labels(raw: bytes | None) -> dict[str, str]:
    """Labels from the file's bytes; {} when missing or unreadable (a torn write)."""
    if not raw:
        return {}
    try:
        doc: Any = json.loads(raw)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in doc.items()} if isinstance(doc, dict) else {}


def merge_shards(uuid: str, shards: Iterable[dict[str, FileEntry]]) -> dict[str, FileEntry]:
    """Union of the ranks' manifests; two ranks writing the same file is an error."""
    merged: dict[str, FileEntry] = {}
    for shard in shards:
        for rel, entry in shard.items():
            if rel in merged:
                raise CheckpointError(
                    f"checkpoint {uuid}: two ranks wrote {rel}; give each rank its own file names"
                )
            merged[rel] = entry
    return merged


def verify_entries(
    uuid: str,
    entries: dict[str, FileEntry],
    open_file: Callable[[str], IO[bytes] | None],
) -> None:
    """Re-hash each file through `open_file(relpath)` (None: missing) and compare to `entries`."""
    for rel, expected in sorted(entries.items()):
        stream = open_file(rel)
        if stream is None:
            raise CheckpointError(f"checkpoint {uuid} is corrupt: {rel} is missing")
        with stream:
            actual = hash_stream(stream)
        if actual.size != expected.size:
            raise CheckpointError(
                f"checkpoint {uuid} is corrupt: {rel} has {actual.size} bytes, "
                f"the manifest says {expected.size}"
            )
        if actual.sha256 != expected.sha256:
            raise CheckpointError(
                f"checkpoint {uuid} is corrupt: {rel} does not match its sha256 in the manifest"
            )


def local_opener(root: Path) -> Callable[[str], IO[bytes] | None]:
    """An `open_file` for `verify_entries` that reads files under the local directory `root`."""

    def open_file(relpath: str) -> IO[bytes] | None:
        path = root / relpath
        return path.open("rb") if path.is_file() else None

    return open_file


def partial_error(uuid: str) -> CheckpointError:
    """The error for a checkpoint whose directory exists but whose manifest was never written."""
    return CheckpointError(
        f"checkpoint {uuid} is partial: it has no {MANIFEST_NAME} (its write never finished); "
        "use an earlier checkpoint"
    )
