"""`python -m trainyard.launch`: one allocation on one node becomes its processes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from trainyard.errors import TrainyardError
from trainyard.launch._command import (
    RANK_PREFIX_TEMPLATE,
    check_layout,
    die_with_parent,
    free_port,
    torchrun_command,
    worker_command,
)
from trainyard.launch._logs import LogShipper
from trainyard.launch._pdeathsig import parent_death_preexec
from trainyard.launch._supervisor import Supervisor

USAGE = (
    "python -m trainyard.launch [--nproc-per-node N] [--nnodes M --node-rank K "
    "--master-addr A --master-port P] -- <pkg.module:TrialClass | command...>"
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m trainyard.launch", usage=USAGE)
    parser.add_argument("--nproc-per-node", type=int, default=1, help="ranks on this node")
    parser.add_argument("--nnodes", type=int, default=1, help="nodes in the allocation")
    parser.add_argument("--node-rank", type=int, default=0, help="this node's index")
    parser.add_argument("--master-addr", default=None, help="rendezvous host (rank 0's node)")
    parser.add_argument("--master-port", type=int, default=None, help="rendezvous port")
    parser.add_argument(
        "--grace-period", type=float, default=10.0, help="seconds between SIGTERM and SIGKILL"
    )
    parser.add_argument("entrypoint", nargs=argparse.REMAINDER, help="after --")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, start the ranks, return the exit code (non-zero if any rank failed)."""
    args = _parser().parse_args(argv)
    entry: list[str] = list(args.entrypoint)
    if entry and entry[0] == "--":
        entry = entry[1:]
    try:
        check_layout(
            args.nproc_per_node, args.nnodes, args.node_rank, args.master_addr, args.master_port
        )
        worker = worker_command(entry)
    except TrainyardError as err:
        print(f"trainyard.launch: {err}", file=sys.stderr)
        return 2
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    world = args.nproc_per_node * args.nnodes
    if world == 1:
        env.update(RANK="0", WORLD_SIZE="1", LOCAL_RANK="0", LOCAL_WORLD_SIZE="1", GROUP_RANK="0")
        # One process: arm its parent-death signal in the fork rather than through the
        # `die_with_parent` wrapper, which costs a second interpreter start before the worker.
        preexec = parent_death_preexec()
        cmd, fixed_rank = (worker if preexec else die_with_parent(worker)), 0
    else:
        env["TORCHELASTIC_LOG_LINE_PREFIX_TEMPLATE"] = RANK_PREFIX_TEMPLATE
        cmd = die_with_parent(
            torchrun_command(
                worker,
                nproc_per_node=args.nproc_per_node,
                nnodes=args.nnodes,
                node_rank=args.node_rank,
                master_addr=args.master_addr or "127.0.0.1",
                master_port=args.master_port or free_port(),
            )
        )
        fixed_rank, preexec = None, None
    supervisor = Supervisor(
        cmd,
        env,
        fixed_rank=fixed_rank,
        shipper=LogShipper.from_env(),
        grace_s=args.grace_period,
        preexec_fn=preexec,
    )
    return supervisor.run()
