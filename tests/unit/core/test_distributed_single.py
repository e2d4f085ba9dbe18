"""DistributedContext for one process, and its checks on the rank layout."""

from __future__ import annotations

import pytest

from trainyard.core import CoreUsageError, DistributedContext


def test_single_process_collectives_return_the_input() -> None:
    dist = DistributedContext.single()
    assert (dist.rank, dist.size, dist.is_chief, dist.is_local_chief) == (0, 1, True, True)
    assert dist.broadcast({"x": 1}) == {"x": 1}
    assert dist.broadcast_int(4) == 4
    assert dist.gather(5) == [5]
    assert dist.allgather("a") == ["a"]


def test_rank_outside_the_world_is_refused() -> None:
    with pytest.raises(CoreUsageError, match=r"rank 2 is outside 0\.\.1"):
        DistributedContext(rank=2, size=2, local_rank=0, local_size=2, cross_rank=0, cross_size=1)


def test_from_env_reads_torchrun_variables_for_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "RANK": "0",
        "WORLD_SIZE": "1",
        "LOCAL_RANK": "0",
        "GROUP_RANK": "0",
    }.items():
        monkeypatch.setenv(name, value)
    dist = DistributedContext.from_torch_distributed()
    assert (dist.rank, dist.size, dist.cross_size) == (0, 1, 1)


def test_non_integer_env_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORLD_SIZE", "two")
    with pytest.raises(CoreUsageError, match="WORLD_SIZE='two' must be an integer"):
        DistributedContext.from_torch_distributed()
