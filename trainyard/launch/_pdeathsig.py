"""Parent-death signal for a child started with `subprocess.Popen(preexec_fn=...)`.

The in-process twin of `_die_with_parent.py`: same effect (the child is SIGKILLed when the process
that started it dies), without starting an extra interpreter first.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable

__all__ = ["parent_death_preexec"]

_PR_SET_PDEATHSIG = 1


def parent_death_preexec() -> Callable[[], None] | None:
    """A `preexec_fn` arming SIGKILL-on-parent-death (Linux), or None where that is unavailable.

    libc is loaded here, in the parent: the returned function only calls `prctl` in the forked
    child, and exits the child at once (status 1) if the parent already died before it was armed.
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    kill = int(signal.SIGKILL)

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, kill, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return arm
