"""Helpers of the browser tests, `docs/screenshots.py` and `bench/ui_paint.py`.

- `StoreService`: the runtime's lifecycle actions reduced to their store writes (pause, activate,
  cancel, kill, priority, fork, archive, delete, kill and continue a trial) and a cluster view
  built from the trials' states, so pages can be driven against a seeded store without running
  trials.
- `serve(settings, service_factory)`: the real `create_app` under uvicorn on a free 127.0.0.1
  port in a thread.
- `seed_search(db, ...)`: an adaptive-ASHA-shaped search written through the store's repository
  functions (many short trials, few long ones), with logs, checkpoints and restart events.
"""

from __future__ import annotations

import math
import threading
import time
import uuid as uuidlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page

from trainyard.config import config_to_dict, load_experiment_config
from trainyard.errors import InvalidTransitionError
from trainyard.master.app import create_app
from trainyard.master.db import Database, Trial
from trainyard.master.db import checkpoints as checkpoints_repo
from trainyard.master.db import experiments as experiments_repo
from trainyard.master.db import logs as logs_repo
from trainyard.master.db import metrics as metrics_repo
from trainyard.master.db import trials as trials_repo
from trainyard.master.settings import MasterSettings
from trainyard.master.states import ExperimentState, TrialState

CONFIG_YAML = """
name: {name}
entrypoint: python3 train.py
labels: [demo, asha]
hyperparameters:
  lr: {{type: log, minval: -4, maxval: -1, base: 10}}
  dropout: {{type: double, minval: 0.0, maxval: 0.5}}
  optimizer: {{type: categorical, vals: [adam, sgd]}}
  layers: {{type: int, minval: 1, maxval: 4}}
searcher:
  name: adaptive_asha
  metric: val_loss
  smaller_is_better: true
  max_trials: {n}
  max_length: {{batches: {length}}}
  divisor: 3
  max_rungs: 3
max_restarts: 2
"""


class StoreService:
    """Lifecycle actions straight on the store; trial-side handlers are not needed here."""

    def __init__(self, settings: MasterSettings, db: Database) -> None:
        self.settings = settings
        self.db = db

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def _move(self, experiment_id: int, *targets: ExperimentState) -> None:
        for target in targets:
            with self.db.session() as session:
                row = experiments_repo.set_experiment_state(session, experiment_id, target)
                if target.is_terminal:
                    row.ended_at = time.time()

    def pause_experiment(self, experiment_id: int) -> None:
        self._move(experiment_id, ExperimentState.PAUSED)

    def activate_experiment(self, experiment_id: int) -> None:
        self._move(experiment_id, ExperimentState.ACTIVE)

    def cancel_experiment(self, experiment_id: int) -> None:
        self._move(experiment_id, ExperimentState.STOPPING_CANCELED, ExperimentState.CANCELED)

    def kill_experiment(self, experiment_id: int) -> None:
        self._move(experiment_id, ExperimentState.STOPPING_KILLED, ExperimentState.CANCELED)

    def archive_experiment(self, experiment_id: int) -> None:
        with self.db.session() as session:
            experiments_repo.set_archived(session, experiment_id, True)

    def unarchive_experiment(self, experiment_id: int) -> None:
        with self.db.session() as session:
            experiments_repo.set_archived(session, experiment_id, False)

    def delete_experiment(self, experiment_id: int) -> None:
        with self.db.session() as session:
            state = ExperimentState(experiments_repo.get_experiment(session, experiment_id).state)
            if not state.is_terminal:
                raise InvalidTransitionError(
                    f"cannot delete experiment {experiment_id}: it is {state.value}; "
                    "cancel it first"
                )
            experiments_repo.set_experiment_state(session, experiment_id, ExperimentState.DELETING)

        def rows_go() -> None:  # like the runtime: DELETING now, the rows a moment later
            time.sleep(0.5)
            with self.db.session() as session:
                experiments_repo.delete_experiment(session, experiment_id)

        threading.Thread(target=rows_go, daemon=True).start()

    def kill_trial(self, trial_id: int) -> None:
        with self.db.session() as session:
            trials_repo.set_trial_state(session, trial_id, TrialState.STOPPING_KILLED)
            trials_repo.set_trial_state(session, trial_id, TrialState.CANCELED)

    def continue_trial(
        self, trial_id: int, *, checkpoint_uuid: str | None, max_length: int | None
    ) -> tuple[int, int]:
        with self.db.session() as session:
            old = trials_repo.get_trial(session, trial_id)
            if not TrialState(old.state).is_terminal:
                raise InvalidTransitionError(
                    f"cannot continue trial {trial_id}: it is {old.state}; wait until it ends"
                )
            hparams = old.hparams
            experiment_id = old.experiment_id
        new_id = self.fork_experiment(experiment_id, None, owner_id=1)
        with self.db.session() as session:
            trial = trials_repo.create_trial(session, new_id, 1, hparams, seed=0)
            return new_id, trial.id

    def set_priority(self, experiment_id: int, priority: int) -> None:
        with self.db.session() as session:
            experiments_repo.set_priority(session, experiment_id, priority)

    def fork_experiment(
        self, experiment_id: int, config_yaml: str | None, *, owner_id: int | None
    ) -> int:
        with self.db.session() as session:
            old = experiments_repo.get_experiment(session, experiment_id)
            new = experiments_repo.create_experiment(
                session,
                name=old.name,
                config=old.config,
                config_yaml=config_yaml or old.config_yaml,
                searcher_metric=old.searcher_metric,
                smaller_is_better=old.smaller_is_better,
                owner_id=owner_id,
                parent_id=old.id,
                labels=old.labels,
            )
            return new.id

    def cluster_state(self) -> dict[str, Any]:
        with self.db.session(read_only=True) as session:
            running = trials_repo.list_trials(session, states=[TrialState.RUNNING])
            queued = trials_repo.list_trials(session, states=[TrialState.QUEUED])
            busy = [(t.id, t.experiment_id) for t in running]
            waiting = [(t.id, t.experiment_id, t.created_at) for t in queued]
        pool = self.settings.resource_pools[0]
        slots = [
            {
                "index": i,
                "allocation_id": f"alloc-{busy[i][0]}" if i < len(busy) else None,
                "trial_id": busy[i][0] if i < len(busy) else None,
                "experiment_id": busy[i][1] if i < len(busy) else None,
            }
            for i in range(pool.slots)
        ]
        allocations = [
            {
                "id": f"alloc-{tid}",
                "trial_id": tid,
                "experiment_id": eid,
                "pool": pool.name,
                "slots": [i],
                "state": "RUNNING",
                "priority": 42,
                "started_at": time.time(),
            }
            for i, (tid, eid) in enumerate(busy[: pool.slots])
        ]
        queue = [
            {
                "position": i + 1,
                "trial_id": tid,
                "experiment_id": eid,
                "pool": pool.name,
                "slots_needed": 1,
                "priority": 42,
                "queued_at": at,
            }
            for i, (tid, eid, at) in enumerate(waiting)
        ]
        return {
            "pools": [
                {
                    "name": pool.name,
                    "slot_type": pool.slot_type,
                    "slots": pool.slots,
                    "used_slots": len(allocations),
                    "slots_detail": slots,
                }
            ],
            "allocations": allocations,
            "queue": queue,
        }


@dataclass
class Served:
    url: str
    token: str
    db: Database


@contextmanager
def serve(
    settings: MasterSettings,
    service_factory: Callable[[MasterSettings, Database], Any] = StoreService,
) -> Iterator[Served]:
    """Run the real app (with `service_factory` as runtime) on a free port until exit."""
    app = create_app(settings, service_factory=service_factory, announce=lambda _m: None)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the UI test server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        token = settings.admin_token_path.read_text().strip()
        yield Served(f"http://127.0.0.1:{port}", token, app.state.ctx.db)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class SeededSearch:
    experiment_id: int
    trial_ids: list[int]
    lengths: dict[int, int]
    """trial id → length trained."""
    rungs: list[int]


def _hparams(rng: np.random.Generator) -> dict[str, Any]:
    return {
        "lr": float(10 ** rng.uniform(-4, -1)),
        "dropout": float(rng.uniform(0, 0.5)),
        "optimizer": str(rng.choice(["adam", "sgd"])),
        "layers": int(rng.integers(1, 5)),
    }


def _loss(hp: dict[str, Any], steps: int, noise: float) -> float:
    base = 0.08 * (math.log10(hp["lr"]) + 2.5) ** 2 + 0.15 * hp["dropout"]
    base += 0.06 * (hp["optimizer"] == "sgd") + 0.01 * hp["layers"]
    return float(base + 1.5 / math.sqrt(steps) + noise)


def seed_search(
    db: Database,
    *,
    name: str = "digits-adaptive",
    n_trials: int = 27,
    max_length: int = 900,
    train_every: int = 10,
    val_every: int = 100,
    running: int = 0,
    queued: int = 0,
    seed: int = 0,
    with_extras: bool = True,
) -> SeededSearch:
    """An ASHA-shaped search: of every 9 trials, 6 stop at max_length/9, 2 at /3, 1 at full.

    Each trial reports training `loss` every `train_every` batches and validation `val_loss` and
    `accuracy` every `val_every` batches and at its rung's end. The last `running` trials are
    RUNNING, `queued` more are QUEUED with no metrics; the experiment is ACTIVE when any trial is
    running or queued, else COMPLETED.
    """
    rng = np.random.default_rng(seed)
    config_yaml = CONFIG_YAML.format(name=name, n=n_trials + queued, length=max_length)
    config = config_to_dict(load_experiment_config(config_yaml))
    rungs = [max_length // 9, max_length // 3, max_length]
    pattern = [0, 0, 1, 0, 0, 2, 0, 0, 1]
    active = running > 0 or queued > 0
    with db.session() as session:
        exp = experiments_repo.create_experiment(
            session,
            name=name,
            config=config,
            config_yaml=config_yaml.lstrip(),
            searcher_metric="val_loss",
            smaller_is_better=True,
            owner_id=1,
            labels=["demo", "asha"],
            description="adaptive ASHA over a small CNN",
        )
        experiment_id = exp.id
    trial_ids: list[int] = []
    lengths: dict[int, int] = {}
    for i in range(n_trials + queued):
        hp = _hparams(rng)
        is_queued = i >= n_trials
        length = 0 if is_queued else rungs[pattern[i % 9]]
        with db.session() as session:
            trial = trials_repo.create_trial(session, experiment_id, i + 1, hp, seed=i)
            tid = trial.id
            if not is_queued:
                trial.state = TrialState.RUNNING.value
                trial.started_at = time.time() - 600 + i
        noise = float(rng.normal(0, 0.01))
        train = [
            {
                "steps": s,
                "metrics": {"loss": _loss(hp, s, noise) + float(rng.normal(0, 0.02))},
                "timestamp": time.time(),
            }
            for s in range(train_every, length + 1, train_every)
        ]
        val_steps = sorted(
            {*range(val_every, length + 1, val_every), *[r for r in rungs if r <= length]}
        )
        val = [
            {
                "steps": s,
                "metrics": {
                    "val_loss": _loss(hp, s, noise),
                    "accuracy": 1.0 - _loss(hp, s, noise) / 2,
                },
                "timestamp": time.time(),
            }
            for s in val_steps
        ]
        with db.session() as session:
            if train:
                metrics_repo.add_metrics(session, tid, "training", train)
            if val:
                metrics_repo.add_metrics(session, tid, "validation", val)
            row = session.get(Trial, tid)
            assert row is not None
            row.completed_length = length
            is_running = not is_queued and i >= n_trials - running
            if not is_queued and not is_running:
                row.state = TrialState.COMPLETED.value
                row.closed = True
                row.ended_at = time.time() - 300 + i
            if is_running:
                row.target_length = rungs[min(pattern[i % 9] + 1, 2)]
        if with_extras and not is_queued and length:
            _extras(db, tid, length, hp, i)
        trial_ids.append(tid)
        lengths[tid] = length
    with db.session() as session:
        exp = experiments_repo.get_experiment(session, experiment_id)
        exp.progress = 0.6 if active else 1.0
        if not active:
            exp.state = ExperimentState.COMPLETED.value
            exp.ended_at = time.time()
    return SeededSearch(experiment_id, trial_ids, lengths, rungs)


def _extras(db: Database, tid: int, length: int, hp: dict[str, Any], i: int) -> None:
    with db.session() as session:
        lines = [
            {"rank": 0, "stream": "stdout", "line": f"trial {tid}: starting with lr={hp['lr']:.4g}"}
        ]
        lines += [
            {"rank": 0, "stream": "stdout", "line": f"batch {s}: training"}
            for s in range(100, length + 1, 100)
        ]
        lines.append({"rank": 0, "stream": "stdout", "line": f"trial {tid}: validated at {length}"})
        logs_repo.add_logs(session, tid, lines, allocation_id=f"alloc-{tid}")
        checkpoints_repo.register_checkpoint(
            session,
            tid,
            uuid=str(uuidlib.UUID(int=tid)),
            steps_completed=length,
            metadata={"steps_completed": length},
            resources={"model.pt": 4096 + tid, "opt.pt": 2048},
        )
        if i % 9 == 4:
            trials_repo.record_restart(
                session, tid, reason="worker exited with code 1", exit_code=1
            )
        trials_repo.record_event(session, tid, "exit", reason="validated", exit_code=0)


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@dataclass
class SeededUI:
    served: Served
    done: SeededSearch
    live: SeededSearch

    @property
    def url(self) -> str:
        return self.served.url


def signed_in_context(browser: Browser, url: str, token: str) -> BrowserContext:
    """A browser profile holding the sign-in cookie. Tabs of one context share the HTTP and
    compiled-code caches, so plotly.min.js (4.8 MB) is parsed once per session, not per test."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_cookies([{"name": "trainyard_token", "value": token, "url": url}])
    context.set_default_timeout(60_000)  # generous: a loaded 2-core machine parses plotly slowly
    return context


def chart(page: Page, chart_id: str) -> list[dict[str, Any]]:
    """The plotly traces drawn in `#chart_id`, once it has been drawn (scrolled to first: charts
    below the fold may be drawn only when the reader gets near them)."""
    near = "scatters" if chart_id.startswith("scatter-") else chart_id  # made there when near
    page.locator(f"#{near}").scroll_into_view_if_needed()
    page.wait_for_selector(f"#{chart_id}[data-drawn]")
    data: list[dict[str, Any]] = page.evaluate(
        "id => JSON.parse(JSON.stringify(document.getElementById(id).data))", chart_id
    )
    return data


def body_rows(page: Page, table_id: str) -> list[str]:
    rows: list[str] = page.locator(f"#{table_id} tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.id || r.innerText)"
    )
    return rows
