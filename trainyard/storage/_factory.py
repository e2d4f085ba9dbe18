"""Build a `CheckpointStorage` from the experiment's `checkpoint_storage` section."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trainyard.errors import ConfigError
from trainyard.storage._base import CheckpointStorage
from trainyard.storage._fsspec import FsspecStorage
from trainyard.storage._shared_fs import SharedFSStorage


def _as_dict(cfg: Any) -> dict[str, Any]:
    if isinstance(cfg, Mapping):
        return dict(cfg)
    dump = getattr(cfg, "model_dump", None)  # a pydantic CheckpointStorageConfig
    if callable(dump):
        data: dict[str, Any] = dump()
        return data
    raise ConfigError(
        "checkpoint_storage must be a mapping or a CheckpointStorageConfig, "
        f"got {type(cfg).__name__}"
    )


def _require(cfg: Mapping[str, Any], key: str, kind: str) -> str:
    value = cfg.get(key)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"checkpoint_storage.{key}: required for type {kind!r}")
    return value


def storage_from_config(cfg: Any) -> CheckpointStorage:
    """A storage for a `checkpoint_storage` config (pydantic model or plain dict).

    `type: shared_fs` uses `host_path` (+ optional `storage_path`), `type: directory` uses
    `container_path`, `type: fsspec` uses `url` (+ optional `storage_options` dict). Anything else
    raises `ConfigError` naming the field.

    >>> storage_from_config({"type": "fsspec", "url": "memory://ckpts"})
    FsspecStorage('memory://ckpts')
    """
    data = _as_dict(cfg)
    kind = data.get("type", "shared_fs")
    if kind == "shared_fs":
        return SharedFSStorage(_require(data, "host_path", kind), data.get("storage_path") or None)
    if kind == "directory":
        return SharedFSStorage(_require(data, "container_path", kind))
    if kind == "fsspec":
        options = data.get("storage_options") or {}
        return FsspecStorage(_require(data, "url", kind), **dict(options))
    raise ConfigError(
        f"checkpoint_storage.type is {kind!r}; it must be 'shared_fs', 'directory' or 'fsspec'"
    )
