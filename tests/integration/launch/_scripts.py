"""Tiny worker scripts the launcher tests run as ranks (written to a temp dir by the tests)."""

ALLREDUCE = """
import torch, torch.distributed as dist
dist.init_process_group("gloo")
t = torch.tensor([dist.get_rank() + 1.0])
dist.all_reduce(t)
print(f"sum={t.item():.0f} world={dist.get_world_size()}", flush=True)
dist.destroy_process_group()
"""

ONE_RANK_FAILS = """
import os, sys, time
print("started", flush=True)
if os.environ["RANK"] == "1":
    time.sleep(0.5)
    sys.exit(1)
time.sleep(120)
"""

TRAPS_SIGTERM = """
import os, signal, sys, time
def bye(signum, frame):
    print("got SIGTERM", flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, bye)
print("ready", flush=True)
time.sleep(120)
"""

EXIT_CODE = """
import sys
print("to stdout", flush=True)
print("to stderr", file=sys.stderr, flush=True)
sys.exit(3)
"""

WRITES_PID = """
import os, sys, time
from pathlib import Path
Path(sys.argv[1], f"rank-{os.environ['RANK']}.pid").write_text(str(os.getpid()))
time.sleep(120)
"""
