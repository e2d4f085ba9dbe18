"""Packing a model directory: .trainyardignore rules, the size limit, relative members."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from trainyard.client import ModelDirTooLargeError, pack_model_dir
from trainyard.errors import ConfigError


def _names(data: bytes) -> set[str]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return {m.name for m in tar.getmembers() if m.isfile()}


def _tree(root: Path, files: list[str]) -> None:
    for rel in files:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rel)


def test_ignore_rules_follow_gitignore_conventions(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        [
            "train.py",
            "pkg/model.py",
            "data/big.bin",
            "pkg/data/keep.txt",
            "notes.log",
            "pkg/deep/run.log",
            "top.ckpt",
            "pkg/top.ckpt",
            "__pycache__/x.pyc",
        ],
    )
    (tmp_path / ".trainyardignore").write_text("# comments\n/data/\n*.log\n/top.ckpt\n")
    names = _names(pack_model_dir(tmp_path))
    assert names == {
        ".trainyardignore",
        "train.py",
        "pkg/model.py",
        "pkg/data/keep.txt",
        "pkg/top.ckpt",
    }


def test_members_are_relative_and_content_survives(tmp_path: Path) -> None:
    _tree(tmp_path, ["a/b.py"])
    data = pack_model_dir(tmp_path)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        member = tar.extractfile("a/b.py")
        assert member is not None and member.read() == b"a/b.py"
        assert all(not m.name.startswith("/") for m in tar.getmembers())


def test_size_limit_names_the_fix(tmp_path: Path) -> None:
    (tmp_path / "weights.bin").write_bytes(bytes(range(256)) * 4000)
    with pytest.raises(ModelDirTooLargeError) as err:
        pack_model_dir(tmp_path, limit_bytes=100)
    message = str(err.value)
    assert message.startswith("model directory is 0.0 MB compressed; the limit is 0.0 MB")
    assert ".trainyardignore" in message


def test_missing_dir_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist or is not a directory"):
        pack_model_dir(tmp_path / "nope")
