"""One interface over both Core API backends, so a single contract suite runs against each.

`LocalHarness` reads the run folder; `MasterHarness` reads what the stub master received.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from _stub_master import StubMaster

import trainyard.core as core
from trainyard.core._wire import decode_float


def decode(metrics: dict[str, Any]) -> dict[str, float]:
    return {k: decode_float(v) for k, v in metrics.items()}


@contextmanager
def patched_env(env: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class LocalHarness:
    name = "local"
    expected_lengths: ClassVar[list[int]] = [25]

    def __init__(self, tmp: Path) -> None:
        self.run_dir = tmp / "run"
        self.storage_root = self.run_dir / "checkpoints"

    def env(self) -> dict[str, str]:
        return {"TRAINYARD_RUN_DIR": str(self.run_dir), "TRAINYARD_LOCAL_LENGTH": "25"}

    def init(self, **kw: Any) -> core.Context:
        with patched_env(self.env()):
            return core.init(**kw)

    def _lines(self, name: str) -> list[dict[str, Any]]:
        path = self.run_dir / name
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def reports(self, group: str) -> list[tuple[int, dict[str, float]]]:
        rows = [r for r in self._lines("metrics.jsonl") if r["group"] == group]
        return [(r["steps"], decode(r["metrics"])) for r in rows]

    def completed(self) -> list[tuple[int, float]]:
        rows = [r for r in self._lines("events.jsonl") if r["event"] == "completed_operation"]
        return [(r["length"], decode_float(r["metric"])) for r in rows]

    def early_exits(self) -> list[str]:
        return [r["reason"] for r in self._lines("events.jsonl") if r["event"] == "early_exit"]

    def checkpoints(self) -> list[tuple[str, int]]:
        return [(r["uuid"], r["steps"]) for r in self._lines("checkpoints.jsonl")]

    def request_preemption(self) -> None:
        (self.run_dir / "PREEMPT").touch()

    def close(self) -> None:
        pass


class MasterHarness:
    name = "master"
    expected_lengths: ClassVar[list[int]] = [10, 25]

    def __init__(self, tmp: Path) -> None:
        self.storage_root = tmp / "storage"
        self.stub = StubMaster(operations=[10, 25]).start()

    def env(self) -> dict[str, str]:
        storage = {"type": "shared_fs", "host_path": str(self.storage_root)}
        return self.stub.env(
            TRAINYARD_CHECKPOINT_STORAGE=json.dumps(storage), TRAINYARD_PREEMPTION_POLL_S="2"
        )

    def init(self, **kw: Any) -> core.Context:
        with patched_env(self.env()):
            return core.init(**kw)

    def reports(self, group: str) -> list[tuple[int, dict[str, float]]]:
        with self.stub.lock:
            rows = sorted(self.stub.metrics[group].values(), key=lambda r: r["steps"])
        return [(r["steps"], decode(r["metrics"])) for r in rows]

    def completed(self) -> list[tuple[int, float]]:
        return [(length, decode_float(m)) for length, m in self.stub.completed]

    def early_exits(self) -> list[str]:
        return list(self.stub.early_exits)

    def checkpoints(self) -> list[tuple[str, int]]:
        return [(c["uuid"], c["steps"]) for c in self.stub.checkpoints]

    def request_preemption(self) -> None:
        self.stub.request_preemption()

    def close(self) -> None:
        self.stub.stop()


Harness = LocalHarness | MasterHarness


def same_float(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b
