"""Pack a model directory into the gzip tarball the master stores.

Files matching a pattern of `<model_dir>/.trainyardignore` (gitignore-like: one pattern a line,
`#` comments, a trailing `/` matches directories only, a pattern without `/` matches a name at any
depth, a leading `/` anchors it at the top) are left out; so are `__pycache__` and `.git`. A
Determined model directory's `.detignore` is read the same way (both files apply when both exist).
"""

from __future__ import annotations

import fnmatch
import io
import tarfile
from pathlib import Path

from trainyard.client._errors import ModelDirTooLargeError
from trainyard.errors import ConfigError

__all__ = ["IGNORE_FILE", "pack_model_dir"]

IGNORE_FILE = ".trainyardignore"
DETERMINED_IGNORE_FILE = ".detignore"
_ALWAYS_IGNORED = ("__pycache__/", ".git/", "*.pyc")


def pack_model_dir(model_dir: str | Path, *, limit_bytes: int | None = None) -> bytes:
    """The `.tar.gz` bytes of `model_dir` (members relative to it), ignore rules applied.

    Raises `ConfigError` if `model_dir` is not a directory, and `ModelDirTooLargeError` when the
    tarball is over `limit_bytes` (None: no client-side check; the master checks again).
    """
    root = Path(model_dir).expanduser()
    if not root.is_dir():
        raise ConfigError(f"model directory {model_dir} does not exist or is not a directory")
    patterns = [*_ALWAYS_IGNORED, *_read_ignore_file(root / IGNORE_FILE)]
    patterns += _read_ignore_file(root / DETERMINED_IGNORE_FILE)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(_walk(root, root, patterns)):
            try:
                tar.add(path, arcname=path.relative_to(root).as_posix(), recursive=False)
            except OSError as err:
                raise ConfigError(
                    f"model directory: cannot read {path}: {err.strerror or err}; fix its "
                    f"permissions or list it in {IGNORE_FILE}"
                ) from None
    data = buffer.getvalue()
    if limit_bytes is not None and len(data) > limit_bytes:
        raise ModelDirTooLargeError(too_large_message(len(data), limit_bytes), 413)
    return data


def too_large_message(size: int, limit: int) -> str:
    """The one line both the SDK and the master use for an oversized model directory."""
    return (
        f"model directory is {size / 1e6:.1f} MB compressed; the limit is {limit / 1e6:.1f} MB: "
        f"list large files in {IGNORE_FILE} or raise max_model_dir_bytes in master.yaml"
    )


def _read_ignore_file(path: Path) -> list[str]:
    if not path.is_file():
        return []
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: is not UTF-8 text; save the ignore patterns as UTF-8") from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read it: {err.strerror or err}") from None
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _walk(root: Path, directory: Path, patterns: list[str]) -> list[Path]:
    found: list[Path] = []
    for child in directory.iterdir():
        rel = child.relative_to(root).as_posix()
        if _ignored(rel, child.is_dir(), patterns):
            continue
        if child.is_dir() and not child.is_symlink():
            found.append(child)
            found.extend(_walk(root, child, patterns))
        elif child.is_file():
            found.append(child)
    return found


def _ignored(rel: str, is_dir: bool, patterns: list[str]) -> bool:
    name = rel.rsplit("/", 1)[-1]
    for raw in patterns:
        pattern = raw
        if pattern.endswith("/"):
            if not is_dir:
                continue
            pattern = pattern.rstrip("/")
        if pattern.startswith("/"):
            if fnmatch.fnmatchcase(rel, pattern.lstrip("/")):
                return True
        elif "/" in pattern:
            if fnmatch.fnmatchcase(rel, pattern):
                return True
        elif fnmatch.fnmatchcase(name, pattern):
            return True
    return False
