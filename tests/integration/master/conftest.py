"""Fixtures of the runtime tests: a real master (subprocess, SQLite, CPU slots) per test."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from master_runner import RealMaster  # noqa: E402


@pytest.fixture
def start_master(tmp_path: Path) -> Iterator[Callable[..., RealMaster]]:
    """`start_master(slots=2)` starts a real master; every one started is stopped at the end."""
    started: list[RealMaster] = []

    def start(slots: int = 2, data_dir: Path | None = None) -> RealMaster:
        master = RealMaster(data_dir or tmp_path / f"master{len(started)}", slots=slots)
        started.append(master)
        return master.start()

    yield start
    for master in started:
        master.stop()
