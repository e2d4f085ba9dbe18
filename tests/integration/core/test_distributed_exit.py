"""A process group a `DistributedContext` created is destroyed before interpreter teardown, even
when the script never closes the context (Determined's scripts build one and pass it to
`core.init`, which does not own it). Left alive, its gloo threads abort a finished rank now and
then at teardown: "terminate called without an active exception"."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

_SCRIPT = """
import atexit, os, sys
import torch.distributed as dist

out = sys.argv[1]


def report() -> None:  # registered first, so it runs after every other exit handler
    with open(os.path.join(out, os.environ["RANK"]), "w") as fh:
        fh.write(str(dist.is_initialized()))


atexit.register(report)

from trainyard.core import DistributedContext

context = DistributedContext.from_torch_distributed()
assert context.allgather(context.rank) == [0, 1]
"""


def test_a_group_the_context_created_is_gone_before_teardown_though_never_closed(
    tmp_path: Path,
) -> None:
    script = tmp_path / "never_closes.py"
    script.write_text(_SCRIPT)
    launch = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node=2"]
    run = subprocess.run(
        [*launch, str(script), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert run.returncode == 0, run.stderr[-3000:]
    assert (tmp_path / "0").read_text() == "False"
    assert (tmp_path / "1").read_text() == "False"
