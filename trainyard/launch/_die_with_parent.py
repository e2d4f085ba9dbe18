"""Run a command that is SIGKILLed when the process that started it dies.

Executed as a script (`python -S _die_with_parent.py cmd...`), never imported: it sets Linux's
parent-death signal and then `exec`s the command, which keeps the setting. torchrun starts its
workers in sessions of their own, so without this a SIGKILL to the allocation's process group
(what the resource manager sends after the grace period) would leave the workers running.
Elsewhere than Linux it just runs the command.
"""

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def main() -> None:
    argv = sys.argv[1:]
    if not argv:
        sys.exit("usage: _die_with_parent.py command [args...]")
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the signal was armed
        sys.exit(1)
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main()
