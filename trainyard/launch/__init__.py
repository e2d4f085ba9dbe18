"""How one allocation becomes processes.

`python -m trainyard.launch [--nproc-per-node N] [--nnodes M --node-rank K --master-addr A
--master-port P] -- <entrypoint>` runs one rank (directly) or N×M ranks (through torchrun, so
RANK/WORLD_SIZE/LOCAL_RANK/LOCAL_WORLD_SIZE/GROUP_RANK/MASTER_ADDR/MASTER_PORT are set). Every
output line is printed as `[rank=R] ...` and, when TRAINYARD_MASTER_URL is set, shipped to the
master. If a rank fails the others are stopped and the launcher exits non-zero.

The master's resource manager builds the command with `build_launch_command`.
"""

from trainyard.launch._command import build_launch_command, worker_command
from trainyard.launch._main import main

__all__ = ["build_launch_command", "main", "worker_command"]
