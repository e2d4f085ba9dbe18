"""Negative control: proof that each check can fail.

After a campaign, `tamper_and_check` damages the baseline run's results in one way per check
(a log line the trial "wrote" that the master never got, a checkpoint dir nobody registered, a
registered checkpoint whose files are gone, a lost metric row, a different searcher decision, a
stray trial process) and runs the checks again. A check that stays green on this is broken.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import subprocess
import sys
from pathlib import Path

from reliability_checks import Decision, check_experiment
from reliability_master import CrashableMaster
from reliability_trial import SCRIPT_NAME

from trainyard.master.db import Metric, Trial

TAMPERED = ("logs", "orphans", "checkpoints", "metric_steps", "decisions", "processes")
"""The checks `tamper_and_check` must see fail."""


def tamper_and_check(
    master: CrashableMaster,
    experiment_id: int,
    truth_dir: Path,
    baseline: list[Decision],
) -> list[str]:
    """Damage the ended experiment's results once per check; return the checks that failed."""
    trial_id, checkpoint = _first_trial(master, experiment_id)
    with (truth_dir / f"logs-{trial_id}.txt").open("a") as record:
        for seq in (1, 2, 3):
            record.write(f"reliability-log trial={trial_id} run=0badc0ffee00 seq={seq} never\n")
    (master.checkpoint_root / "00000000-0000-4000-8000-00000000dead").mkdir()
    shutil.move(master.checkpoint_root / checkpoint, master.data_dir / "moved-checkpoint")
    db = master.db()
    try:
        with db.session() as session:
            session.query(Metric).filter(
                Metric.trial_id == trial_id, Metric.group == "training", Metric.steps == 1
            ).delete()
    finally:
        db.dispose()
    first = dataclasses.replace(baseline[0], final_length=baseline[0].final_length + 1)
    stray_cwd = master.data_dir / "work" / str(experiment_id) / "stray"
    stray_cwd.mkdir(parents=True)
    code = "import time; time.sleep(120)"
    stray = subprocess.Popen([sys.executable, "-c", code, SCRIPT_NAME], cwd=stray_cwd)
    try:
        verdict = check_experiment(
            master, experiment_id, truth_dir, [first, *baseline[1:]], settle_s=0.0
        )
    finally:
        stray.kill()
        stray.wait()
    with contextlib.suppress(OSError):
        shutil.rmtree(stray_cwd)
    return verdict.failed()


def _first_trial(master: CrashableMaster, experiment_id: int) -> tuple[int, str]:
    """The experiment's first trial with a latest checkpoint, and that checkpoint."""
    db = master.db()
    try:
        with db.session(read_only=True) as session:
            trial = (
                session.query(Trial)
                .filter(Trial.experiment_id == experiment_id)
                .filter(Trial.latest_checkpoint_uuid.is_not(None))
                .order_by(Trial.id)
                .first()
            )
            assert trial is not None and trial.latest_checkpoint_uuid is not None
            return trial.id, trial.latest_checkpoint_uuid
    finally:
        db.dispose()
