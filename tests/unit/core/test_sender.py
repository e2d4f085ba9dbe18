"""MetricsSender: batching by size, by time and at flush; errors surface at flush."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from trainyard.core import MasterError
from trainyard.core._sender import MetricsSender


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.batches: list[tuple[str, list[dict[str, Any]]]] = []
        self.fail = fail
        self.lock = threading.Lock()

    def __call__(self, group: str, reports: list[dict[str, Any]]) -> None:
        if self.fail:
            raise MasterError("master answered 500")
        with self.lock:
            self.batches.append((group, reports))


def test_flush_delivers_everything_in_order_grouped() -> None:
    rec = Recorder()
    sender = MetricsSender(rec, batch_size=1000, interval_s=60)
    for i in range(10):
        sender.submit("training" if i % 2 else "validation", {"steps": i})
    sender.flush()
    assert rec.batches == [
        ("validation", [{"steps": i} for i in range(0, 10, 2)]),
        ("training", [{"steps": i} for i in range(1, 10, 2)]),
    ]
    sender.close()


def test_a_full_batch_goes_out_without_flush() -> None:
    rec = Recorder()
    sender = MetricsSender(rec, batch_size=5, interval_s=60)
    for i in range(12):
        sender.submit("training", {"steps": i})
    deadline = time.monotonic() + 5
    while len(rec.batches) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [len(r) for _, r in rec.batches] == [5, 5]
    sender.close()
    assert sum(len(r) for _, r in rec.batches) == 12


def test_a_partial_batch_goes_out_after_the_interval() -> None:
    rec = Recorder()
    sender = MetricsSender(rec, batch_size=1000, interval_s=0.05)
    sender.submit("training", {"steps": 1})
    deadline = time.monotonic() + 5
    while not rec.batches and time.monotonic() < deadline:
        time.sleep(0.01)
    assert rec.batches == [("training", [{"steps": 1}])]
    sender.close()


def test_delivery_errors_are_raised_by_the_next_flush() -> None:
    sender = MetricsSender(Recorder(fail=True))
    sender.submit("training", {"steps": 1})
    with pytest.raises(MasterError, match="500"):
        sender.flush()
    sender.flush()  # reported once
    sender.close()
