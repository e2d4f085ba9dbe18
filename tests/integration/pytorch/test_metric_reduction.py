"""Training and validation metrics are averaged over every rank, also when ranks report
different metric names (a name missing on one rank counts as 0 there); the small integer
broadcast the Trainer's preemption checks use gives every rank the chief's value."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from trainyard.core import DistributedContext
from trainyard.pytorch._metrics import MetricSums, TrainingWindow

CPU = torch.device("cpu")


def _reduce_on_rank(rank: int, init_file: str, out_dir: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    try:
        window = TrainingWindow(CPU)
        for step in range(3):  # same names on both ranks
            window.add({"loss": torch.tensor(float(rank + step)), "lr": 0.5})
        same = window.reduce(distributed=True)
        sums = MetricSums(CPU)  # rank 1 reports an extra metric
        extra = {"recall": torch.tensor(0.8)} if rank == 1 else {}
        sums.add({"accuracy": torch.tensor(0.5 + rank * 0.25), **extra}, weight=10.0 + rank * 30)
        differing = sums.reduce(distributed=True)
        chiefs = DistributedContext.from_torch_distributed().broadcast_int(7 if rank == 0 else 3)
        out = {"same": same, "differing": differing, "broadcast": chiefs}
        torch.save(out, Path(out_dir) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


@pytest.mark.timeout(120)
def test_two_ranks_agree_on_means_and_on_the_chiefs_broadcast_integer(
    tmp_path: Path,
) -> None:
    mp.spawn(_reduce_on_rank, args=(str(tmp_path / "init"), str(tmp_path)), nprocs=2)
    results = [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]
    assert results[0] == results[1]
    assert results[1]["broadcast"] == 7
    # loss: rank 0 sees 0, 1, 2 and rank 1 sees 1, 2, 3 -> mean 1.5; lr is 0.5 everywhere
    assert results[0]["same"] == pytest.approx({"loss": 1.5, "lr": 0.5})
    # accuracy weighted by records: (0.5 * 10 + 0.75 * 40) / 50; recall only on rank 1's 40
    assert results[0]["differing"] == pytest.approx({"accuracy": 0.7, "recall": 0.8 * 40 / 50})
