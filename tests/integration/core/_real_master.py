"""The contract suite's `MasterBackend` target: a real master, real allocations, real tokens.

`start_contract_master` runs `python -m trainyard.master.server` (see `master_process`) with this
folder on its PYTHONPATH, so experiments may use `_contract_searcher:ContractSearcher`.
`RealMasterHarness` creates one such experiment per test through the REST API; the master's own
scheduler and resource manager start the trial's allocation, whose entrypoint (`park.py`) only
writes the `TRAINYARD_*` environment it was given to its working directory and sleeps. The test
then runs trial code in-process with exactly that environment (allocation id, token, trial id,
checkpoint storage), and checks what the master stored: metrics and checkpoints through the REST
API, the searcher's received validations and the trial's events through the master's store.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from _harness import decode, patched_env
from master_process import RunningMaster, start_master
from sqlalchemy import select

import trainyard.core as core
from trainyard.client import Client
from trainyard.core._wire import decode_float
from trainyard.master.db import Database, Experiment
from trainyard.master.db import trials as trial_repo

_HERE = Path(__file__).parent
_ALLOCATION_START_S = 60.0
_PARK = """\
import json, os, time
env = {k: v for k, v in os.environ.items() if k.startswith("TRAINYARD_")}
with open("trial_env.json.tmp", "w") as out:
    json.dump(env, out)
os.replace("trial_env.json.tmp", "trial_env.json")
time.sleep(3600)
"""
_CONFIG = {
    "name": "core-contract",
    "entrypoint": "python park.py",
    "hyperparameters": {"lr": 0.1},
    "searcher": {
        "name": "custom",
        "metric": "val_loss",
        "searcher_class": "_contract_searcher:ContractSearcher",
    },
    # The stub master never deletes checkpoints; the real one garbage-collects all but the
    # latest (default `save_trial_latest: 1`), which would leave `latest_good()` nothing to fall
    # back to past a corrupt newest checkpoint. Keep them, as a user relying on it must.
    "checkpoint_storage": {"save_trial_latest": 10},
    "max_restarts": 0,
}


@dataclass
class ContractMaster:
    """One real master for a test module, with an admin client and a view of its store."""

    running: RunningMaster
    client: Client
    db: Database

    def close(self) -> None:
        self.client.close()
        self.db.dispose()


def start_contract_master(data_dir: Path) -> ContractMaster:
    """Start a master that can import `_contract_searcher`; `stop_master(cm.running)` after."""
    paths = [str(_HERE), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {"PYTHONPATH": os.pathsep.join(paths), "TRAINYARD_SEARCHER_MODULES": "_contract_searcher"}
    with patched_env(env):
        running = start_master(data_dir)
    client = Client(running.url, running.token)
    return ContractMaster(running, client, Database(f"sqlite:///{data_dir / 'trainyard.db'}"))


class RealMasterHarness:
    """The `Harness` interface of `_harness.py` over one trial of one experiment on `master`."""

    name = "real-master"
    expected_lengths: ClassVar[list[int]] = [10, 25]

    def __init__(self, master: ContractMaster, tmp: Path) -> None:
        self.master = master
        model_dir = tmp / "model"
        model_dir.mkdir(parents=True)
        (model_dir / "park.py").write_text(_PARK)
        exp = master.client.create_experiment(_CONFIG, model_dir)
        self.experiment_id = exp.id
        self.allocation_env = self._wait_for_allocation()
        self.allocation_id = self.allocation_env["TRAINYARD_ALLOCATION_ID"]
        self.token = self.allocation_env["TRAINYARD_ALLOCATION_TOKEN"]
        self.trial_id = int(self.allocation_env["TRAINYARD_TRIAL_ID"])
        storage = json.loads(self.allocation_env["TRAINYARD_CHECKPOINT_STORAGE"])
        self.storage_root = Path(storage["host_path"]) / (storage.get("storage_path") or "")

    def _wait_for_allocation(self) -> dict[str, str]:
        work = self.master.running.data_dir / "work" / str(self.experiment_id)
        deadline = time.monotonic() + _ALLOCATION_START_S
        while time.monotonic() < deadline:
            found = sorted(work.glob("*/trial_env.json"))
            if found:
                env: dict[str, str] = json.loads(found[0].read_text())
                return env
            time.sleep(0.05)
        log = self.master.running.log()[-3000:]
        raise AssertionError(f"experiment {self.experiment_id} started no allocation:\n{log}")

    def env(self) -> dict[str, str]:
        """The allocation's `TRAINYARD_*` environment, with a short preemption long poll."""
        return {**self.allocation_env, "TRAINYARD_PREEMPTION_POLL_S": "2"}

    def init(self, **kw: Any) -> core.Context:
        with patched_env(self.env()):
            return core.init(**kw)

    def reports(self, group: str) -> list[tuple[int, dict[str, float]]]:
        points = self.master.client.trial_metrics(self.trial_id, group=group, max_points=10000)
        return sorted((p.steps, decode(p.metrics)) for p in points)

    def _searcher_state(self) -> dict[str, Any]:
        with self.master.db.session(read_only=True) as session:
            query = select(Experiment.searcher_snapshot).where(Experiment.id == self.experiment_id)
            snapshot = session.scalar(query) or {}
        state: dict[str, Any] = snapshot.get("searcher", {}).get("state", {})
        return state

    def completed(self) -> list[tuple[int, float]]:
        """What the master's searcher received through `on_validation_completed`, in order."""
        rows = self._searcher_state().get("completed", [])
        return [(int(length), decode_float(metric)) for length, metric in rows]

    def early_exits(self) -> list[str]:
        with self.master.db.session(read_only=True) as session:
            events = trial_repo.list_events(session, self.trial_id)
            return [e.reason for e in events if e.kind == "early_exit"]

    def checkpoints(self) -> list[tuple[str, int]]:
        page = self.master.client.list_checkpoints(trial_id=self.trial_id, limit=1000)
        return sorted(((c.uuid, c.steps) for c in page.items), key=lambda c: c[1])

    def request_preemption(self) -> None:
        """Pause the experiment: the master asks the allocation to stop (reason `pause`)."""
        self.master.client.pause_experiment(self.experiment_id)

    def stored_seed(self) -> int:
        """The trial's seed as the master stored it."""
        with self.master.db.session(read_only=True) as session:
            return trial_repo.get_trial(session, self.trial_id).seed

    def close(self) -> None:
        """Kill the experiment, so its allocation gives its slot back for the next test."""
        if not self.master.client.get_experiment(self.experiment_id).is_terminal:
            self.master.client.kill_experiment(self.experiment_id)
