"""The same Determined-style Core API scripts as on the master, run locally (no master): a run
folder with metrics and checkpoints, resume after a crash, 0.37 operations, 2 ranks on gloo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ported_model_dir

pytestmark = pytest.mark.slow


def run(
    model: Path, script: str, config: dict[str, object], run_dir: Path, *, ranks: int = 1
) -> subprocess.CompletedProcess[str]:
    path = model / "local.yaml"
    path.write_text(yaml.safe_dump({"name": "local", "entrypoint": f"python3 {script}", **config}))
    env = {**os.environ, "TRAINYARD_CONFIG": str(path), "TRAINYARD_RUN_DIR": str(run_dir)}
    env.pop("TRAINYARD_MASTER_URL", None)
    cmd = [sys.executable, script]
    if ranks > 1:
        cmd = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            str(ranks),
            script,
        ]
    return subprocess.run(cmd, cwd=model, env=env, capture_output=True, text=True, timeout=300)


def reports(run_dir: Path, group: str) -> list[dict[str, object]]:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [row for row in rows if row["group"] == group]


def test_metrics_and_hpsearch_scripts(tmp_path: Path) -> None:
    model = ported_model_dir(tmp_path, "metrics.py", "hpsearch.py", "hpsearch_ops.py")
    single = {"hyperparameters": {"increment_by": 2}, "searcher": {"name": "single", "metric": "x"}}
    done = run(model, "metrics.py", single, tmp_path / "m")
    assert done.returncode == 0, done.stderr
    assert "done trial=1 slots=1" in done.stdout
    assert reports(tmp_path / "m", "validation")[-1]["metrics"] == {"x": 24}
    done = run(model, "hpsearch.py", single, tmp_path / "h")
    assert done.returncode == 0, done.stderr
    assert reports(tmp_path / "h", "validation")[-1]["metrics"] == {"x": 40, "batches": 20}
    with_length = {**single, "searcher": {"name": "single", "metric": "x", "max_length": 6}}
    done = run(model, "hpsearch_ops.py", with_length, tmp_path / "o")
    assert done.returncode == 0, done.stderr
    assert reports(tmp_path / "o", "validation")[-1]["steps"] == 6
    assert "HTTP Request" not in done.stderr + done.stdout


def test_checkpoints_script_resumes_after_a_crash(tmp_path: Path) -> None:
    model = ported_model_dir(tmp_path, "checkpoints.py")
    config = {
        "hyperparameters": {"increment_by": 1, "stop_at": 10},
        "searcher": {"name": "single", "metric": "x"},
    }
    first = run(model, "checkpoints.py", config, tmp_path / "c")
    assert first.returncode == 3 and "crashing on purpose at 10" in first.stdout
    second = run(model, "checkpoints.py", config, tmp_path / "c")
    assert second.returncode == 0, second.stderr
    assert "resumed at 10 x=10" in second.stdout
    assert reports(tmp_path / "c", "validation")[-1]["metrics"] == {"x": 20}


def test_distributed_script_on_two_local_ranks(tmp_path: Path) -> None:
    model = ported_model_dir(tmp_path, "distributed.py")
    config = {
        "hyperparameters": {"increment_by": 3, "explicit": True},
        "searcher": {"name": "single", "metric": "x"},
    }
    done = run(model, "distributed.py", config, tmp_path / "d", ranks=2)
    assert done.returncode == 0, done.stderr
    assert "rank 0 of 2" in done.stdout and "rank 1 of 2" in done.stdout
    assert reports(tmp_path / "d", "training")[-1]["metrics"] == {"x": 60}
