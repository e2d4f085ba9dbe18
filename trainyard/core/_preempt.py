"""`PreemptContext`: should this trial stop now so the platform can reuse its slots?"""

from __future__ import annotations

from trainyard.core._backend import Backend
from trainyard.core._distributed import DistributedContext


class PreemptContext:
    """`should_preempt()` is cheap (a cached flag) and all ranks get the same answer.

    With several ranks it is a collective (the chief's answer is broadcast): call it from every
    rank at the same point, e.g. after each batch. Once True it stays True without communicating.

    >>> if ctx.preempt.should_preempt():
    ...     save_checkpoint(); return
    """

    def __init__(self, backend: Backend | None, dist: DistributedContext) -> None:
        self._backend = backend
        self._dist = dist
        self._decided = False

    def should_preempt(self) -> bool:
        """True when the platform asked the trial to checkpoint and exit (exit code 0)."""
        if self._decided:
            return True
        value = self._backend.should_preempt() if self._backend is not None else False
        if self._dist.size > 1:
            value = bool(self._dist.broadcast_int(int(value)))
        self._decided = value
        return value
