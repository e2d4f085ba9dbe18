"""Training order is a pure function of (seed, epoch); ranks split each global batch."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from trainyard.errors import TrainyardError
from trainyard.pytorch._data import (
    TrainingBatchSampler,
    ValidationBatchSampler,
    batch_size_of,
    make_loader,
    to_device,
)


def epoch_batches(sampler: TrainingBatchSampler, epoch: int, start: int = 0) -> list[list[int]]:
    sampler.set_position(epoch, start)
    return list(sampler)


def test_order_depends_only_on_seed_and_epoch() -> None:
    a, b = TrainingBatchSampler(50, 8, 0, 1, seed=3), TrainingBatchSampler(50, 8, 0, 1, seed=3)
    epoch_batches(a, 5)  # iterating other epochs first changes nothing
    assert epoch_batches(a, 2) == epoch_batches(b, 2)
    assert epoch_batches(a, 2) != epoch_batches(a, 3)
    assert epoch_batches(a, 2) != epoch_batches(TrainingBatchSampler(50, 8, 0, 1, seed=4), 2)


def test_each_epoch_visits_distinct_records_and_drops_the_partial_batch() -> None:
    sampler = TrainingBatchSampler(50, 8, 0, 1, seed=0)
    batches = epoch_batches(sampler, 0)
    flat = [i for b in batches for i in b]
    assert len(batches) == sampler.batches_per_epoch == 6
    assert len(flat) == len(set(flat)) == 48


def test_resuming_at_a_batch_yields_the_rest_of_the_epoch() -> None:
    sampler = TrainingBatchSampler(50, 8, 0, 1, seed=0)
    full = epoch_batches(sampler, 1)
    assert epoch_batches(sampler, 1, start=4) == full[4:]
    assert len(sampler) == 2


def test_ranks_take_contiguous_slices_of_the_same_global_batches() -> None:
    single = epoch_batches(TrainingBatchSampler(50, 8, 0, 1, seed=9), 0)
    r0 = epoch_batches(TrainingBatchSampler(50, 4, 0, 2, seed=9), 0)
    r1 = epoch_batches(TrainingBatchSampler(50, 4, 1, 2, seed=9), 0)
    assert [a + b for a, b in zip(r0, r1, strict=True)] == single


def test_too_little_data_for_one_global_batch_is_a_one_line_error() -> None:
    with pytest.raises(TrainyardError, match="fewer than one global batch of 16"):
        TrainingBatchSampler(10, 8, 0, 2, seed=0)


def test_validation_visits_every_record_once_across_ranks() -> None:
    seen = [i for r in range(3) for b in ValidationBatchSampler(11, 2, r, 3) for i in b]
    assert sorted(seen) == list(range(11))


def test_batch_size_and_device_move_follow_nested_batches() -> None:
    batch = {"x": (torch.zeros(5, 2), torch.ones(5)), "meta": "keep"}
    assert batch_size_of(batch) == 5
    assert batch_size_of(torch.tensor(1.0)) == 1
    moved = to_device(batch, torch.device("cpu"))
    assert moved["meta"] == "keep" and torch.equal(moved["x"][1], torch.ones(5))


class RecordByRecord(TensorDataset):
    """A TensorDataset with its own __getitem__: the loader must read it record by record."""

    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]:
        return super().__getitem__(index)


def test_a_plain_tensor_dataset_is_read_a_batch_at_a_time_with_the_same_batches() -> None:
    x, y = torch.randn(40, 3, 2), torch.arange(40)
    sampler = TrainingBatchSampler(40, 6, 1, 2, seed=7)
    fast = make_loader(TensorDataset(x, y), sampler, 0, seed=0)
    per_record = make_loader(RecordByRecord(x, y), sampler, 0, seed=0)
    reference = DataLoader(TensorDataset(x, y), batch_sampler=sampler)
    assert fast.collate_fn is not per_record.collate_fn  # the fast path was taken
    got, slow, want = list(fast), list(per_record), list(reference)
    assert len(got) == len(want) == 3
    for a, b, c in zip(got, slow, want, strict=True):
        assert type(a) is type(c) is list
        assert all(torch.equal(u, w) and u.dtype == w.dtype for u, w in zip(a, c, strict=True))
        assert all(torch.equal(u, w) for u, w in zip(b, c, strict=True))
