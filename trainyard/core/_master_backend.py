"""`MasterBackend`: the chief's link to the master over HTTP (`docs/trial-api.md`)."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any

import httpx

from trainyard.core._backend import Backend, MetricGroup
from trainyard.core._config import parse_config
from trainyard.core._errors import CoreUsageError, MasterError
from trainyard.core._http import MasterClient
from trainyard.core._info import TrialInfo
from trainyard.core._sender import MetricsSender
from trainyard.core._wire import describe_report


def _require_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise CoreUsageError(
            f"{name} is not set; the master sets it for trials it launches (unset "
            "TRAINYARD_MASTER_URL to run in local mode)"
        )
    return value


class MasterBackend(Backend):
    """Talks to the master as allocation `allocation_id` of trial `trial_id`.

    Metrics are sent in batches by a background thread; a second (daemon) thread long-polls
    preemption so `should_preempt()` only reads a flag. Transient connection errors are retried
    with backoff. `close()` flushes and returns at once; a long poll still in flight ends by
    itself (it never keeps the process alive).
    """

    def __init__(
        self,
        master_url: str,
        allocation_id: str,
        token: str | None,
        trial_id: int,
        *,
        preemption_poll_s: float = 30.0,
        retry_for_s: float = 120.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._aid = allocation_id
        self._tid = trial_id
        self._client = MasterClient(master_url, token, retry_for_s=retry_for_s, transport=transport)
        self._poll_client = MasterClient(master_url, token, retry_for_s=retry_for_s)
        self._poll_s = preemption_poll_s
        self._preempt = threading.Event()
        self._stopped = False
        self._closing = threading.Event()
        self._registered: list[tuple[int, str]] = []
        self._latest: str | None = None
        self._sender = MetricsSender(self._post_reports)
        self._poller = threading.Thread(
            target=self._poll_preemption, name="trainyard-preemption", daemon=True
        )
        self._poller.start()

    @classmethod
    def from_env(cls) -> MasterBackend:
        """Build from the variables the master's resource manager sets (see trial-api.md)."""
        return cls(
            _require_env("TRAINYARD_MASTER_URL"),
            _require_env("TRAINYARD_ALLOCATION_ID"),
            os.environ.get("TRAINYARD_ALLOCATION_TOKEN"),
            int(_require_env("TRAINYARD_TRIAL_ID")),
            preemption_poll_s=float(os.environ.get("TRAINYARD_PREEMPTION_POLL_S", "30")),
        )

    def trial_info(self) -> TrialInfo:
        data = self._client.get(f"/allocations/{self._aid}/info")
        raw_config = data.get("config") or {}
        storage_env = os.environ.get("TRAINYARD_CHECKPOINT_STORAGE")
        storage = json.loads(storage_env) if storage_env else raw_config.get("checkpoint_storage")
        self._latest = data.get("latest_checkpoint")
        return TrialInfo(
            trial_id=int(data.get("trial_id", self._tid)),
            experiment_id=data.get("experiment_id"),
            hparams=dict(data.get("hparams") or {}),
            trial_seed=int(data.get("trial_seed") or 0),
            latest_checkpoint=self._latest,
            slots=int(data.get("slots") or 1),
            restarts=int(data.get("trial_run_id") or 0),
            config=parse_config(raw_config) if raw_config else None,
            checkpoint_storage=dict(storage or {}),
        )

    # --- metrics and progress: queued, sent by the sender thread ---

    def report_metrics(
        self, group: MetricGroup, steps: int, metrics: Mapping[str, float | str]
    ) -> None:
        self._sender.submit(
            group, {"steps": steps, "metrics": dict(metrics), "timestamp": time.time()}
        )
        if group == "validation":  # training reports are too many for the trial log
            self.log(describe_report(group, steps, metrics))

    def report_progress(self, progress: float) -> None:
        self._sender.submit("progress", {"progress": progress})

    def _post_reports(self, group: str, reports: list[dict[str, Any]]) -> None:
        if group == "progress":
            self._client.post(f"/trials/{self._tid}/progress", reports[-1])
        else:
            self._client.post(f"/trials/{self._tid}/metrics", {"group": group, "reports": reports})

    def flush(self) -> None:
        self._sender.flush()

    def report_early_exit(self, reason: str, message: str | None = None) -> None:
        self.flush()
        body = {"reason": reason} if not message else {"reason": reason, "message": message}
        self._client.post(f"/trials/{self._tid}/early_exit", body)

    # --- checkpoints ---

    def register_checkpoint(
        self,
        uuid: str,
        steps: int,
        metadata: Mapping[str, Any],
        resources: Mapping[str, int],
        sharded: bool,
    ) -> None:
        self.flush()
        body = {
            "uuid": uuid,
            "steps": steps,
            "metadata": dict(metadata),
            "resources": dict(resources),
            "sharded": sharded,
        }
        self._client.post(f"/trials/{self._tid}/checkpoints", body)
        self._registered.append((steps, uuid))
        self.log(f"checkpoint {uuid} saved at steps={steps}")

    def experiment_best_validation(self) -> float | None:
        self.flush()
        answer = self._client.get(
            f"/trials/{self._tid}/searcher/experiment_best", not_found_ok=True
        )
        metric = None if answer is None else answer.get("metric")
        return None if metric is None else float(metric)

    def checkpoint_history(self) -> list[str]:
        answer = self._client.get(f"/trials/{self._tid}/checkpoints", not_found_ok=True)
        if answer is not None:
            rows = sorted(answer.get("checkpoints", []), key=lambda r: -int(r.get("steps", 0)))
            return [str(r["uuid"]) for r in rows]
        # An older master without the listing route: what this run registered, then the start.
        known = [uid for _, uid in sorted(self._registered, reverse=True)]
        return known + ([self._latest] if self._latest and self._latest not in known else [])

    # --- preemption and searcher ---

    def _poll_preemption(self) -> None:
        try:
            self._poll_until_preempted()
        finally:
            self._poll_client.close()

    def _poll_until_preempted(self) -> None:
        path = f"/allocations/{self._aid}/preemption"
        while not self._closing.is_set():
            try:
                answer = self._poll_client.get(
                    path, params={"timeout_seconds": self._poll_s}, timeout_s=self._poll_s + 15
                )
            except (MasterError, httpx.HTTPError, RuntimeError):
                if self._closing.wait(1.0):
                    return
                continue
            if answer.get("preempt"):
                if answer.get("reason") == "stop":
                    self._stopped = True
                self._preempt.set()
                return

    def should_preempt(self) -> bool:
        return self._preempt.is_set()

    def searcher_stopped(self) -> bool:
        return self._stopped

    def next_operation(self, after_length: int) -> int | None:
        delay = 0.05
        while True:
            answer = self._client.get(f"/trials/{self._tid}/searcher/operation")
            if answer.get("completed"):
                self._stopped = True
                return None
            length = answer.get("length")
            if length is not None and int(length) > after_length:
                return int(length)
            if self._preempt.wait(delay):
                return None
            delay = min(delay * 2, 1.0)

    def complete_operation(self, length: int, metric: float | str) -> None:
        self.flush()
        body = {"length": length, "metric": metric}
        self._client.post(f"/trials/{self._tid}/searcher/completed_operation", body)

    def log(self, message: str) -> None:
        print(f"[trainyard] {message}", file=sys.stdout, flush=True)

    def close(self) -> None:
        self._closing.set()
        self._poll_client.stop_retrying()
        try:
            self._sender.close()
        finally:
            # A long poll in flight cannot be interrupted; the daemon poller exits when it returns.
            self._client.close()
