"""Fixtures for the trainer tests: runs opened through the real Core API, closed afterwards."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from scripted_backend import RunFactory


@pytest.fixture
def make_core(tmp_path: Path) -> Iterator[RunFactory]:
    factory = RunFactory(tmp_path)
    yield factory
    for opened in factory.opened:
        opened.ctx.close()
