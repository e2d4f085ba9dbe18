"""`python -m trainyard.pytorch.local CONFIG.yaml [--slots N] [--run-dir DIR]` — train one trial
of an experiment on this machine, no master.

Runs the config's `entrypoint` (`pkg.module:TrialClass`) with `python -m trainyard.pytorch.run`
from the model directory (the config's folder unless `--model-dir` is given), in Core API local
mode (`TRAINYARD_CONFIG` points at the config). With `resources.slots_per_trial` (or `--slots`)
above 1 it starts one process per slot with the torchrun environment on 127.0.0.1; if one rank
fails, the others are stopped. The exit code is the first failing rank's, else 0.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def rank_env(base: dict[str, str], rank: int, size: int, port: int) -> dict[str, str]:
    """The torchrun-style variables for `rank` of `size` on one machine."""
    env = dict(base)
    env.update(
        RANK=str(rank),
        WORLD_SIZE=str(size),
        LOCAL_RANK=str(rank),
        LOCAL_WORLD_SIZE=str(size),
        GROUP_RANK="0",
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )
    return env


def launch(
    entrypoint: str,
    model_dir: Path,
    slots: int,
    env: dict[str, str],
    poll_s: float = 0.1,
    grace_s: float = 10.0,
) -> int:
    """Run `entrypoint` on `slots` local ranks; returns the first non-zero exit code, else 0.

    When a rank fails, the others get SIGTERM (a preemption request) and, `grace_s` later,
    SIGKILL: a rank blocked in a collective with a dead peer never hangs the trial.
    """
    cmd = [sys.executable, "-m", "trainyard.pytorch.run", entrypoint]
    if slots <= 1:
        return subprocess.call(cmd, cwd=model_dir, env=env)
    port = free_port()
    procs = [
        subprocess.Popen(cmd, cwd=model_dir, env=rank_env(env, r, slots, port))
        for r in range(slots)
    ]
    failed, kill_at = 0, float("inf")
    while any(p.poll() is None for p in procs):
        bad = [p.returncode for p in procs if p.returncode not in (None, 0)]
        if bad and not failed:
            failed, kill_at = bad[0], time.monotonic() + grace_s
            _signal_all(procs, signal.SIGTERM)
        if time.monotonic() > kill_at:
            _signal_all(procs, signal.SIGKILL)
        time.sleep(poll_s)
    codes = [p.returncode for p in procs]
    return failed or next((c for c in codes if c != 0), 0)


def _signal_all(procs: list[subprocess.Popen[bytes]], sig: signal.Signals) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(sig)


def _read_config(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise SystemExit(f"trainyard: cannot read {path}: {err}") from None
    if not isinstance(raw, dict):
        raise SystemExit(f"trainyard: {path} is not a YAML mapping")
    return raw


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry; returns the exit code of the trial."""
    parser = argparse.ArgumentParser(prog="python -m trainyard.pytorch.local")
    parser.add_argument("config", type=Path, help="experiment config YAML")
    parser.add_argument("--model-dir", type=Path, help="default: the config's folder")
    parser.add_argument("--slots", type=int, help="default: resources.slots_per_trial or 1")
    parser.add_argument("--run-dir", type=Path, help="metrics/checkpoints (default ./runs/<name>)")
    args = parser.parse_args(argv)
    config_path = args.config.resolve()
    config = _read_config(config_path)
    entrypoint = config.get("entrypoint")
    if not isinstance(entrypoint, str) or ":" not in entrypoint:
        print(
            f"trainyard: {config_path}: entrypoint must be 'pkg.module:TrialClass'", file=sys.stderr
        )
        return 2
    resources = config.get("resources") or {}
    slots = args.slots or int(resources.get("slots_per_trial", 1) or 1)
    env = dict(os.environ, TRAINYARD_CONFIG=str(config_path))
    if slots > 1:
        env.setdefault("OMP_NUM_THREADS", "1")  # as torchrun does: ranks share the cores
    if args.run_dir is not None:
        env["TRAINYARD_RUN_DIR"] = str(args.run_dir.resolve())
    model_dir = (args.model_dir or config_path.parent).resolve()
    return launch(entrypoint, model_dir, slots, env)


if __name__ == "__main__":
    sys.exit(main())
