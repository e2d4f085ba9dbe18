"""A stand-in master implementing docs/trial-api.md over real HTTP on 127.0.0.1.

Just enough server for the Core API contract suite and the launcher tests; once the real master
lands, the same suite can point at it instead. Thread-safe; every request is recorded.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


class StubMaster:
    """One allocation (`alloc-1`, token `tok-1`) of one trial (`trial_id`).

    `operations` are the cumulative lengths the searcher hands out, one after another, each
    advanced when the trial reports it completed. `fail_next(n)` answers the next n requests 503.
    """

    def __init__(
        self,
        *,
        trial_id: int = 7,
        hparams: dict[str, Any] | None = None,
        operations: list[int] | None = None,
        config: dict[str, Any] | None = None,
        list_checkpoints_route: bool = True,
    ) -> None:
        self.allocation_id = "alloc-1"
        self.token = "tok-1"
        self.trial_id = trial_id
        self.hparams = hparams if hparams is not None else {"lr": 0.1}
        self.operations = list(operations or [10, 25])
        self.config = config or {}
        self.list_checkpoints_route = list_checkpoints_route
        self.lock = threading.Lock()
        self.preempt = threading.Event()
        self.preempt_reason = "preempt"
        self.metrics: dict[str, dict[int, dict[str, Any]]] = {"training": {}, "validation": {}}
        self.metric_posts = 0
        self.completed: list[tuple[int, Any]] = []
        self.progress: list[float] = []
        self.early_exits: list[str] = []
        self.checkpoints: list[dict[str, Any]] = []
        self.logs: list[dict[str, Any]] = []
        self.requests: Counter[str] = Counter()
        self._failures = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> StubMaster:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.preempt.set()  # ends pending long polls
        self._server.shutdown()
        self._server.server_close()

    def env(self, **extra: str) -> dict[str, str]:
        """The variables the master's resource manager would set for this allocation."""
        return {
            "TRAINYARD_MASTER_URL": self.url,
            "TRAINYARD_ALLOCATION_ID": self.allocation_id,
            "TRAINYARD_ALLOCATION_TOKEN": self.token,
            "TRAINYARD_TRIAL_ID": str(self.trial_id),
            "TRAINYARD_EXPERIMENT_ID": "3",
            **extra,
        }

    def fail_next(self, count: int) -> None:
        with self.lock:
            self._failures = count

    def request_preemption(self, reason: str = "preempt") -> None:
        self.preempt_reason = reason
        self.preempt.set()

    def _current_operation(self) -> dict[str, Any]:
        done = {length for length, _ in self.completed}
        for length in self.operations:
            if length not in done:
                return {"length": length, "completed": False}
        return {"length": None, "completed": True}

    # --- routing ---

    def route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Any:
        aid, tid = self.allocation_id, self.trial_id
        key = f"{method} {re.sub(r'/trials/[0-9]+/', '/trials/{tid}/', path)}"
        with self.lock:
            self.requests[key] += 1
        if (method, path) == ("GET", f"/api/v1/allocations/{aid}/info"):
            latest = (
                max(self.checkpoints, key=lambda c: c["steps"])["uuid"]
                if self.checkpoints
                else None
            )
            return {
                "trial_id": tid,
                "experiment_id": 3,
                "hparams": self.hparams,
                "trial_seed": 1234,
                "latest_checkpoint": latest,
                "slots": 1,
                "config": self.config,
                "trial_run_id": 0,
            }
        if (method, path) == ("GET", f"/api/v1/allocations/{aid}/preemption"):
            timeout = min(float(query.get("timeout_seconds", ["60"])[0]), 60.0)
            fired = self.preempt.wait(timeout)
            return {"preempt": fired, "reason": self.preempt_reason if fired else None}
        if (method, path) == ("GET", f"/api/v1/trials/{tid}/searcher/operation"):
            with self.lock:
                return self._current_operation()
        if (method, path) == ("GET", f"/api/v1/trials/{tid}/checkpoints"):
            if not self.list_checkpoints_route:
                return 404
            rows = sorted(self.checkpoints, key=lambda c: -c["steps"])
            return {"checkpoints": [{"uuid": c["uuid"], "steps": c["steps"]} for c in rows]}
        if (method, path) == ("POST", f"/api/v1/allocations/{aid}/logs"):
            with self.lock:
                self.logs.extend(body["lines"])
            return {}
        return self._route_trial_post(method, path, body)

    def _route_trial_post(self, method: str, path: str, body: Any) -> Any:
        prefix = f"/api/v1/trials/{self.trial_id}/"
        if method != "POST" or not path.startswith(prefix):
            return 404
        action = path[len(prefix) :]
        with self.lock:
            if action == "metrics":
                self.metric_posts += 1
                for report in body["reports"]:
                    self.metrics[body["group"]][report["steps"]] = report
            elif action == "searcher/completed_operation":
                self.completed.append((body["length"], body["metric"]))
            elif action == "progress":
                self.progress.append(body["progress"])
            elif action == "early_exit":
                self.early_exits.append(body["reason"])
            elif action == "checkpoints":
                self.checkpoints.append(body)
            else:
                return 404
        return {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _answer(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the client gave up (a long poll at exit)
                    self.wfile.write(data)

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                with stub.lock:
                    failing = stub._failures > 0
                    stub._failures -= 1 if failing else 0
                if failing:
                    return self._answer(503, {"detail": "injected failure"})
                if self.headers.get("Authorization") != f"Bearer {stub.token}":
                    return self._answer(403, {"detail": "bad allocation token"})
                url = urlparse(self.path)
                body = json.loads(raw) if raw else None
                result = stub.route(method, url.path, parse_qs(url.query), body)
                if result == 404:
                    return self._answer(404, {"detail": f"no route {method} {url.path}"})
                return self._answer(200, result)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

        return Handler


def wait_for(predicate: Any, timeout_s: float = 10.0) -> None:
    """Poll `predicate()` until true; fail the test after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)
