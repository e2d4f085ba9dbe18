"""`CheckpointContext`: write checkpoints straight to storage, register them with the platform."""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from trainyard.core._backend import Backend
from trainyard.core._distributed import DistributedContext
from trainyard.core._errors import CoreUsageError
from trainyard.errors import CheckpointError
from trainyard.storage import CheckpointStorage, new_uuid

METADATA_FILE = "metadata.json"


def _check_metadata(metadata: Mapping[str, Any]) -> int:
    steps = metadata.get("steps_completed")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise CoreUsageError(
            "checkpoint metadata must hold 'steps_completed' (int >= 0, batches trained); "
            f"got {steps!r}"
        )
    try:
        json.dumps(dict(metadata), allow_nan=True)
    except (TypeError, ValueError) as err:
        raise CoreUsageError(f"checkpoint metadata must be JSON-serialisable: {err}") from None
    return steps


class CheckpointContext:
    """Checkpoints as directories in checkpoint storage, verified by manifest on restore.

    Non-sharded (`shard=False`): only the chief calls `store_path`. Sharded: every rank calls
    it with the same metadata; each writes its own files, the chief commits after a barrier.
    Each checkpoint gets a `metadata.json` (the metadata given) and is registered with the
    platform only once committed.

    >>> with ctx.checkpoint.store_path({"steps_completed": 100}) as (path, uuid):
    ...     torch.save(model.state_dict(), path / "model.pt")
    >>> with ctx.checkpoint.restore_path(uuid) as path:
    ...     model.load_state_dict(torch.load(path / "model.pt"))
    """

    def __init__(
        self,
        storage: Callable[[], CheckpointStorage],
        backend: Backend | None,
        dist: DistributedContext,
    ) -> None:
        self._make_storage = storage
        self._storage: CheckpointStorage | None = None
        self._backend = backend
        self._dist = dist

    @property
    def storage(self) -> CheckpointStorage:
        """The checkpoint storage of this trial (built on first use)."""
        if self._storage is None:
            self._storage = self._make_storage()
        return self._storage

    @contextlib.contextmanager
    def store_path(
        self, metadata: Mapping[str, Any], *, shard: bool = False
    ) -> Iterator[tuple[Path, str]]:
        """Yield `(directory, uuid)` to write the checkpoint into; committed on clean exit."""
        steps = _check_metadata(metadata)
        if shard:
            with self._store_sharded(metadata, steps) as pair:
                yield pair
            return
        if not self._dist.is_chief:
            raise CoreUsageError(
                "store_path(shard=False) is for the chief only; guard it with "
                "ctx.distributed.is_chief or pass shard=True on every rank"
            )
        with self.storage.store_path() as (path, uid):
            yield path, uid
            (path / METADATA_FILE).write_text(json.dumps(dict(metadata)))
        if self._backend is not None:
            resources = self.storage.resources(uid)
            self._backend.register_checkpoint(uid, steps, metadata, resources, False)

    @contextlib.contextmanager
    def _store_sharded(self, metadata: Mapping[str, Any], steps: int) -> Iterator[tuple[Path, str]]:
        uid = self._dist.broadcast(new_uuid() if self._dist.is_chief else None)
        failure: BaseException | None = None
        try:
            with self.storage.store_path(uid, shard_rank=self._dist.rank) as (path, _):
                yield path, uid
                if self._dist.is_chief:
                    (path / METADATA_FILE).write_text(json.dumps(dict(metadata)))
        except BaseException as err:  # kept so every rank reaches the barrier below
            failure = err
        failed = [r for r, ok in enumerate(self._dist.allgather(failure is None)) if not ok]
        outcome: str | None = None
        if self._dist.is_chief:
            outcome = self._commit_sharded(uid, steps, metadata, failed)
        outcome = self._dist.broadcast(outcome)
        if failure is not None:
            raise failure
        if outcome is not None:
            raise CheckpointError(outcome)

    def _commit_sharded(
        self, uid: str, steps: int, metadata: Mapping[str, Any], failed: list[int]
    ) -> str | None:
        if failed:
            self.storage.abort(uid)
            return f"checkpoint {uid} was not saved: ranks {failed} failed while writing it"
        try:
            resources = self.storage.commit_shards(uid, self._dist.size)
        except CheckpointError as err:
            self.storage.abort(uid)
            return str(err)
        if self._backend is not None:
            self._backend.register_checkpoint(uid, steps, metadata, resources, True)
        return None

    def restore_path(self, uuid: str) -> contextlib.AbstractContextManager[Path]:
        """Yield a local directory with checkpoint `uuid`, verified; `CheckpointError` if bad."""
        return self.storage.restore_path(uuid)

    def upload(
        self, ckpt_dir: str | Path, metadata: Mapping[str, Any], *, shard: bool = False
    ) -> str:
        """Store a copy of the local directory `ckpt_dir`; returns the new uuid."""
        with self.store_path(metadata, shard=shard) as (path, uid):
            shutil.copytree(ckpt_dir, path, dirs_exist_ok=True)
        return uid

    def download(self, uuid: str, dest: str | Path) -> None:
        """Copy checkpoint `uuid` into the local directory `dest`, verified."""
        self.storage.download(uuid, Path(dest))

    def get_metadata(self, uuid: str) -> dict[str, Any]:
        """The metadata the checkpoint was stored with (verifies the checkpoint)."""
        with self.restore_path(uuid) as path:
            data: dict[str, Any] = json.loads((path / METADATA_FILE).read_text())
        return data

    def delete(self, uuid: str) -> None:
        """Remove checkpoint `uuid` from storage."""
        self.storage.delete(uuid)

    def latest_good(self, candidates: Sequence[str] | None = None) -> str | None:
        """The first of `candidates` (newest first) that verifies; None if none does.

        `candidates` defaults to this trial's registered checkpoints, newest first. A collective:
        call it on every rank; the chief verifies, logs each bad one, and all ranks get its answer.
        """
        answer: str | None = None
        if self._dist.is_chief:
            if candidates is None:
                candidates = self._backend.checkpoint_history() if self._backend else []
            answer = self._first_good(candidates)
        if self._dist.size > 1:
            answer = self._dist.broadcast(answer)
        return answer

    def _first_good(self, candidates: Sequence[str]) -> str | None:
        for uid in candidates:
            try:
                self.storage.verify(uid)
            except CheckpointError as err:
                if self._backend is not None:
                    self._backend.log(f"skipping checkpoint: {err}")
                continue
            return uid
        return None
