"""CLI commands that need no master, and the one-line error contract (Typer's CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from trainyard.cli.main import app

ADAPTIVE = Path(__file__).resolve().parents[3] / "examples" / "digits_cnn" / "adaptive.yaml"
runner = CliRunner()


def test_preview_prints_rungs_per_bracket() -> None:
    result = runner.invoke(app, ["preview", str(ADAPTIVE)])
    assert result.exit_code == 0, result.output
    assert "adaptive_asha" in result.stdout
    assert "Trials reaching" in result.stdout


def test_preview_json_parses_and_adds_up() -> None:
    result = runner.invoke(app, ["preview", "--json", str(ADAPTIVE)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["method"] == "adaptive_asha"
    assert sum(b["trials"] for b in data["brackets"]) == data["total_trials"]
    assert sum(b["total_length"] for b in data["brackets"]) == data["total_length"]


def test_bad_config_is_one_line_on_stderr_and_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("searcher: [unclosed\n")
    result = runner.invoke(app, ["preview", str(bad)])
    assert result.exit_code == 1
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {bad}: invalid YAML at line 2, column 1: ")
    assert "expected ',' or ']'" in line


def test_unreachable_master_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--master", "http://127.0.0.1:9", "experiment", "list"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: cannot reach the master at http://127.0.0.1:9")


def test_debug_shows_the_exception_instead(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("searcher: [unclosed\n")
    result = runner.invoke(app, ["--debug", "preview", str(bad)])
    assert result.exit_code == 1
    assert result.exception is not None
    assert type(result.exception).__name__ == "ConfigError"


def test_missing_config_file_for_create(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["--master", "http://127.0.0.1:9", "experiment", "create", str(tmp_path / "x.yaml")]
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: {tmp_path / 'x.yaml'}: cannot read the config: No such file or directory"
    )
