"""A minimal stand-in for `trainyard.core` local mode, used until the real one lands."""

from __future__ import annotations

import json
import shutil
import uuid as uuidlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch.distributed as dist

from trainyard.errors import CheckpointError


@dataclass
class Op:
    length: int
    reported: list[float]

    def report_completed(self, metric: float) -> None:
        self.reported.append(metric)


class Dist:
    def __init__(self) -> None:
        on = dist.is_initialized()
        self.rank = dist.get_rank() if on else 0
        self.size = dist.get_world_size() if on else 1
        self.local_rank = self.rank
        self.is_chief = self.rank == 0

    def broadcast(self, obj: Any) -> Any:
        box = [obj]
        dist.broadcast_object_list(box, 0)
        return box[0]

    def gather(self, obj: Any) -> list[Any] | None:
        out: list[Any] = [None] * self.size
        dist.gather_object(obj, out if self.is_chief else None, 0)
        return out if self.is_chief else None

    def allgather(self, obj: Any) -> list[Any]:
        out: list[Any] = [None] * self.size
        dist.all_gather_object(out, obj)
        return out


@dataclass
class StandinCore:
    run_dir: Path
    hparams: dict[str, Any]
    config: Any = None
    lengths: Sequence[int] = (10,)
    preempt_at_call: int | None = None
    trial_seed: int = 7
    reported: list[float] = field(default_factory=list)
    training: list[tuple[int, dict[str, float]]] = field(default_factory=list)
    validation: list[tuple[int, dict[str, float]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.distributed = Dist()
        self.ckpt_dir = self.run_dir / "checkpoints"
        self.ckpt_dir.mkdir(parents=True, exist_ok=True)
        order = self.ckpt_dir / "order.json"
        latest = json.loads(order.read_text())[-1] if order.exists() else None
        self.info = SimpleNamespace(
            trial_id=1,
            hparams=self.hparams,
            trial_seed=self.trial_seed,
            latest_checkpoint=latest,
            config=self.config,
        )
        self.train = self
        self.checkpoint = self
        self.preempt = self
        self.searcher = self
        self._calls = 0

    # train
    def report_training_metrics(self, steps: int, metrics: Mapping[str, float]) -> None:
        self.training.append((steps, dict(metrics)))

    def report_validation_metrics(self, steps: int, metrics: Mapping[str, float]) -> None:
        self.validation.append((steps, dict(metrics)))
        with (self.run_dir / "validation.jsonl").open("a") as f:
            f.write(json.dumps([steps, metrics]) + "\n")

    def report_progress(self, progress: float) -> None:
        pass

    # checkpoint
    @contextmanager
    def store_path(self, metadata: dict[str, Any], *, shard: bool = False) -> Iterator[Any]:
        uid = uuidlib.uuid4().hex
        tmp = self.ckpt_dir / f".{uid}"
        tmp.mkdir()
        yield tmp, uid
        (tmp / "metadata.json").write_text(json.dumps(metadata))
        tmp.rename(self.ckpt_dir / uid)
        order = self.ckpt_dir / "order.json"
        uids = json.loads(order.read_text()) if order.exists() else []
        order.write_text(json.dumps([*uids, uid]))

    @contextmanager
    def restore_path(self, uuid: str) -> Iterator[Path]:
        path = self.ckpt_dir / uuid
        if not (path / "metadata.json").exists():
            raise CheckpointError(f"checkpoint {uuid} is corrupt")
        yield path

    def latest_good(self, candidates: Sequence[str] | None = None) -> str | None:
        order = json.loads((self.ckpt_dir / "order.json").read_text())
        for uid in reversed(order):
            if (self.ckpt_dir / uid / "metadata.json").exists():
                return str(uid)
        return None

    def latest_order(self) -> list[str]:
        order = self.ckpt_dir / "order.json"
        return list(json.loads(order.read_text())) if order.exists() else []

    def corrupt(self, uid: str) -> None:
        (self.ckpt_dir / uid / "metadata.json").unlink()
        shutil.rmtree(self.ckpt_dir / uid / "trainer_state.pt", ignore_errors=True)

    # preempt
    def should_preempt(self) -> bool:
        self._calls += 1
        return self.preempt_at_call is not None and self._calls >= self.preempt_at_call

    # searcher
    def operations(self) -> Iterator[Op]:
        for length in self.lengths:
            yield Op(length, self.reported)
