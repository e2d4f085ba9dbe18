"""Determined launcher prefixes, `.detignore`, and the warnings `trainyard preview` prints."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from trainyard.cli.main import app
from trainyard.client._tarball import pack_model_dir
from trainyard.config import load_experiment_config
from trainyard.errors import ConfigError


def _load(entrypoint: object) -> tuple[str, list[str]]:
    config = load_experiment_config(
        {"entrypoint": entrypoint, "searcher": {"name": "single", "metric": "x"}}
    )
    return config.entrypoint, config.warnings


@pytest.mark.parametrize(
    ("entrypoint", "expected"),
    [
        ("python3 -m determined.launch.torch_distributed python3 train.py", "python3 train.py"),
        (
            "python -m determined.launch.torch_distributed -- python3 t.py --lr 1",
            "python3 t.py --lr 1",
        ),
        (
            "python3 -m determined.launch.torch_distributed --nproc_per_node 2 -- python3 t.py",
            "python3 t.py",
        ),
        ("python3 -m determined.launch.deepspeed python3 t.py", "python3 t.py"),
        (
            ["python3", "-m", "determined.launch.torch_distributed", "--trial", "model_def:Trial"],
            "python3 -m trainyard.determined.pytorch.run model_def:Trial",
        ),
    ],
)
def test_torch_launchers_become_trainyard_launch(entrypoint: object, expected: str) -> None:
    got, warnings = _load(entrypoint)
    assert got == expected
    assert len([w for w in warnings if w.startswith("entrypoint: determined.launch.")]) == 1


@pytest.mark.parametrize("launcher", ["horovod --autohorovod", "tensorflow --"])
def test_other_launchers_are_refused_in_one_line(launcher: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(f"python3 -m determined.launch.{launcher} python3 train.py")
    message = str(caught.value)
    assert "\n" not in message and "not supported by Trainyard" in message


def test_plain_entrypoints_are_left_alone() -> None:
    assert _load("python3 train.py") == ("python3 train.py", [])


def test_detignore_is_read_like_trainyardignore(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("print(1)\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "big.bin").write_bytes(b"x" * 10)
    (tmp_path / "notes.txt").write_text("n")
    (tmp_path / ".detignore").write_text("data/\n*.txt\n")
    with tarfile.open(fileobj=io.BytesIO(pack_model_dir(tmp_path)), mode="r:gz") as tar:
        names = set(tar.getnames())
    assert "train.py" in names
    assert not {n for n in names if n.startswith("data") or n.endswith(".txt")}


def test_preview_prints_each_ignored_or_translated_field(tmp_path: Path) -> None:
    config = {
        "name": "x",
        "entrypoint": "python3 -m determined.launch.torch_distributed python3 train.py",
        "bind_mounts": [{"host_path": "/data", "container_path": "/data"}],
        "environment": {"image": "determinedai/pytorch"},
        "searcher": {"name": "single", "metric": "x"},
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config))
    result = CliRunner().invoke(app, ["preview", str(path)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("warning: ")]
    assert lines == [
        "warning: bind_mounts: not supported, ignored",
        "warning: entrypoint: determined.launch.torch_distributed dropped; Trainyard's launcher "
        "starts one process per slot (torchrun's variables)",
        "warning: environment.image: not supported, ignored",
    ]
    assert "each trains as long as its training script decides" in result.output
