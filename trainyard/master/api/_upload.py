"""Checks on an uploaded model definition tarball before the runtime sees it.

Everything the trial's extraction (`tarfile` with `filter="data"`) would refuse is refused here,
at upload, with one line: members outside the directory, links pointing outside it, devices and
FIFOs. The tarball is read as a stream and the check stops at the first member past the
uncompressed limits, so a small gzip bomb costs no more than its declared sizes.
"""

from __future__ import annotations

import io
import tarfile

from trainyard.errors import ConfigError
from trainyard.master.api.errors import PayloadTooLargeError

__all__ = ["MAX_MEMBERS", "UNCOMPRESSED_FACTOR", "check_model_def", "too_large_message"]

UNCOMPRESSED_FACTOR = 16
"""The files of a model directory may hold at most this many times the upload limit."""
MAX_MEMBERS = 100_000
"""Files, directories and links in one model directory."""


def too_large_message(size: int, limit: int) -> str:
    """Same words as the SDK's client-side check (`trainyard.client._tarball`)."""
    return (
        f"model directory is {size / 1e6:.1f} MB compressed; the limit is {limit / 1e6:.1f} MB: "
        "list large files in .trainyardignore or raise max_model_dir_bytes in master.yaml"
    )


def check_model_def(data: bytes, limit: int) -> None:
    """Raise `PayloadTooLargeError` over `limit` bytes (compressed, or `UNCOMPRESSED_FACTOR` x
    `limit` unpacked), `ConfigError` if `data` is not a gzip tarball of at most `MAX_MEMBERS`
    files, directories and links that all stay inside the model directory. Empty `data` means
    no files."""
    if len(data) > limit:
        raise PayloadTooLargeError(too_large_message(len(data), limit))
    if not data:
        return
    unpacked, count = 0, 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r|gz") as tar:
            for member in tar:
                count += 1
                unpacked += max(member.size, 0)
                if count > MAX_MEMBERS:
                    raise ConfigError(
                        f"model_def: has more than {MAX_MEMBERS:,} files; list what the trial "
                        "does not need in .trainyardignore"
                    )
                if unpacked > UNCOMPRESSED_FACTOR * limit:
                    most = UNCOMPRESSED_FACTOR * limit / 1e6
                    raise PayloadTooLargeError(
                        f"model directory unpacks to more than {most:.1f} MB; list large files "
                        "in .trainyardignore or raise max_model_dir_bytes in master.yaml"
                    )
                _check_member(member)
    except (tarfile.TarError, EOFError, OSError, ValueError):
        raise ConfigError(
            "model_def: not a gzip tarball; pack the model directory with `trainyard experiment "
            "create` or `tar czf`"
        ) from None


def _check_member(member: tarfile.TarInfo) -> None:
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
    elif not (member.isfile() or member.isdir()):
        raise ConfigError(
            f"model_def: member {name!r} is a device or FIFO; a model directory holds only "
            "files, directories and links"
        )
