"""Deterministic, resumable data order for training and sharded order for validation.

The training order is a pure function of `(seed, epoch)`: epoch `e` visits the records in
`numpy.random.default_rng([seed, e]).permutation(n)`, cut into global batches of
`global_batch_size` records (the last incomplete one dropped); rank `r` of `size` takes the `r`-th
contiguous slice of every global batch. So a run resumed at `(epoch, batch)` sees exactly the
batches an uninterrupted run would, and `size` ranks with `per_slot` records each see the same
records per step as one process with `size * per_slot`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler, TensorDataset

from trainyard.errors import TrainyardError


class TrainingBatchSampler(Sampler[list[int]]):
    """Yields this rank's record indices for each global batch of one epoch, from a start batch."""

    def __init__(
        self, num_records: int, per_slot_batch_size: int, rank: int, size: int, seed: int
    ) -> None:
        self.num_records = num_records
        self.per_slot = per_slot_batch_size
        self.global_batch_size = per_slot_batch_size * size
        self.rank = rank
        self.seed = seed
        self.epoch = 0
        self.start_batch = 0
        if self.batches_per_epoch == 0:
            raise TrainyardError(
                f"the training data has {num_records} records, fewer than one global batch of "
                f"{self.global_batch_size}; lower hyperparameters.global_batch_size"
            )

    @property
    def batches_per_epoch(self) -> int:
        """Whole global batches in one pass over the data (the last partial one is dropped)."""
        return self.num_records // self.global_batch_size

    def set_position(self, epoch: int, start_batch: int) -> None:
        """Make the next iteration yield epoch `epoch` from batch `start_batch` on."""
        self.epoch, self.start_batch = epoch, start_batch

    def epoch_order(self, epoch: int) -> np.ndarray[Any, np.dtype[np.int64]]:
        """The permutation of record indices for `epoch` (same on every rank and every run)."""
        return np.random.default_rng([self.seed, epoch]).permutation(self.num_records)

    def __iter__(self) -> Iterator[list[int]]:
        order = self.epoch_order(self.epoch)
        g, lo = self.global_batch_size, self.rank * self.per_slot
        for b in range(self.start_batch, self.batches_per_epoch):
            yield order[b * g + lo : b * g + lo + self.per_slot].tolist()

    def __len__(self) -> int:
        return self.batches_per_epoch - self.start_batch


class ValidationBatchSampler(Sampler[list[int]]):
    """Rank `r` of `size` takes records `r, r + size, ...` in order, in batches of `batch_size`.

    Every record is visited exactly once across ranks; metrics are later weighted by batch size.
    """

    def __init__(self, num_records: int, batch_size: int, rank: int, size: int) -> None:
        self.indices = list(range(rank, num_records, size))
        self.batch_size = batch_size

    def __iter__(self) -> Iterator[list[int]]:
        for i in range(0, len(self.indices), self.batch_size):
            yield self.indices[i : i + self.batch_size]

    def __len__(self) -> int:
        return -(-len(self.indices) // self.batch_size)


def dataset_length(dataset: Dataset[Any], what: str) -> int:
    """`len(dataset)`, or a one-line error naming the builder when it has none."""
    try:
        return len(dataset)  # type: ignore[arg-type]  # map-style datasets define __len__
    except TypeError:
        raise TrainyardError(
            f"{what} must return a map-style Dataset with __len__ (got {type(dataset).__name__})"
        ) from None


class _WholeBatchTensorDataset(Dataset[Any]):
    """A `TensorDataset` read one batch per indexing call instead of one record per call.

    `__getitems__` (which DataLoader prefers when present) gathers the batch's rows of every
    tensor at once; `_take_batch` then passes the batch through in place of `default_collate`.
    The values and their order are exactly those of the per-record path (a stack of
    `tensor[i]` equals `tensor[indices]`), and the batch is the same list `[x, y, ...]` that
    `default_collate` makes of a TensorDataset's tuples; only the ~20 Python calls per record
    are saved.
    """

    def __init__(self, dataset: TensorDataset) -> None:
        self.tensors = dataset.tensors

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __getitems__(self, indices: list[int]) -> list[list[torch.Tensor]]:
        rows = torch.as_tensor(indices, dtype=torch.int64)
        return [[t[rows] for t in self.tensors]]


def _take_batch(items: list[list[torch.Tensor]]) -> list[torch.Tensor]:
    return items[0]


def make_loader(
    dataset: Dataset[Any], sampler: Sampler[list[int]], workers: int, seed: int
) -> DataLoader[Any]:
    """A DataLoader over `sampler` whose own randomness never touches the global torch RNG.

    A plain `TensorDataset` (its `__getitem__` not overridden) is read a whole batch at a time.
    """
    plain = type(dataset).__getitem__ is TensorDataset.__getitem__
    if isinstance(dataset, TensorDataset) and plain:
        return DataLoader(
            _WholeBatchTensorDataset(dataset),
            batch_sampler=sampler,
            num_workers=workers,
            collate_fn=_take_batch,
            generator=torch.Generator().manual_seed(seed),
        )
    return DataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=workers,
        generator=torch.Generator().manual_seed(seed),
    )


def to_device(batch: Any, device: torch.device) -> Any:
    """Move every tensor in a (nested) batch to `device`; other values are left as they are."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, Mapping):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, tuple | list):
        return type(batch)(to_device(v, device) for v in batch)
    return batch


def batch_size_of(batch: Any) -> int:
    """Records in a batch: the leading dimension of its first tensor (1 if it holds none)."""
    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0]) if batch.dim() > 0 else 1
    values: Sequence[Any] | None = None
    if isinstance(batch, Mapping):
        values = list(batch.values())
    elif isinstance(batch, tuple | list):
        values = batch
    for value in values or ():
        if isinstance(value, torch.Tensor | Mapping | tuple | list):
            return batch_size_of(value)
    return 1
