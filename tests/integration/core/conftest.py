"""`contract_master`: one real master shared by this folder's tests (each test adds its own
experiment, so they do not see each other's state)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _real_master import ContractMaster, start_contract_master
from master_process import stop_master


@pytest.fixture(scope="session")
def contract_master(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ContractMaster]:
    master = start_contract_master(tmp_path_factory.mktemp("contract") / "master")
    try:
        yield master
    finally:
        master.close()
        stop_master(master.running)
