"""The shipped examples train for real, offline, through the commands the README gives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import trainyard.core as core
from trainyard.config import load_experiment_config
from trainyard.pytorch import Trainer
from trainyard.pytorch.run import load_trial_class

EXAMPLES = Path(__file__).parents[3] / "examples"
CONFIGS = sorted([*EXAMPLES.glob("digits_cnn/*.yaml"), *EXAMPLES.glob("sequence_gru/*.yaml")])


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_example_config_is_valid(path: Path) -> None:
    config = load_experiment_config(path)
    assert config.entrypoint.endswith("Trial")
    assert config.searcher.metric == "validation_accuracy"


def validation_reports(run_dir: Path) -> list[dict[str, Any]]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["group"] == "validation"]


@pytest.mark.slow
def test_digits_const_trains_with_the_local_command(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINYARD_")}
    env.update(TRAINYARD_LOCAL_LENGTH="100", OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "trainyard.pytorch.local", str(EXAMPLES / "digits_cnn/const.yaml")]
    done = subprocess.run(
        [*cmd, "--run-dir", str(tmp_path)], env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    (last,) = validation_reports(tmp_path)
    assert last["steps"] == 100
    assert last["metrics"]["validation_accuracy"] > 0.8
    assert list((tmp_path / "tensorboard" / "trial_local").glob("events.out.tfevents.*"))


def test_sequence_gru_learns_the_waves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(EXAMPLES / "sequence_gru")
    trial_cls = load_trial_class("model_def:WavesTrial")
    config = load_experiment_config(EXAMPLES / "sequence_gru/const.yaml")
    monkeypatch.setenv("TRAINYARD_LOCAL_LENGTH", "2")  # epochs, the config's unit
    with core.init(config=config, run_dir=tmp_path) as ctx:
        result = Trainer(trial_cls, ctx, tensorboard=False).fit()
    assert result.steps_completed == 64  # 2 epochs of 2048 records in batches of 64
    (last,) = validation_reports(tmp_path)[-1:]
    assert set(last["metrics"]) == {"validation_loss", "validation_accuracy"}
    assert last["metrics"]["validation_accuracy"] > 0.7  # chance is 1/3
