"""Background batching of metric reports: the hot path only enqueues."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from trainyard.errors import TrainyardError

Post = Callable[[str, list[dict[str, Any]]], None]


@dataclass
class _Flush:
    done: threading.Event = field(default_factory=threading.Event)


_STOP = object()


class MetricsSender:
    """Sends queued reports in batches from one daemon thread.

    A batch goes out when `batch_size` reports are waiting, `interval_s` after its first report,
    or at `flush()`. The queue is bounded (`max_queue`): when the master is unreachable for long,
    `submit` blocks rather than dropping metrics. A failed delivery is re-raised by the next
    `flush()`; reports go to `post(group, reports)` in the order they were submitted.
    """

    def __init__(
        self,
        post: Post,
        *,
        max_queue: int = 10_000,
        batch_size: int = 500,
        interval_s: float = 1.0,
    ) -> None:
        self._post = post
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_queue)
        self._batch_size = batch_size
        self._interval_s = interval_s
        self._error: TrainyardError | None = None
        self._thread = threading.Thread(target=self._run, name="trainyard-metrics", daemon=True)
        self._thread.start()

    def submit(self, group: str, report: dict[str, Any]) -> None:
        """Enqueue one report for `group` (returns at once unless the queue is full)."""
        self._queue.put((group, report))

    def flush(self, timeout_s: float | None = None) -> None:
        """Wait until everything submitted so far was sent; raise the last delivery error."""
        marker = _Flush()
        self._queue.put(marker)
        marker.done.wait(timeout_s)
        self._raise_error()

    def close(self, timeout_s: float = 30.0) -> None:
        """Send what is queued and stop the thread."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout_s)
        self._raise_error()

    def _raise_error(self) -> None:
        if self._error is not None:
            err, self._error = self._error, None
            raise err

    def _run(self) -> None:
        pending: list[tuple[str, dict[str, Any]]] = []
        first_at = 0.0
        while True:
            timeout = (
                None if not pending else max(0.0, first_at + self._interval_s - time.monotonic())
            )
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                pending = self._send(pending)
                continue
            if item is _STOP:
                self._send(pending)
                return
            if isinstance(item, _Flush):
                pending = self._send(pending)
                item.done.set()
                continue
            if not pending:
                first_at = time.monotonic()
            pending.append(item)
            if len(pending) >= self._batch_size:
                pending = self._send(pending)

    def _send(self, pending: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
        by_group: dict[str, list[dict[str, Any]]] = {}
        for group, report in pending:
            by_group.setdefault(group, []).append(report)
        for group, reports in by_group.items():
            try:
                self._post(group, reports)
            except TrainyardError as err:
                self._error = err
        return []
