"""`build_launch_command` and `worker_command`: what the master and each rank run."""

from __future__ import annotations

import sys

import pytest

import trainyard.launch as launch
from trainyard.errors import ConfigError
from trainyard.launch import build_launch_command, worker_command


def test_exports() -> None:
    assert set(launch.__all__) == {"build_launch_command", "main", "worker_command"}


def test_trial_class_runs_the_pytorch_trainer() -> None:
    assert worker_command("model_def:MyTrial") == [
        sys.executable,
        "-m",
        "trainyard.pytorch.run",
        "model_def:MyTrial",
    ]


def test_shell_command_runs_as_given_with_this_python() -> None:
    assert worker_command("python3 train.py --lr 0.1") == [
        sys.executable,
        "train.py",
        "--lr",
        "0.1",
    ]
    assert worker_command(["bash", "-c", "echo hi"]) == ["bash", "-c", "echo hi"]


def test_launch_command_for_one_node() -> None:
    cmd = build_launch_command("python3 train.py --x", nproc_per_node=2)
    assert cmd == [
        sys.executable,
        "-m",
        "trainyard.launch",
        "--nproc-per-node=2",
        "--",
        "python3",
        "train.py",
        "--x",
    ]


def test_launch_command_for_several_nodes() -> None:
    cmd = build_launch_command(
        "pkg.m:T",
        nproc_per_node=4,
        nnodes=2,
        node_rank=1,
        master_addr="10.0.0.1",
        master_port=29400,
    )
    assert cmd[3:] == [
        "--nnodes=2",
        "--node-rank=1",
        "--master-addr=10.0.0.1",
        "--master-port=29400",
        "--nproc-per-node=4",
        "--",
        "pkg.m:T",
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"nproc_per_node": 0}, "--nproc-per-node is 0"),
        ({"nproc_per_node": 1, "nnodes": 2, "node_rank": 2}, "--node-rank is 2"),
        ({"nproc_per_node": 1, "nnodes": 2}, "--master-addr and --master-port are required"),
    ],
)
def test_impossible_layouts_are_refused(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_launch_command("pkg.m:T", **kwargs)


def test_empty_entrypoint_is_refused() -> None:
    with pytest.raises(ConfigError, match="entrypoint is empty"):
        build_launch_command("", nproc_per_node=1)
