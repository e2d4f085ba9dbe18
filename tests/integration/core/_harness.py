"""One interface over both Core API backends, so a single contract suite runs against each.

`LocalHarness` reads the run folder; `_real_master.RealMasterHarness` reads what a real master
stored. Both satisfy `Harness`.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Protocol

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


class Harness(Protocol):
    """What the contract suite needs of a backend's platform side."""

    name: str
    expected_lengths: ClassVar[list[int]]
    storage_root: Path

    def env(self) -> dict[str, str]: ...
    def init(self, **kw: Any) -> core.Context: ...
    def reports(self, group: str) -> list[tuple[int, dict[str, float]]]: ...
    def completed(self) -> list[tuple[int, float]]: ...
    def early_exits(self) -> list[str]: ...
    def checkpoints(self) -> list[tuple[str, int]]: ...
    def request_preemption(self) -> None: ...
    def close(self) -> None: ...


def same_float(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b
