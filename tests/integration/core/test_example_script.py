"""examples/core_api_script runs locally, stops cleanly when preempted and resumes after."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from _stub_master import wait_for

EXAMPLE = Path(__file__).parents[3] / "examples" / "core_api_script"


def _run(run_dir: Path, length: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "TRAINYARD_CONFIG": str(EXAMPLE / "const.yaml"),
        "TRAINYARD_RUN_DIR": str(run_dir),
        "TRAINYARD_LOCAL_LENGTH": str(length),
    }
    env.pop("TRAINYARD_MASTER_URL", None)
    cmd = [sys.executable, str(EXAMPLE / "train.py")]
    return subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _validations(run_dir: Path) -> list[dict[str, object]]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["group"] == "validation"]


def test_example_trains_to_the_length_and_learns(tmp_path: Path) -> None:
    proc = _run(tmp_path, 200)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    (val,) = _validations(tmp_path)
    assert val["steps"] == 200
    assert val["metrics"]["val_accuracy"] > 0.85  # type: ignore[index]
    saved = [json.loads(line) for line in (tmp_path / "checkpoints.jsonl").read_text().splitlines()]
    assert [row["steps"] for row in saved] == [200]


def test_example_checkpoints_on_preemption_and_resumes(tmp_path: Path) -> None:
    proc = _run(tmp_path, 10_000_000)
    metrics = tmp_path / "metrics.jsonl"
    wait_for(lambda: metrics.is_file() and metrics.stat().st_size > 0, 60)
    (tmp_path / "PREEMPT").touch()
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    stopped_at = int(out.split("preempted at step ")[1].split(";")[0])
    assert _validations(tmp_path) == []

    resumed = _run(tmp_path, stopped_at + 50)
    out, _ = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, out
    assert "resuming from checkpoint" in out
    (val,) = _validations(tmp_path)
    assert val["steps"] == stopped_at + 50
