"""The per-rank entry finds the user's trial class in the model directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainyard.errors import TrainyardError
from trainyard.pytorch import run
from trainyard.pytorch.run import load_trial_class


def write_module(tmp_path: Path, body: str) -> None:
    (tmp_path / "user_model_def.py").write_text(
        "from trainyard.pytorch import PyTorchTrial\n" + body
    )


def test_loads_a_trial_class_from_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_module(tmp_path, "class Mine(PyTorchTrial):\n    pass\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.path", list(__import__("sys").path))
    cls = load_trial_class("user_model_def:Mine")
    assert cls.__name__ == "Mine" and str(tmp_path) in __import__("sys").path


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_colon", "must look like 'pkg.module:TrialClass'"),
        ("missing_module_xyz:T", "entrypoint module 'missing_module_xyz' not found"),
        ("user_model_def:NotATrial", "is not a PyTorchTrial subclass"),
    ],
)
def test_bad_entrypoints_are_one_line_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec: str, message: str
) -> None:
    write_module(tmp_path, "NotATrial = 3\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.path", list(__import__("sys").path))
    monkeypatch.delitem(__import__("sys").modules, "user_model_def", raising=False)
    with pytest.raises(TrainyardError, match=message):
        load_trial_class(spec)


def test_main_without_an_entrypoint_prints_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert run.main([]) == 2
    assert "usage: python -m trainyard.pytorch.run" in capsys.readouterr().err


def test_main_turns_trainyard_errors_into_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run.main(["nothing_here_abc:Trial"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("trainyard: error: entrypoint module") and "Traceback" not in err
