"""Commands: what the master runs for an allocation, and what each launched process runs."""

from __future__ import annotations

import re
import shlex
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from trainyard.errors import ConfigError

_TRIAL_CLASS = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_PYTHON = re.compile(r"^python(3(\.\d+)?)?$")
RANK_PREFIX_TEMPLATE = "[rank=${rank}] "
_GUARD = str(Path(__file__).with_name("_die_with_parent.py"))


def die_with_parent(cmd: Sequence[str]) -> list[str]:
    """`cmd` wrapped so that it is SIGKILLed if the process that starts it dies (Linux)."""
    return [sys.executable, "-S", _GUARD, *cmd]


def entrypoint_argv(entrypoint: str | Sequence[str]) -> list[str]:
    """An entrypoint as an argv list: a string is split like a shell would (no shell runs)."""
    argv = shlex.split(entrypoint) if isinstance(entrypoint, str) else list(entrypoint)
    if len(argv) == 1 and " " in argv[0]:
        argv = shlex.split(argv[0])
    if not argv:
        raise ConfigError(
            "entrypoint is empty; give 'pkg.module:TrialClass' or a command like 'python3 train.py'"
        )
    return argv


def worker_command(entrypoint: str | Sequence[str]) -> list[str]:
    """What every rank runs.

    `pkg.module:TrialClass` becomes `python -m trainyard.pytorch.run pkg.module:TrialClass`; any
    other entrypoint is a command run as given, except that a leading `python`/`python3` is this
    interpreter (so the trial sees the same environment as the launcher).
    """
    argv = entrypoint_argv(entrypoint)
    if len(argv) == 1 and _TRIAL_CLASS.match(argv[0]):
        return [sys.executable, "-m", "trainyard.pytorch.run", argv[0]]
    if _PYTHON.match(argv[0]):
        return [sys.executable, *argv[1:]]
    return argv


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (for a single-node rendezvous)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def check_layout(
    nproc_per_node: int,
    nnodes: int,
    node_rank: int,
    master_addr: str | None,
    master_port: int | None,
) -> None:
    """Refuse impossible process layouts with a one-line message."""
    if nproc_per_node < 1:
        raise ConfigError(f"--nproc-per-node is {nproc_per_node}; it must be >= 1")
    if nnodes < 1:
        raise ConfigError(f"--nnodes is {nnodes}; it must be >= 1")
    if not 0 <= node_rank < nnodes:
        raise ConfigError(f"--node-rank is {node_rank}; it must be in 0..{nnodes - 1}")
    if nnodes > 1 and (not master_addr or not master_port):
        raise ConfigError("--master-addr and --master-port are required when --nnodes > 1")


def torchrun_command(
    worker: Sequence[str],
    *,
    nproc_per_node: int,
    nnodes: int,
    node_rank: int,
    master_addr: str,
    master_port: int,
) -> list[str]:
    """`torch.distributed.run` (torchrun) for `worker`, teeing each rank's output with a prefix.

    Needs `TORCHELASTIC_LOG_LINE_PREFIX_TEMPLATE=RANK_PREFIX_TEMPLATE` in its environment.
    """
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        f"--nproc-per-node={nproc_per_node}",
        f"--nnodes={nnodes}",
        f"--node-rank={node_rank}",
        f"--master-addr={master_addr}",
        f"--master-port={master_port}",
        "--max-restarts=0",
        "--tee=3",
        "--no-python",
        *die_with_parent(worker),
    ]


def build_launch_command(
    entrypoint: str | Sequence[str],
    *,
    nproc_per_node: int,
    nnodes: int = 1,
    node_rank: int = 0,
    master_addr: str | None = None,
    master_port: int | None = None,
) -> list[str]:
    """The command that starts one allocation's processes on one node: `python -m trainyard.launch`.

    The master's resource manager runs it with the allocation's environment (docs/trial-api.md);
    the launcher then starts `nproc_per_node` ranks, prefixes and ships their output, and exits
    non-zero if any rank fails.

    >>> build_launch_command("model_def:MyTrial", nproc_per_node=2)[-3:]
    ['--nproc-per-node=2', '--', 'model_def:MyTrial']
    """
    check_layout(nproc_per_node, nnodes, node_rank, master_addr, master_port)
    argv = entrypoint_argv(entrypoint)
    cmd = [sys.executable, "-m", "trainyard.launch"]
    if nnodes > 1:
        cmd += [f"--nnodes={nnodes}", f"--node-rank={node_rank}"]
    if master_addr:
        cmd.append(f"--master-addr={master_addr}")
    if master_port:
        cmd.append(f"--master-port={master_port}")
    return [*cmd, f"--nproc-per-node={nproc_per_node}", "--", *argv]
