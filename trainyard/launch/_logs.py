"""Shipping the ranks' output lines to the master in batches."""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from trainyard.core import MasterError
from trainyard.core._http import MasterClient


class LogShipper:
    """Posts `{"lines": [...]}` to `/allocations/{aid}/logs` from a daemon thread.

    A batch goes out every `interval_s` or at `batch_size` lines. A batch the master cannot take
    (after retrying for `retry_for_s`) is dropped with one warning on stderr: losing log lines
    must never stop training.

    Every line gets `seq` (0, 1, 2, ... within the allocation) and, with `spool`, is appended
    to that file as one JSON object per line *before* it is queued. The master stores a
    `(allocation, seq)` once, so a resent batch is not doubled, and after a master restart it
    ingests the spool, so a dropped batch is not lost either.
    """

    def __init__(
        self,
        master_url: str,
        allocation_id: str,
        token: str | None,
        *,
        interval_s: float = 1.0,
        batch_size: int = 1000,
        retry_for_s: float = 10.0,
        spool: Path | None = None,
    ) -> None:
        self._client = MasterClient(master_url, token, retry_for_s=retry_for_s)
        self._path = f"/allocations/{allocation_id}/logs"
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._interval_s = interval_s
        self._batch_size = batch_size
        self._seq = 0
        self._lock = threading.Lock()
        self._spool: IO[str] | None = None
        if spool is not None:
            try:
                spool.parent.mkdir(parents=True, exist_ok=True)
                self._spool = spool.open("a", encoding="utf-8")
            except OSError as err:  # the API still gets the lines
                print(f"[launcher] cannot write log spool {spool}: {err}", file=sys.stderr)
        self._thread = threading.Thread(target=self._run, name="trainyard-logs", daemon=True)
        self._thread.start()

    @classmethod
    def from_env(cls) -> LogShipper | None:
        """A shipper for this allocation when `TRAINYARD_MASTER_URL` is set, else None."""
        url = os.environ.get("TRAINYARD_MASTER_URL")
        aid = os.environ.get("TRAINYARD_ALLOCATION_ID")
        if not url or not aid:
            return None
        spool = os.environ.get("TRAINYARD_LOG_SPOOL")
        token = os.environ.get("TRAINYARD_ALLOCATION_TOKEN")
        return cls(url, aid, token, spool=Path(spool) if spool else None)

    def add(self, rank: int | None, stream: str, line: str) -> None:
        """Number, spool and queue one line (without its newline)."""
        with self._lock:
            item = {
                "rank": rank,
                "stream": stream,
                "timestamp": time.time(),
                "line": line,
                "seq": self._seq,
            }
            self._seq += 1
            if self._spool is not None:
                try:
                    self._spool.write(json.dumps(item) + "\n")
                    self._spool.flush()
                except OSError:  # a full disk must not stop training; the API gets the line
                    pass
        self._queue.put(item)

    def close(self, timeout_s: float = 15.0) -> None:
        """Send what is queued, then stop."""
        self._queue.put(None)
        self._thread.join(timeout_s)
        self._client.close()
        with self._lock:
            if self._spool is not None:
                self._spool.close()
                self._spool = None

    def _run(self) -> None:
        batch: list[dict[str, Any]] = []
        deadline = time.monotonic() + self._interval_s
        while True:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                item = {}
            if item is None:
                self._send(batch)
                return
            if item:
                batch.append(item)
            if len(batch) >= self._batch_size or (batch and time.monotonic() >= deadline):
                self._send(batch)
                batch = []
            if time.monotonic() >= deadline:
                deadline = time.monotonic() + self._interval_s

    def _send(self, batch: list[dict[str, Any]]) -> None:
        if not batch:
            return
        try:
            self._client.post(self._path, {"lines": batch})
        except MasterError as err:
            print(f"[launcher] dropped {len(batch)} log lines: {err}", file=sys.stderr, flush=True)
