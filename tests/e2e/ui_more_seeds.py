"""More seeded searches for the browser tests of the web UI's faults and actions: an errored
search shaped like the runtime leaves one (exit + restart events per failure, a traceback on
stderr), and a live search whose trials trained past their last searcher validation.

Written through the store's repository functions, like `ui_support.seed_search`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ui_support import SeededSearch, seed_search

from trainyard.master.db import Database, Experiment, Trial
from trainyard.master.db import logs as logs_repo
from trainyard.master.db import metrics as metrics_repo
from trainyard.master.db import trials as trials_repo
from trainyard.master.states import TrialState

TRACEBACK = [
    "Traceback (most recent call last):",
    '  File "train.py", line 12, in <module>',
    "    loss = model(batch)",
    "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB",
]


def seed_errored(db: Database) -> tuple[SeededSearch, list[int]]:
    """A finished search whose last two trials failed twice each (max_restarts 1) and whose
    experiment ended ERRORED; returns the search and the failed trials' ids."""
    search = seed_search(db, name="errored-search", n_trials=9, seed=5, with_extras=False)
    failed = search.trial_ids[-2:]
    with db.session() as session:
        for tid in failed:
            for run in (1, 2):
                alloc = f"alloc-{tid}-{run}"
                lines = [{"rank": 0, "stream": "stdout", "line": "epoch 1: training"}]
                lines += [{"rank": 0, "stream": "stderr", "line": t} for t in TRACEBACK]
                logs_repo.add_logs(session, tid, lines, allocation_id=alloc)
                trials_repo.record_event(session, tid, "exit", exit_code=1, allocation_id=alloc)
                trials_repo.record_restart(
                    session, tid, reason="exited with code 1", exit_code=1, allocation_id=alloc
                )
            row = session.get(Trial, tid)
            assert row is not None
            row.state = TrialState.ERRORED.value
            row.exited_reason = "errored"
        exp = session.get(Experiment, search.experiment_id)
        assert exp is not None
        exp.state = "ERRORED"
        exp.ended_at = time.time()
    return search, failed


@dataclass
class LiveProgress:
    search: SeededSearch
    running: int
    """A RUNNING trial that reported training up to `running_steps`, past its last validation."""
    running_steps: int
    paused: int
    """A PAUSED trial (never validated) that trained `paused_steps` batches."""
    paused_steps: int
    parked: int
    """A QUEUED trial that validated at its rung and waits for a promotion (no work)."""
    queued: int
    """A QUEUED trial waiting for a slot."""


def seed_live_progress(db: Database) -> LiveProgress:
    """An ACTIVE search (progress 0 as stored) with one trial running mid-step, one paused
    after 140 batches of its first 300-batch step, one parked at its rung, one queued."""
    search = seed_search(
        db, name="mid-step", n_trials=4, running=1, queued=2, seed=7, with_extras=False
    )
    running, paused = search.trial_ids[3], search.trial_ids[4]
    parked, queued = search.trial_ids[2], search.trial_ids[5]
    with db.session() as session:
        park = session.get(Trial, parked)
        assert park is not None
        park.state, park.closed, park.target_length = TrialState.QUEUED.value, False, None
        row = session.get(Trial, running)
        assert row is not None
        start = row.completed_length
        steps = start + 181
        metrics_repo.add_metrics(
            session,
            running,
            "training",
            [
                {"steps": s, "metrics": {"loss": 0.5}, "timestamp": time.time()}
                for s in range(start + 10, steps + 1, 10)
            ]
            + [{"steps": steps, "metrics": {"loss": 0.5}, "timestamp": time.time()}],
        )
        prow = session.get(Trial, paused)
        assert prow is not None
        prow.state = TrialState.PAUSED.value
        prow.target_length = 300
        metrics_repo.add_metrics(
            session,
            paused,
            "training",
            [{"steps": s, "metrics": {"loss": 0.9}, "timestamp": time.time()} for s in (70, 140)],
        )
        exp = session.get(Experiment, search.experiment_id)
        assert exp is not None
        exp.progress = 0.0
    return LiveProgress(search, running, steps, paused, 140, parked, queued)


def seed_one_hparam(db: Database) -> int:
    """A finished search of 6 trials in which only `lr` varies; returns its experiment id."""
    search = seed_search(db, name="one-hparam", n_trials=6, seed=9, with_extras=False)
    with db.session() as session:
        for i, tid in enumerate(search.trial_ids):
            row = session.get(Trial, tid)
            assert row is not None
            row.hparams = {
                "lr": 10 ** (-4 + i / 2),
                "dropout": 0.1,
                "optimizer": "adam",
                "layers": 2,
            }
    return search.experiment_id


def seed_population(db: Database) -> tuple[int, dict[int, int]]:
    """A PBT-shaped search: trials 1-2 sampled, 3 and 4 started from 1's checkpoint with `lr`
    perturbed; returns the experiment id and {trial id: parent trial id}."""
    search = seed_search(db, name="pbt-like", n_trials=4, seed=11, with_extras=False)
    a, _b, c, d = search.trial_ids
    with db.session() as session:
        base = session.get(Trial, a)
        assert base is not None
        for tid, lr in ((c, 0.012), (d, 0.008)):
            row = session.get(Trial, tid)
            assert row is not None
            row.parent_request_id = base.request_id
            row.warm_start_checkpoint_uuid = f"ckpt-{a}-0001"
            row.hparams = {**base.hparams, "lr": lr}
    return search.experiment_id, {c: a, d: a}
