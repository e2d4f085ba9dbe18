"""The launcher numbers every line it ships and keeps it in the on-disk spool first, so a line
the master never got can be stored later, and a resent one is stored once."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "core"))
from _stub_master import StubMaster  # the shared stand-in master

pytestmark = pytest.mark.slow

PRINT_LINES = "for i in range(5):\n    print(f'line {i}', flush=True)\n"


def _run(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "worker.py"
    script.write_text(PRINT_LINES)
    return subprocess.run(
        [sys.executable, "-m", "trainyard.launch", "--", "python3", str(script)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _spooled(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_shipped_lines_are_numbered_and_spooled(tmp_path: Path) -> None:
    spool = tmp_path / "logs" / "a.jsonl"
    stub = StubMaster().start()
    try:
        done = _run(tmp_path, stub.env(TRAINYARD_LOG_SPOOL=str(spool)))
    finally:
        stub.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    shipped = [(line["seq"], line["line"]) for line in stub.logs]
    assert shipped == [(i, f"line {i}") for i in range(5)]
    assert [(line["seq"], line["line"]) for line in _spooled(spool)] == shipped


def test_lines_the_master_never_got_are_in_the_spool(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on: the master is down
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    spool = tmp_path / "a.jsonl"
    env = {
        "TRAINYARD_MASTER_URL": f"http://127.0.0.1:{port}",
        "TRAINYARD_ALLOCATION_ID": "a",
        "TRAINYARD_LOG_SPOOL": str(spool),
    }
    done = _run(tmp_path, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert [line["line"] for line in _spooled(spool)] == [f"line {i}" for i in range(5)]
    assert [line["seq"] for line in _spooled(spool)] == list(range(5))
