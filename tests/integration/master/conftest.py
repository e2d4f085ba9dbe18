"""Fixtures of the runtime tests: real masters (subprocess, SQLite, CPU slots).

`shared_master` is one master per test module, with a 2-slot CPU pool `default` and a 2-slot
`cuda` pool `gpus` (tests wait for their own experiments to
end, so they can share it); `start_master(slots=...)` starts a private one for tests that need a
different pool or kill it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from master_runner import RealMaster


@pytest.fixture(scope="module")
def shared_master(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealMaster]:
    pools = json.dumps(
        [
            {"name": "default", "slots": 2, "slot_type": "cpu"},
            {"name": "gpus", "slots": 2, "slot_type": "cuda"},  # no GPU needed to check the env
        ]
    )
    master = RealMaster(tmp_path_factory.mktemp("shared-master"), pools=pools).start()
    try:
        yield master
    finally:
        master.stop()


@pytest.fixture
def start_master(tmp_path: Path) -> Iterator[Callable[..., RealMaster]]:
    """`start_master(slots=2, data_dir=None, db_url=None)` starts a real master (SQLite unless
    `db_url`); every one started is stopped at the end."""
    started: list[RealMaster] = []

    def start(
        slots: int = 2, data_dir: Path | None = None, db_url: str | None = None
    ) -> RealMaster:
        directory = data_dir or tmp_path / f"master{len(started)}"
        master = RealMaster(directory, slots=slots, db_url=db_url)
        started.append(master)
        return master.start()

    yield start
    for master in started:
        master.stop()
