"""A 2-rank gloo trial that finished must exit 0, every time (no "terminate called" at teardown).

Under a real master (the chief flushes to it and stops its threads after training while the other
rank is already leaving), DDP and FSDP over gloo. Any non-zero exit turns a finished trial into a
restart, so each run must complete with no restart and every exit event must be 0.
`test_two_rank_teardown_is_clean_many_times` is the 20-run regression (marker `reliability`,
run by `make reliability`); the 3-run variant is in the normal suite.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from master_process import RunningMaster, start_master, stop_master

from trainyard.client import Client
from trainyard.master.db import Database, TrialEvent

pytestmark = pytest.mark.slow

TINY_TRIAL = Path(__file__).parents[2] / "unit" / "pytorch" / "tiny_trial.py"


@pytest.fixture(scope="module")
def gloo_master(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMaster]:
    running = start_master(tmp_path_factory.mktemp("teardown-master"), slots=2)
    try:
        yield running
    finally:
        stop_master(running)


def _run_two_ranks(master: RunningMaster, root: Path, strategy: str) -> int:
    model_dir = root / "model"
    model_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(TINY_TRIAL, model_dir / "tiny_trial.py")
    config = {
        "name": f"teardown-{strategy}",
        "entrypoint": "tiny_trial:TinyTrial",
        "hyperparameters": {"global_batch_size": 16},
        "searcher": {
            "name": "single",
            "metric": "validation_loss",
            "max_length": {"batches": 4},
        },
        "resources": {"slots_per_trial": 2},
        "data": {"distributed": strategy},
        "max_restarts": 0,
        "environment": {"environment_variables": {"OMP_NUM_THREADS": "1"}},
    }
    path = root / f"{strategy}.yaml"
    path.write_text(yaml.safe_dump(config))
    with Client(master.url, master.token) as client:
        exp = client.create_experiment(path, model_dir)
        final = client.wait_experiment(exp.id, interval=0.2, timeout=180)
        (trial,) = client.list_trials(exp.id).items
    assert final.state == "COMPLETED", master.log()
    return trial.id


def _exit_codes(master: RunningMaster, trial_id: int) -> list[int | None]:
    db = Database(f"sqlite:///{master.data_dir / 'trainyard.db'}")
    try:
        with db.session(read_only=True) as session:
            events = session.query(TrialEvent).filter(TrialEvent.trial_id == trial_id).all()
            return [e.exit_code for e in events if e.exit_code is not None or e.kind == "exit"]
    finally:
        db.dispose()


def _check_runs(master: RunningMaster, root: Path, runs: int) -> None:
    failures = []
    for i in range(runs):
        strategy = "fsdp" if i % 2 else "ddp"
        trial_id = _run_two_ranks(master, root / f"run{i}", strategy)
        codes = _exit_codes(master, trial_id)
        if any(code != 0 for code in codes):
            failures.append((i, strategy, codes))
    assert failures == [], f"non-zero exits of finished 2-rank trials: {failures}"


def test_two_rank_teardown_is_clean(gloo_master: RunningMaster, tmp_path: Path) -> None:
    _check_runs(gloo_master, tmp_path, 3)


@pytest.mark.reliability
@pytest.mark.timeout(2400)  # 20 runs of two torch processes each on a busy 2-core box
def test_two_rank_teardown_is_clean_many_times(gloo_master: RunningMaster, tmp_path: Path) -> None:
    _check_runs(gloo_master, tmp_path, 20)
