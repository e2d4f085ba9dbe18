"""A config file the CLI cannot use is one line on stderr and exit 1, never a traceback.

Before issue 11 a non-UTF-8, UTF-16 or binary config, or an empty one, printed a 49-line
traceback. Every command that takes a config file reads it the same way
(`trainyard.config.read_config_file`), before it talks to any master: the unreachable
`--master` below proves no request was needed to find the problem.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trainyard.cli.main import app

NO_MASTER = ["--master", "http://127.0.0.1:9"]
VALID = (
    "entrypoint: python3 train.py\nsearcher: {name: single, metric: m, max_length: {batches: 1}}\n"
)

COMMANDS: dict[str, Callable[[str], list[str]]] = {
    "experiment create": lambda p: ["experiment", "create", p],
    "experiment fork": lambda p: ["experiment", "fork", "1", "--config", p],
    "preview": lambda p: ["preview", p],
    "run": lambda p: ["run", p, "--data-dir", str(Path(p).parent / "embedded")],
}

# name -> (what to write at the path; None: make a directory; absent key: leave it missing,
#          the words the one line must contain)
CASES: dict[str, tuple[bytes | None, str]] = {
    "latin-1": (
        "name: café\n".encode("latin-1") + VALID.encode(),
        "is not UTF-8 text (byte 9 is 0xe9)",
    ),
    "utf-16": (VALID.encode("utf-16"), "is not UTF-8 text (UTF-16 or binary)"),
    "utf-16-le-no-bom": (VALID.encode("utf-16-le"), "is not UTF-8 text (UTF-16 or binary)"),
    "binary": (bytes(range(256)) * 4, "is not UTF-8 text (UTF-16 or binary)"),
    "gzip": (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\x00" * 20, "is not UTF-8 text"),
    "empty": (b"", "is empty; a config needs at least entrypoint and searcher"),
    "whitespace": (b"  \n\t\n", "is empty; a config needs at least entrypoint and searcher"),
    "directory": (None, "is a directory; give the path of a YAML config file"),
    "too-big": (b"data: '" + b"x" * 1_000_001 + b"'\n", "is over 1.0 MB, the limit for a config"),
}


def _make(tmp_path: Path, case: str) -> str:
    path = tmp_path / f"{case}.yaml"
    if case == "missing":
        return str(path)
    content, _ = CASES[case]
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    return str(path)


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", [*CASES, "missing"])
def test_an_unusable_config_file_is_one_line_and_exit_1(
    tmp_path: Path, command: str, case: str
) -> None:
    path = _make(tmp_path, case)
    done = CliRunner().invoke(app, [*NO_MASTER, *COMMANDS[command](path)])
    assert done.exit_code == 1, done.output
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    words = (
        "cannot read the config: No such file or directory" if case == "missing" else CASES[case][1]
    )
    assert lines[0].startswith(f"error: {path}: "), lines[0]
    assert words in lines[0]
    assert not (tmp_path / "embedded").exists()  # `run` never started its embedded master


def test_a_utf8_bom_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.encode())
    done = CliRunner().invoke(app, ["preview", str(path)])
    assert done.exit_code == 0, done.output


def test_debug_shows_the_traceback_instead(tmp_path: Path) -> None:
    path = _make(tmp_path, "utf-16")
    done = CliRunner().invoke(app, ["--debug", *NO_MASTER, "preview", path])
    assert done.exit_code == 1
    assert type(done.exception).__name__ == "ConfigError"


def test_the_real_command_prints_no_traceback(tmp_path: Path) -> None:
    path = _make(tmp_path, "binary")
    done = subprocess.run(
        [sys.executable, "-m", "trainyard.cli", *NO_MASTER, "experiment", "create", path],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"error: {path}: is not UTF-8 text (UTF-16 or binary); save the config as UTF-8 YAML"
    ]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            "searcher: {name: random, metric: m, max_trials: 1000000000000000, "
            "max_length: {batches: 1}}\nentrypoint: x\n",
            "searcher.max_trials: the search plans",
        ),
        (
            "entrypoint: x\nsearcher: {name: single, metric: m, max_length: {batches: 1e30}}\n",
            "searcher.max_length.batches: must be between",
        ),
        ("entrypoint: x\nentrypoint: y\n", "duplicate key 'entrypoint'"),
    ],
)
def test_preview_of_a_bad_config_is_one_line(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    done = CliRunner().invoke(app, ["preview", str(path)])
    assert done.exit_code == 1, done.output
    (line,) = done.stderr.strip().splitlines()
    assert words in line
