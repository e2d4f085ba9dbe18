"""Checkpoint storage: shared filesystem directories and fsspec URLs, verified by manifests.

Layout: `<root>/<uuid>/...` plus `<root>/<uuid>/MANIFEST.json` (relpath → size, sha256), written
when the checkpoint is committed. Imports nothing of Trainyard's except `trainyard.errors`.
"""

from trainyard.storage._base import CheckpointStorage, new_uuid
from trainyard.storage._factory import storage_from_config
from trainyard.storage._fsspec import FsspecStorage
from trainyard.storage._manifest import MANIFEST_NAME, FileEntry
from trainyard.storage._shared_fs import SharedFSStorage

__all__ = [
    "MANIFEST_NAME",
    "CheckpointStorage",
    "FileEntry",
    "FsspecStorage",
    "SharedFSStorage",
    "new_uuid",
    "storage_from_config",
]
