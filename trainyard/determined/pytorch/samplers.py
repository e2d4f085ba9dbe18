"""`det.pytorch.samplers`: the sampler wrappers Determined's examples use to shard data by hand
(with a custom sampler the Trainer uses a loader as given)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any


class DistributedSampler:
    """Every `num_workers`-th index of `sampler`, starting at `rank`."""

    def __init__(self, sampler: Iterable[Any], num_workers: int, rank: int) -> None:
        self.sampler, self.num_workers, self.rank = sampler, num_workers, rank

    def __iter__(self) -> Iterator[Any]:
        for i, item in enumerate(self.sampler):
            if i % self.num_workers == self.rank:
                yield item

    def __len__(self) -> int:
        total = len(self.sampler)  # type: ignore[arg-type]  # samplers with a length
        return max(0, (total - self.rank + self.num_workers - 1) // self.num_workers)


class DistributedBatchSampler(DistributedSampler):
    """Every `num_workers`-th batch of `batch_sampler`, starting at `rank`."""


class SkipBatchSampler:
    """`batch_sampler` without its first `skip` batches (to resume mid-epoch)."""

    def __init__(self, batch_sampler: Iterable[Any], skip: int) -> None:
        self.batch_sampler, self.skip = batch_sampler, skip

    def __iter__(self) -> Iterator[Any]:
        for i, batch in enumerate(self.batch_sampler):
            if i >= self.skip:
                yield batch

    def __len__(self) -> int:
        return max(0, len(self.batch_sampler) - self.skip)  # type: ignore[arg-type]  # with a length


class RepeatBatchSampler:
    """`batch_sampler` over and over (an endless training stream)."""

    def __init__(self, batch_sampler: Iterable[Any]) -> None:
        self.batch_sampler = batch_sampler

    def __iter__(self) -> Iterator[Any]:
        while True:
            yield from self.batch_sampler

    def __len__(self) -> int:
        return len(self.batch_sampler)  # type: ignore[arg-type]  # with a length
