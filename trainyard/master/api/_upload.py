"""Checks on an uploaded model definition tarball before the runtime sees it."""

from __future__ import annotations

import io
import tarfile

from trainyard.errors import ConfigError
from trainyard.master.api.errors import PayloadTooLargeError

__all__ = ["check_model_def", "too_large_message"]


def too_large_message(size: int, limit: int) -> str:
    """Same words as the SDK's client-side check (`trainyard.client._tarball`)."""
    return (
        f"model directory is {size / 1e6:.1f} MB compressed; the limit is {limit / 1e6:.1f} MB: "
        "list large files in .trainyardignore or raise max_model_dir_bytes in master.yaml"
    )


def check_model_def(data: bytes, limit: int) -> None:
    """Raise `PayloadTooLargeError` over `limit` bytes, `ConfigError` if `data` is not a gzip
    tarball whose members all stay inside the model directory. Empty `data` means no files."""
    if len(data) > limit:
        raise PayloadTooLargeError(too_large_message(len(data), limit))
    if not data:
        return
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar.getmembers():
                name = member.name
                if name.startswith("/") or ".." in name.split("/"):
                    raise ConfigError(
                        f"model_def: member {name!r} escapes the model directory; "
                        "upload a tarball of relative paths"
                    )
                if member.issym() or member.islnk():
                    target = member.linkname
                    if target.startswith("/") or ".." in target.split("/"):
                        raise ConfigError(f"model_def: link {name!r} points outside the directory")
    except (tarfile.TarError, EOFError, OSError):
        raise ConfigError(
            "model_def: not a gzip tarball; pack the model directory with `trainyard experiment "
            "create` or `tar czf`"
        ) from None
