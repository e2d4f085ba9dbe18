"""`python -m trainyard.demo`: the preview table, then a simulated search with its figures."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from trainyard.demo import find_config, main, run

REPO = Path(__file__).resolve().parents[3]
SYNTHETIC = REPO / "examples" / "synthetic" / "adaptive.yaml"


def test_the_demo_previews_and_simulates_the_synthetic_example() -> None:
    out = io.StringIO()
    result = run(SYNTHETIC, Console(file=out, width=120))
    text = out.getvalue()

    assert "Search preview — adaptive_asha" in text
    assert "Top 5 trials" in text
    assert len(result.trials) == 64 and result.shutdown
    assert result.best_metric is not None and result.best_metric > 0.9
    assert f"trials started    {len(result.trials)}" in text
    assert f"utilization       {result.utilization:.1%}" in text


def test_the_demo_prefers_the_digits_example(tmp_path: Path) -> None:
    (tmp_path / "examples" / "synthetic").mkdir(parents=True)
    (tmp_path / "examples" / "synthetic" / "adaptive.yaml").write_text("x: 1\n")
    assert find_config(tmp_path).parts[-2] == "synthetic"

    (tmp_path / "examples" / "digits_cnn").mkdir()
    (tmp_path / "examples" / "digits_cnn" / "adaptive.yaml").write_text("x: 1\n")
    assert find_config(tmp_path).parts[-2] == "digits_cnn"


def test_a_bad_config_is_one_line_and_exit_code_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nentrypoint: a:B\nsearcher: {name: random, metric: m}\n")

    assert main([str(bad)]) == 1


def test_python_m_trainyard_demo_runs_from_the_repo() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "trainyard.demo"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "Search preview" in done.stdout and "best metric" in done.stdout
