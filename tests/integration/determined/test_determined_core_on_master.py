"""Determined-style Core API scripts, ported by their import line only, on a real master:
metrics, checkpoints (with a crash and a resume), a 0.38 time-metric search, the same search in
0.37 style (`searcher.operations()`), and 2 slots over gloo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ported_model_dir
from master_process import RunningMaster

from trainyard.client import Client, Trial

pytestmark = pytest.mark.slow


def run(
    master: RunningMaster, tmp_path: Path, script: str, config: dict[str, Any]
) -> tuple[list[Trial], dict[int, list[str]]]:
    """Create the experiment, wait for it to end COMPLETED; its trials and each trial's log."""
    model = ported_model_dir(tmp_path, script)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"name": script, "max_restarts": 0, **config}))
    with Client(master.url, master.token) as client:
        exp = client.create_experiment(path, model)
        final = client.wait_experiment(exp.id, interval=0.2, timeout=120)
        trials = client.list_trials(exp.id).items
        logs = {t.id: [line.line for line in client.trial_logs(t.id)] for t in trials}
    assert final.state == "COMPLETED", (final, trials, logs, master.log()[-3000:])
    for trial in trials:
        assert trial.state == "COMPLETED", (trial, logs[trial.id])
        assert not [line for line in logs[trial.id] if "HTTP Request" in line], logs[trial.id]
    return trials, logs


def test_metrics_stage(shared_master: RunningMaster, tmp_path: Path) -> None:
    searcher = {"name": "single", "metric": "x"}  # 0.38: no length, the script decides
    config = {"entrypoint": "python3 metrics.py", "hyperparameters": {"increment_by": 2}}
    (trial,), logs = run(shared_master, tmp_path, "metrics.py", {**config, "searcher": searcher})
    assert trial.restarts == 0
    assert trial.latest_metric == 24.0
    assert any(f"done trial={trial.id} slots=1" in line for line in logs[trial.id])


def test_checkpoints_stage_resumes_after_a_crash(
    shared_master: RunningMaster, tmp_path: Path
) -> None:
    config = {
        "entrypoint": "python3 checkpoints.py",
        "hyperparameters": {"increment_by": 1, "stop_at": 10},
        "searcher": {"name": "single", "metric": "x"},
        "max_restarts": 1,
    }
    (trial,), logs = run(shared_master, tmp_path, "checkpoints.py", config)
    assert trial.restarts == 1
    assert any("resumed at 10 x=10" in line for line in logs[trial.id])
    assert trial.latest_metric == 20.0, "the resumed run continued from the checkpoint"


HP = {"increment_by": {"type": "int", "minval": 1, "maxval": 8}}


def test_hpsearch_with_a_time_metric_0_38(shared_master: RunningMaster, tmp_path: Path) -> None:
    searcher = {
        "name": "adaptive_asha",
        "metric": "x",
        "max_trials": 5,
        "time_metric": "batches",
        "max_time": 20,
        "max_concurrent_trials": 2,
        "mode": "aggressive",
    }
    config = {"entrypoint": "python3 hpsearch.py", "hyperparameters": HP, "searcher": searcher}
    trials, logs = run(shared_master, tmp_path, "hpsearch.py", config)
    assert len(trials) == 5
    assert all(t.restarts == 0 for t in trials), trials
    lengths = sorted(t.trained_length for t in trials)
    assert lengths[-1] == 20, "the best trial trains to max_time"
    assert lengths[0] < 20, "the searcher stopped some trials early"
    stopped = [t for t in trials if t.trained_length < 20]
    for trial in stopped:  # stopped preemption-style: after a checkpoint at its last report
        assert trial.latest_checkpoint is not None
        assert any("stopped at" in line for line in logs[trial.id])


def test_the_same_search_in_0_37_style(shared_master: RunningMaster, tmp_path: Path) -> None:
    searcher = {
        "name": "adaptive_asha",
        "metric": "x",
        "max_trials": 5,
        "max_length": {"batches": 20},
        "max_concurrent_trials": 2,
        "mode": "aggressive",
    }
    config = {"entrypoint": "python3 hpsearch_ops.py", "hyperparameters": HP, "searcher": searcher}
    trials, _ = run(shared_master, tmp_path, "hpsearch_ops.py", config)
    assert len(trials) == 5 and all(t.restarts == 0 for t in trials)
    assert max(t.trained_length for t in trials) == 20
    assert min(t.trained_length for t in trials) < 20


def test_distributed_stage_on_two_slots(shared_master: RunningMaster, tmp_path: Path) -> None:
    config = {
        "entrypoint": "python3 -m determined.launch.torch_distributed python3 distributed.py",
        "hyperparameters": {"increment_by": 3},
        "resources": {"slots_per_trial": 2},
        "searcher": {"name": "single", "metric": "x"},
    }
    (trial,), logs = run(shared_master, tmp_path, "distributed.py", {**config})
    lines = logs[trial.id]
    assert any("rank 0 of 2" in line for line in lines) and any(
        "rank 1 of 2" in line for line in lines
    )
    assert trial.latest_metric == 30.0
