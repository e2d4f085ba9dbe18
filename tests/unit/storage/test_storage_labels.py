"""Labels say who wrote a checkpoint, committed or not, without becoming one of its files."""

from __future__ import annotations

import uuid as uuid_lib
from collections.abc import Iterator
from pathlib import Path

import pytest

from trainyard.storage import CheckpointStorage, SharedFSStorage, storage_from_config

LABELS = {"trial_id": "7", "allocation_id": "a-1"}


@pytest.fixture(params=["shared_fs", "file", "memory"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CheckpointStorage]:
    if request.param == "shared_fs":
        store = storage_from_config({"type": "shared_fs", "host_path": str(tmp_path)})
    elif request.param == "file":
        store = storage_from_config({"type": "fsspec", "url": f"file://{tmp_path}/ckpts"})
    else:
        url = f"memory://trainyard-labels-{uuid_lib.uuid4().hex}"
        store = storage_from_config({"type": "fsspec", "url": url})
    store.labels = LABELS
    yield store
    for uid in store.list_checkpoints():
        store.delete(uid)


def test_a_committed_checkpoint_carries_its_labels_outside_its_files(
    storage: CheckpointStorage,
) -> None:
    with storage.store_path() as (path, uid):
        (path / "model.pt").write_bytes(b"w")
    assert storage.read_labels(uid) == LABELS
    assert storage.verify(uid) == {"model.pt": 1}
    with storage.restore_path(uid) as restored:
        assert (restored / "model.pt").read_bytes() == b"w"
        # Committed: the labels live in the manifest; the directory holds only the checkpoint.
        assert sorted(p.name for p in restored.iterdir()) in (
            ["MANIFEST.json", "model.pt"],
            ["model.pt"],
        )


def test_a_sharded_checkpoint_carries_its_labels(storage: CheckpointStorage) -> None:
    for rank in range(2):
        with storage.store_path("sharded", shard_rank=rank) as (path, _):
            (path / f"r{rank}.bin").write_bytes(b"x")
    assert storage.commit_shards("sharded", 2) == {"r0.bin": 1, "r1.bin": 1}
    assert storage.read_labels("sharded") == LABELS


def test_unlabelled_and_missing_checkpoints_have_no_labels(storage: CheckpointStorage) -> None:
    storage.labels = {}
    with storage.store_path() as (path, uid):
        (path / "a").write_bytes(b"a")
    assert storage.read_labels(uid) == {}
    assert storage.read_labels("missing") == {}


def test_an_unfinished_shared_fs_write_is_listed_with_its_labels_and_removable(
    tmp_path: Path,
) -> None:
    store = SharedFSStorage(tmp_path)
    store.labels = LABELS
    writer = store.store_path()
    path, _uid = writer.__enter__()  # a writer killed mid-write never leaves the block
    (path / "half.bin").write_bytes(b"0" * 10)
    (name,) = store.list_staged()
    assert store.list_staged() == {name: LABELS}
    assert store.list_checkpoints() == []
    store.remove_staged(name)
    assert store.list_staged() == {}
