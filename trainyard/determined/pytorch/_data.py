"""`det.pytorch.DataLoader`: the arguments of a torch DataLoader, turned into a sharded one by
the Trainer (each rank gets its slice of every global batch; training resumes mid-epoch)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader as TorchDataLoader
from torch.utils.data import Dataset

from trainyard.pytorch._data import TrainingBatchSampler, ValidationBatchSampler, dataset_length


class DataLoader:
    """Same arguments as `torch.utils.data.DataLoader`; `batch_size` is per slot (use
    `context.get_per_slot_batch_size()`). With a custom `sampler` or `batch_sampler` the loader
    is used as given on every rank (shard it yourself)."""

    def __init__(
        self,
        dataset: Dataset[Any],
        batch_size: int | None = 1,
        shuffle: bool = False,
        sampler: Any = None,
        batch_sampler: Any = None,
        num_workers: int = 0,
        collate_fn: Any = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Any = None,
        **kwargs: Any,
    ) -> None:
        self.dataset = dataset
        self.batch_size = batch_size or 1
        self.shuffle = shuffle
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.drop_last = drop_last
        self.options: dict[str, Any] = {
            "num_workers": num_workers,
            "pin_memory": pin_memory,
            "timeout": timeout,
            "worker_init_fn": worker_init_fn,
            **kwargs,
        }
        if collate_fn is not None:
            self.options["collate_fn"] = collate_fn

    @property
    def custom(self) -> bool:
        return self.sampler is not None or self.batch_sampler is not None

    def _plain(self) -> TorchDataLoader[Any]:
        return TorchDataLoader(
            self.dataset,
            batch_size=None if self.batch_sampler is not None else self.batch_size,
            shuffle=False,
            sampler=self.sampler,
            batch_sampler=self.batch_sampler,
            drop_last=self.drop_last if self.batch_sampler is None else False,
            **self.options,
        )

    def training(self, rank: int, size: int, seed: int) -> tuple[TorchDataLoader[Any], Any]:
        """A loader over this rank's part of every global batch and its position-aware sampler
        (None for a custom sampler)."""
        if self.custom:
            return self._plain(), None
        records = dataset_length(self.dataset, "the training data")
        cls = TrainingBatchSampler if self.shuffle else _InOrder
        sampler = cls(records, self.batch_size, rank, size, seed)
        loader = TorchDataLoader(
            self.dataset,
            batch_sampler=sampler,
            generator=torch.Generator().manual_seed(seed),
            **self.options,
        )
        return loader, sampler

    def validation(self, rank: int, size: int) -> TorchDataLoader[Any]:
        """Every record once across ranks."""
        if self.custom:
            return self._plain()
        records = dataset_length(self.dataset, "the validation data")
        sampler = ValidationBatchSampler(records, self.batch_size, rank, size)
        return TorchDataLoader(self.dataset, batch_sampler=sampler, **self.options)

    def whole(self) -> TorchDataLoader[Any]:
        """The whole dataset on one rank (for `evaluate_full_dataset`)."""
        return self._plain()


class _InOrder(TrainingBatchSampler):
    """Records in dataset order every epoch (`shuffle=False`)."""

    def epoch_order(self, epoch: int) -> np.ndarray[Any, np.dtype[np.int64]]:
        return np.arange(self.num_records, dtype=np.int64)
