"""A full checkpoint volume: one clear line that says so and where; the previous one intact.

The shared-filesystem case writes to a 2 MiB tmpfs the test mounts (skipped where mounting is
not allowed); the fsspec case uses a filesystem that fails with ENOSPC past a byte budget.
"""

from __future__ import annotations

import errno
import subprocess
import uuid as uuid_lib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest
import torch
from fsspec.implementations.memory import MemoryFileSystem

from trainyard.errors import CheckpointError
from trainyard.storage import CheckpointStorage, FsspecStorage, SharedFSStorage

BIG = 4 * 1024 * 1024  # twice the volume


@pytest.fixture
def tiny_volume(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "volume"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


class _FullMemoryFS(MemoryFileSystem):  # type: ignore[misc]  # fsspec is untyped
    """A memory filesystem whose writes fail with ENOSPC once `budget` bytes are stored."""

    protocol = "fullmem"
    budget = 64 * 1024
    used = 0

    def _spend(self, size: int, path: str) -> None:
        if _FullMemoryFS.used + size > _FullMemoryFS.budget:
            raise OSError(errno.ENOSPC, "No space left on device", path)
        _FullMemoryFS.used += size

    def pipe_file(self, path: str, value: bytes, *args: Any, **kwargs: Any) -> None:
        self._spend(len(value), path)
        super().pipe_file(path, value, *args, **kwargs)

    def put_file(self, lpath: str, rpath: str, *args: Any, **kwargs: Any) -> None:
        self._spend(Path(lpath).stat().st_size, rpath)
        super().put_file(lpath, rpath, *args, **kwargs)


fsspec.register_implementation("fullmem", _FullMemoryFS, clobber=True)


def _assert_clear_no_space(err: pytest.ExceptionInfo[CheckpointError], where: str) -> None:
    message = str(err.value)
    assert "no space left on device" in message
    assert where in message
    assert "\n" not in message


def _previous_is_intact(storage: CheckpointStorage, uid: str) -> None:
    assert storage.verify(uid) == {"model.pt": 1000}


def test_a_torch_save_on_a_full_volume_says_no_space_and_keeps_the_previous(
    tiny_volume: Path,
) -> None:
    storage = SharedFSStorage(tiny_volume, "ckpts")
    with storage.store_path() as (path, previous):
        (path / "model.pt").write_bytes(b"w" * 1000)
    with pytest.raises(CheckpointError) as err, storage.store_path() as (path, _):
        torch.save(torch.zeros(BIG // 4), path / "model.pt")
    _assert_clear_no_space(err, str(tiny_volume / "ckpts"))
    _previous_is_intact(storage, previous)
    assert storage.list_checkpoints() == [previous]
    assert storage.list_staged() == {}  # the failed write's space is given back


def test_a_plain_write_on_a_full_volume_says_no_space(tiny_volume: Path) -> None:
    storage = SharedFSStorage(tiny_volume)
    with storage.store_path() as (path, previous):
        (path / "model.pt").write_bytes(b"w" * 1000)
    with pytest.raises(CheckpointError) as err, storage.store_path() as (path, _):
        (path / "big.bin").write_bytes(b"0" * BIG)
    _assert_clear_no_space(err, str(tiny_volume))
    _previous_is_intact(storage, previous)


def test_an_upload_to_a_full_fsspec_store_says_no_space_and_leaves_no_part() -> None:
    _FullMemoryFS.used = 0
    url = f"fullmem://trainyard-full-{uuid_lib.uuid4().hex}"
    storage = FsspecStorage(url)
    with storage.store_path() as (path, previous):
        (path / "model.pt").write_bytes(b"w" * 1000)
    with pytest.raises(CheckpointError) as err, storage.store_path() as (path, _):
        (path / "big.bin").write_bytes(b"0" * 200_000)
    _assert_clear_no_space(err, url)
    _previous_is_intact(storage, previous)
    assert storage.list_checkpoints() == [previous]
