"""`LocalBackend`: a trial without a master — a run folder, console output, a file flag.

Layout of `run_dir`: `metrics.jsonl` (one line per report), `checkpoints/` (SharedFSStorage),
`checkpoints.jsonl` (registered checkpoints), `events.jsonl` (progress, searcher completions,
early exits), and an optional `PREEMPT` file: create it (or send SIGTERM) to preempt the trial.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import FrameType
from typing import IO, Any

from trainyard.core._backend import Backend, MetricGroup
from trainyard.core._config import default_hparams, searcher_length
from trainyard.core._errors import CoreUsageError
from trainyard.core._info import TrialInfo
from trainyard.core._wire import describe_report

PREEMPT_FLAG = "PREEMPT"
FLAG_CHECK_SECONDS = 0.2
"""How often, at most, `should_preempt()` looks for the flag file (a file-system call each time)."""


def _length_override() -> int | None:
    raw = os.environ.get("TRAINYARD_LOCAL_LENGTH")
    if not raw:
        return None
    if not raw.isdigit() or int(raw) <= 0:
        raise CoreUsageError(f"TRAINYARD_LOCAL_LENGTH={raw!r} must be a positive integer")
    return int(raw)


class LocalBackend(Backend):
    """Runs one trial on this machine: one searcher operation of the config's `max_length`.

    The trial resumes from the newest checkpoint registered in `run_dir` (delete the folder to
    start fresh). A `PREEMPT` file left from an earlier run is removed at start.
    """

    def __init__(
        self,
        run_dir: str | os.PathLike[str],
        *,
        config: Any = None,
        hparams: Mapping[str, Any] | None = None,
        echo: bool = True,
        handle_sigterm: bool = True,
    ) -> None:
        self.run_dir = Path(run_dir).resolve()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._config = config
        self._hparams = dict(hparams) if hparams is not None else default_hparams(config)
        self._length = _length_override() or searcher_length(config)
        self._echo = echo
        self._done = False
        self._signalled = threading.Event()
        self._flag = self.run_dir / PREEMPT_FLAG
        self._flag.unlink(missing_ok=True)
        self._flag_seen = False
        self._next_flag_check = 0.0
        self._metrics: IO[str] = open(self.run_dir / "metrics.jsonl", "a", encoding="utf-8")  # noqa: SIM115  # kept open for the trial's life, closed in close()
        self._previous_handler: Any = None
        if handle_sigterm and threading.current_thread() is threading.main_thread():
            self._previous_handler = signal.signal(signal.SIGTERM, self._on_sigterm)

    def _on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        self._signalled.set()

    def _append(self, name: str, record: Mapping[str, Any]) -> None:
        with open(self.run_dir / name, "a", encoding="utf-8") as f:
            f.write(json.dumps({**record, "timestamp": time.time()}) + "\n")

    def _registered(self) -> list[dict[str, Any]]:
        path = self.run_dir / "checkpoints.jsonl"
        if not path.is_file():
            return []
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        return sorted(rows, key=lambda r: (-int(r["steps"]), -float(r["timestamp"])))

    def trial_info(self) -> TrialInfo:
        registered = self._registered()
        latest = str(registered[0]["uuid"]) if registered else None
        if latest is not None:
            self.log(f"resuming from checkpoint {latest} in {self.run_dir} (delete it to restart)")
        seed = getattr(getattr(self._config, "reproducibility", None), "experiment_seed", 0)
        return TrialInfo(
            trial_id=None,
            experiment_id=None,
            hparams=self._hparams,
            trial_seed=int(seed or 0),
            latest_checkpoint=latest,
            slots=int(os.environ.get("WORLD_SIZE", "1")),
            restarts=0,
            config=self._config,
            checkpoint_storage={
                "type": "shared_fs",
                "host_path": str(self.run_dir / "checkpoints"),
            },
        )

    def report_metrics(
        self, group: MetricGroup, steps: int, metrics: Mapping[str, float | str]
    ) -> None:
        record = {
            "group": group,
            "steps": steps,
            "metrics": dict(metrics),
            "timestamp": time.time(),
        }
        self._metrics.write(json.dumps(record) + "\n")
        self.log(describe_report(group, steps, metrics))

    def flush(self) -> None:
        self._metrics.flush()

    def report_progress(self, progress: float) -> None:
        self._append("events.jsonl", {"event": "progress", "progress": progress})

    def report_early_exit(self, reason: str, message: str | None = None) -> None:
        self.flush()
        event = {"event": "early_exit", "reason": reason}
        if message:
            event["message"] = message
        self._append("events.jsonl", event)
        self.log(f"trial exited early: {reason}" + (f": {message}" if message else ""))

    def register_checkpoint(
        self,
        uuid: str,
        steps: int,
        metadata: Mapping[str, Any],
        resources: Mapping[str, int],
        sharded: bool,
    ) -> None:
        record = {"uuid": uuid, "steps": steps, "metadata": dict(metadata), "sharded": sharded}
        self._append("checkpoints.jsonl", {**record, "resources": dict(resources)})
        self.log(f"checkpoint {uuid} saved at steps={steps}")

    def checkpoint_history(self) -> list[str]:
        return [str(r["uuid"]) for r in self._registered()]

    def should_preempt(self) -> bool:
        """SIGTERM is seen at once; the flag file within `FLAG_CHECK_SECONDS` of its creation."""
        if self._signalled.is_set() or self._flag_seen:
            return True
        now = time.monotonic()
        if now >= self._next_flag_check:
            self._next_flag_check = now + FLAG_CHECK_SECONDS
            self._flag_seen = self._flag.exists()
        return self._flag_seen

    def searcher_stopped(self) -> bool:
        return self._done

    def next_operation(self, after_length: int) -> int | None:
        if self._length is None:
            raise CoreUsageError(
                "local mode needs a training length: set searcher.max_length in the config "
                "(TRAINYARD_CONFIG) or the TRAINYARD_LOCAL_LENGTH environment variable"
            )
        if self._done or self.should_preempt() or self._length <= after_length:
            return None
        return self._length

    def complete_operation(self, length: int, metric: float | str) -> None:
        self.flush()
        self._append(
            "events.jsonl", {"event": "completed_operation", "length": length, "metric": metric}
        )
        if self._length is not None and length >= self._length:
            self._done = True

    def log(self, message: str) -> None:
        if self._echo:
            print(f"[trainyard] {message}", file=sys.stdout, flush=True)

    def close(self) -> None:
        self._metrics.close()
        if self._previous_handler is not None:
            signal.signal(signal.SIGTERM, self._previous_handler)
            self._previous_handler = None
