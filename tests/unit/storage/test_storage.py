"""The checkpoint storage contract, run against every backend (shared_fs, file://, memory://)."""

from __future__ import annotations

import json
import uuid as uuid_lib
from collections.abc import Iterator
from pathlib import Path

import pytest

import trainyard.storage as storage_pkg
from trainyard.errors import CheckpointError, ConfigError
from trainyard.storage import (
    MANIFEST_NAME,
    CheckpointStorage,
    FsspecStorage,
    SharedFSStorage,
    storage_from_config,
)


@pytest.fixture(params=["shared_fs", "file", "memory"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CheckpointStorage]:
    if request.param == "shared_fs":
        yield storage_from_config({"type": "shared_fs", "host_path": str(tmp_path)})
    elif request.param == "file":
        yield storage_from_config({"type": "fsspec", "url": f"file://{tmp_path}/ckpts"})
    else:
        url = f"memory://trainyard-test-{uuid_lib.uuid4().hex}"
        store = storage_from_config({"type": "fsspec", "url": url})
        yield store
        for uid in store.list_checkpoints():
            store.delete(uid)


def _write(path: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_bytes(data)


def _read_all(path: Path) -> dict[str, bytes]:
    return {
        p.relative_to(path).as_posix(): p.read_bytes()
        for p in path.rglob("*")
        if p.is_file() and p.name != MANIFEST_NAME
    }


FILES = {"model.pt": b"\x00weights" * 100, "sub/dir/opt.json": b'{"lr": 0.1}'}


def test_exports_are_the_documented_names() -> None:
    assert set(storage_pkg.__all__) == {
        "MANIFEST_NAME",
        "CheckpointStorage",
        "FileEntry",
        "FsspecStorage",
        "SharedFSStorage",
        "new_uuid",
        "storage_from_config",
    }


def test_store_then_restore_round_trips_files_and_resources(storage: CheckpointStorage) -> None:
    with storage.store_path() as (path, uid):
        _write(path, FILES)
    assert storage.verify(uid) == {rel: len(data) for rel, data in FILES.items()}
    assert storage.resources(uid) == storage.verify(uid)
    with storage.restore_path(uid) as restored:
        assert _read_all(restored) == FILES
    assert storage.list_checkpoints() == [uid]


def test_download_copies_verified_files(storage: CheckpointStorage, tmp_path: Path) -> None:
    src = tmp_path / "src"
    _write(src, FILES)
    uid = storage.upload(src, "my-ckpt")
    storage.download(uid, tmp_path / "dest")
    assert _read_all(tmp_path / "dest") == FILES


def test_exception_inside_store_commits_nothing(storage: CheckpointStorage) -> None:
    with pytest.raises(RuntimeError), storage.store_path("doomed") as (path, _uid):
        _write(path, FILES)
        raise RuntimeError("training crashed while saving")
    assert storage.list_checkpoints() == []
    with pytest.raises(CheckpointError, match="does not exist"):
        storage.verify("doomed")


def test_storing_an_existing_uuid_is_refused(storage: CheckpointStorage) -> None:
    with storage.store_path("same") as (path, _):
        _write(path, FILES)
    with (
        pytest.raises(CheckpointError, match="already exists"),
        storage.store_path("same") as (path, _),
    ):
        _write(path, FILES)


def test_delete_removes_the_checkpoint(storage: CheckpointStorage) -> None:
    with storage.store_path() as (path, uid):
        _write(path, FILES)
    storage.delete(uid)
    storage.delete(uid)  # deleting twice is fine
    assert storage.list_checkpoints() == []
    assert not storage.is_good(uid)


def test_bad_uuid_is_refused(storage: CheckpointStorage) -> None:
    with pytest.raises(CheckpointError, match="not a valid checkpoint uuid"):
        storage.verify("../escape")


def test_sharded_checkpoint_merges_every_ranks_files(storage: CheckpointStorage) -> None:
    for rank in range(3):
        with storage.store_path("sharded", shard_rank=rank) as (path, _):
            _write(path, {f"shard-{rank}.bin": bytes([rank]) * (rank + 1)})
    assert storage.commit_shards("sharded", 3) == {
        "shard-0.bin": 1,
        "shard-1.bin": 2,
        "shard-2.bin": 3,
    }
    assert set(storage.verify("sharded")) == {"shard-0.bin", "shard-1.bin", "shard-2.bin"}
    with storage.restore_path("sharded") as restored:
        names = sorted(p.name for p in restored.iterdir() if p.name != MANIFEST_NAME)
        assert names == [
            "shard-0.bin",
            "shard-1.bin",
            "shard-2.bin",
        ]


def test_sharded_commit_names_the_missing_rank(storage: CheckpointStorage) -> None:
    with storage.store_path("sharded", shard_rank=0) as (path, _):
        _write(path, {"a.bin": b"a"})
    with pytest.raises(CheckpointError, match="rank 1 did not write its shard"):
        storage.commit_shards("sharded", 2)
    storage.abort("sharded")
    assert not storage.is_good("sharded")


# --- damage detection: each backend gets its own way to damage files behind storage's back ---


def _shared(tmp_path: Path) -> SharedFSStorage:
    return SharedFSStorage(tmp_path, "ckpts")


def test_shared_fs_storage_path_is_under_host_path(tmp_path: Path) -> None:
    store = _shared(tmp_path)
    with store.store_path("abc") as (path, _):
        _write(path, FILES)
    assert (tmp_path / "ckpts" / "abc" / "model.pt").read_bytes() == FILES["model.pt"]
    assert json.loads((tmp_path / "ckpts" / "abc" / MANIFEST_NAME).read_text())["files"][
        "model.pt"
    ]["size"] == len(FILES["model.pt"])


def test_changed_byte_is_reported_as_corrupt(tmp_path: Path) -> None:
    store = _shared(tmp_path)
    with store.store_path("abc") as (path, _):
        _write(path, FILES)
    target = tmp_path / "ckpts" / "abc" / "model.pt"
    data = bytearray(target.read_bytes())
    data[3] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(
        CheckpointError, match=r"^checkpoint abc is corrupt: model.pt does not match"
    ):
        store.verify("abc")
    with pytest.raises(CheckpointError), store.restore_path("abc"):
        pass


def test_truncated_and_missing_files_are_reported(tmp_path: Path) -> None:
    store = _shared(tmp_path)
    with store.store_path("abc") as (path, _):
        _write(path, FILES)
    (tmp_path / "ckpts" / "abc" / "model.pt").write_bytes(b"short")
    with pytest.raises(CheckpointError, match=r"model.pt has 5 bytes, the manifest says 800"):
        store.verify("abc")
    (tmp_path / "ckpts" / "abc" / "model.pt").unlink()
    with pytest.raises(CheckpointError, match=r"model.pt is missing"):
        store.verify("abc")


def test_directory_without_manifest_is_partial(tmp_path: Path) -> None:
    store = _shared(tmp_path)
    _write(tmp_path / "ckpts" / "half", FILES)
    with pytest.raises(
        CheckpointError, match=r"checkpoint half is partial: it has no MANIFEST.json"
    ):
        store.verify("half")
    assert store.list_checkpoints() == ["half"]


def test_unreadable_manifest_is_corrupt(tmp_path: Path) -> None:
    store = _shared(tmp_path)
    with store.store_path("abc") as (path, _):
        _write(path, FILES)
    (tmp_path / "ckpts" / "abc" / MANIFEST_NAME).write_text("{not json")
    with pytest.raises(CheckpointError, match=r"MANIFEST.json is unreadable"):
        store.verify("abc")


def test_fsspec_upload_without_manifest_is_partial() -> None:
    import fsspec

    url = f"memory://partial-{uuid_lib.uuid4().hex}"
    store = FsspecStorage(url)
    fs = fsspec.filesystem("memory")
    fs.pipe_file(f"{url[len('memory://') :]}/cut/model.pt", b"half an upload")
    with pytest.raises(CheckpointError, match="checkpoint cut is partial"):
        store.verify("cut")
    with store.store_path("ok") as (path, _):
        _write(path, FILES)
    fs.pipe_file(f"{url[len('memory://') :]}/ok/model.pt", b"x" * 800)
    with pytest.raises(CheckpointError, match=r"ok is corrupt: model.pt does not match"):
        store.verify("ok")
    store.delete("ok")
    store.delete("cut")


def test_two_ranks_writing_the_same_file_is_refused(tmp_path: Path) -> None:
    store = FsspecStorage(f"file://{tmp_path}")
    for rank in range(2):
        with store.store_path("dup", shard_rank=rank) as (path, _):
            _write(path, {"same.bin": bytes([rank])})
    with pytest.raises(CheckpointError, match=r"two ranks wrote same.bin"):
        store.commit_shards("dup", 2)


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        ({"type": "shared_fs"}, "checkpoint_storage.host_path: required for type 'shared_fs'"),
        ({"type": "fsspec"}, "checkpoint_storage.url: required for type 'fsspec'"),
        ({"type": "s3", "bucket": "b"}, "checkpoint_storage.type is 's3'"),
    ],
)
def test_config_mistakes_name_the_field(cfg: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        storage_from_config(cfg)


def test_directory_type_uses_container_path(tmp_path: Path) -> None:
    store = storage_from_config({"type": "directory", "container_path": str(tmp_path)})
    assert isinstance(store, SharedFSStorage)
    assert store.root == tmp_path
