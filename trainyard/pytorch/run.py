"""`python -m trainyard.pytorch.run pkg.module:TrialClass` — the per-rank process entry.

Run from the model directory (it is put on `sys.path`). Joins the torch.distributed group when
`WORLD_SIZE > 1` (torchrun-style env, NCCL on GPU, gloo on CPU), opens `trainyard.core.init()`,
restores the latest checkpoint and trains. Exit code 0 after the last searcher operation or a
preemption; 1 when the trial failed (a one-line message for a Trainyard error, otherwise the
traceback on stderr); 2 for a bad command line.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Sequence

from trainyard.errors import TrainyardError
from trainyard.pytorch._trial import PyTorchTrial

USAGE = "usage: python -m trainyard.pytorch.run pkg.module:TrialClass"


def load_trial_class(spec: str) -> type[PyTorchTrial]:
    """Import `pkg.module:TrialClass` (relative to the current directory) and check its type."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise TrainyardError(f"entrypoint {spec!r} must look like 'pkg.module:TrialClass'")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name and module_name.startswith(err.name):
            raise TrainyardError(
                f"entrypoint module {module_name!r} not found in {cwd}; "
                "run from the model directory"
            ) from None
        raise
    obj = getattr(module, attr, None)
    if not (isinstance(obj, type) and issubclass(obj, PyTorchTrial)):
        raise TrainyardError(f"entrypoint {spec!r} is not a PyTorchTrial subclass")
    return obj


def run(spec: str) -> None:
    """Train the trial class named by `spec` in this process (one rank)."""
    import torch.distributed as dist

    import trainyard.core as core
    from trainyard.pytorch._dist import init_process_group_from_env, shutdown_process_group
    from trainyard.pytorch._trainer import Trainer

    trial_cls = load_trial_class(spec)
    created = init_process_group_from_env()
    distributed = (
        core.DistributedContext.from_torch_distributed() if dist.is_initialized() else None
    )
    with core.init(distributed=distributed) as ctx:
        Trainer(trial_cls, ctx).fit()
    if created:
        shutdown_process_group()  # every rank together: no teardown under another rank


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry; returns the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr)
        return 2
    try:
        run(args[0])
    except TrainyardError as err:
        print(f"trainyard: error: {err}", file=sys.stderr, flush=True)
        return 1
    except BaseException:  # the trial failed: the traceback is the report
        traceback.print_exc()
        sys.stderr.flush()
        return 1
    return 0


if __name__ == "__main__":
    from trainyard.pytorch._dist import exit_process

    exit_process(main())
