"""`python -m trainyard.launch`: real processes, real torch.distributed (gloo), real signals."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import _scripts
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "core"))
from _stub_master import StubMaster, wait_for  # the shared stand-in master

pytestmark = pytest.mark.slow


def _script(tmp_path: Path, source: str) -> str:
    path = tmp_path / "worker.py"
    path.write_text(source)
    return str(path)


def _launch(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "trainyard.launch", *args],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_two_ranks_run_torch_distributed_with_prefixed_output(tmp_path: Path) -> None:
    proc = _launch("--nproc-per-node", "2", "--", "python3", _script(tmp_path, _scripts.ALLREDUCE))
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out
    assert "[rank=0] sum=3 world=2" in out.splitlines()
    assert "[rank=1] sum=3 world=2" in out.splitlines()


def test_single_process_keeps_exit_code_and_prefixes_both_streams(tmp_path: Path) -> None:
    proc = _launch("--", f"python3 {_script(tmp_path, _scripts.EXIT_CODE)}")
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 3
    assert set(out.splitlines()) == {"[rank=0] to stdout", "[rank=0] to stderr"}


def test_a_failing_rank_stops_the_others_and_fails_the_launch(tmp_path: Path) -> None:
    proc = _launch(
        "--nproc-per-node", "2", "--", "python3", _script(tmp_path, _scripts.ONE_RANK_FAILS)
    )
    lines: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:  # wait until both ranks run, then time the teardown
        lines.append(line)
        if sum("started" in x for x in lines) == 2:
            break
    started = time.monotonic()
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert time.monotonic() - started < 15, "the surviving rank was not stopped promptly"
    assert "exitcode  : 1" in out


def test_sigterm_to_the_launcher_reaches_every_rank(tmp_path: Path) -> None:
    proc = _launch(
        "--nproc-per-node", "2", "--", "python3", _script(tmp_path, _scripts.TRAPS_SIGTERM)
    )
    lines: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))
        if sum(x.endswith("] ready") for x in lines) == 2:
            break
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    lines += out.splitlines()
    assert "[rank=0] got SIGTERM" in lines and "[rank=1] got SIGTERM" in lines, lines
    assert proc.returncode != 0


def test_output_is_shipped_to_the_master_with_rank_and_stream(tmp_path: Path) -> None:
    stub = StubMaster().start()
    try:
        proc = _launch("--", "python3", _script(tmp_path, _scripts.EXIT_CODE), env=stub.env())
        proc.communicate(timeout=60)
        wait_for(lambda: len(stub.logs) >= 2)
    finally:
        stub.stop()
    shipped = {(row["rank"], row["stream"], row["line"]) for row in stub.logs}
    assert shipped == {(0, "stdout", "to stdout"), (0, "stderr", "to stderr")}
    assert all(isinstance(row["timestamp"], float) for row in stub.logs)


def test_bad_layout_is_one_line_and_exit_2() -> None:
    proc = _launch("--nnodes", "2", "--", "python3", "x.py")
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert out.strip() == (
        "trainyard.launch: --master-addr and --master-port are required when --nnodes > 1"
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is dead for our purpose
        return stat.read().split(")")[-1].split()[0] != "Z"


def test_sigkill_to_the_allocation_group_leaves_no_worker_behind(tmp_path: Path) -> None:
    script = _script(tmp_path, _scripts.WRITES_PID)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "trainyard.launch",
            "--nproc-per-node",
            "2",
            "--",
            "python3",
            script,
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # as the resource manager starts an allocation
    )
    pid_files = [tmp_path / "rank-0.pid", tmp_path / "rank-1.pid"]
    wait_for(lambda: all(p.exists() and p.read_text() for p in pid_files), timeout_s=60)
    workers = [int(p.read_text()) for p in pid_files]
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    try:
        wait_for(lambda: not any(_alive(pid) for pid in workers), timeout_s=10)
    finally:
        for pid in workers:  # never leave orphans behind, even when the assertion fails
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_a_single_worker_dies_with_its_launcher_killed_alone(tmp_path: Path) -> None:
    script = _script(tmp_path, _scripts.WRITES_PID)
    proc = _launch("--", "python3", script, str(tmp_path))
    pid_file = tmp_path / "rank-0.pid"
    wait_for(lambda: pid_file.exists() and bool(pid_file.read_text()), timeout_s=60)
    worker = int(pid_file.read_text())
    assert worker != proc.pid  # a process of its own, not the launcher itself
    proc.kill()  # only the launcher: the worker must not outlive it
    proc.communicate(timeout=10)
    try:
        wait_for(lambda: not _alive(worker), timeout_s=10)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker, signal.SIGKILL)
