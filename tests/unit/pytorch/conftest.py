"""Fixtures for the trainer tests: runs opened through the real Core API, closed afterwards."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))

from scripted_backend import RunFactory


@pytest.fixture
def make_core(tmp_path: Path) -> Iterator[RunFactory]:
    factory = RunFactory(tmp_path)
    yield factory
    for opened in factory.opened:
        opened.ctx.close()


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Train with one intra-op thread, as each trial process of a busy 2-core machine should:
    several threads per process on shared cores make small models many times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
