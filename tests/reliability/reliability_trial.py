"""The trial the fault-injection suite runs, and the adaptive ASHA experiment around it.

The trial is a Core API script shaped like `trainyard.pytorch.Trainer.fit`: per operation it
trains step by step (one training metric per step), reports the validation metric, reports the
operation completed, and only then checkpoints, through a deliberately slow checkpoint hook
(`checkpoint_sleep`), so that a kill lands between "searcher told" and "checkpoint stored" often.

It keeps its own record of the truth, which the checks compare with what the master serves:

- `<truth>/logs-<trial>.txt`: every log line it printed, appended after the print returned
  (each line carries a per-process run id and a sequence number, so duplicates are visible);
- `<truth>/ckpt-<pid>`: present while the process is inside its checkpoint hook (the injector
  reads it to kill mid-checkpoint).

Every metric is a pure function of (x, steps) (`loss`), so a served value can be checked too.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import yaml

SCRIPT_NAME = "reliability_trial.py"

TRIAL_PY = """
import os, sys, time, uuid
from pathlib import Path

import trainyard.core as core

TRUTH = Path(os.environ["RELIABILITY_TRUTH_DIR"])
RUN = uuid.uuid4().hex[:12]
SEQ = 0


def loss(x, steps):
    return (x - 0.3) ** 2 + 1.0 / steps


def say(trial_id, text):
    global SEQ
    SEQ += 1
    line = f"reliability-log trial={trial_id} run={RUN} seq={SEQ} {text}"
    print(line, flush=True)
    with (TRUTH / f"logs-{trial_id}.txt").open("a") as record:
        record.write(line + "\\n")


def checkpoint(ctx, steps, pause):
    marker = TRUTH / f"ckpt-{os.getpid()}"
    with ctx.checkpoint.store_path({"steps_completed": steps}) as (path, _uuid):
        (path / "state.txt").write_text(str(steps))
        marker.write_text(str(ctx.info.trial_id))
        time.sleep(pause)  # the slow checkpoint hook: the window the injector aims at
    marker.unlink(missing_ok=True)


with core.init() as ctx:
    hp = ctx.info.hparams
    tid = ctx.info.trial_id
    x = float(hp["x"])
    step_sleep = float(hp["step_sleep"])
    ckpt_sleep = float(hp["checkpoint_sleep"])
    steps = 0
    if ctx.info.latest_checkpoint:
        with ctx.checkpoint.restore_path(ctx.info.latest_checkpoint) as path:
            steps = int((path / "state.txt").read_text())
    say(tid, f"start from={steps}")
    for op in ctx.searcher.operations():
        while steps < op.length:
            steps += 1
            time.sleep(step_sleep)
            ctx.train.report_training_metrics(steps, {"loss": loss(x, steps)})
            say(tid, f"step {steps}")
            if ctx.preempt.should_preempt():
                checkpoint(ctx, steps, 0.0)
                say(tid, f"preempted at {steps}")
                sys.exit(0)
        metric = loss(x, steps)
        ctx.train.report_validation_metrics(steps, {"val_loss": metric})
        op.report_completed(metric)
        checkpoint(ctx, steps, ckpt_sleep)
        say(tid, f"validated at {steps}")
    say(tid, "done")
"""


def loss(x: float, steps: int) -> float:
    """The metric the trial reports at `steps` (training `loss` and validation `val_loss`)."""
    return (x - 0.3) ** 2 + 1.0 / steps


def model_tarball() -> bytes:
    """The model directory (just the trial script) as the gzip tarball the API takes."""
    data = TRIAL_PY.encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo(SCRIPT_NAME)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def write_model_dir(root: Path) -> Path:
    """A model directory holding the trial script, for `Client.create_experiment`."""
    model_dir = root / "reliability-model"
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / SCRIPT_NAME).write_text(TRIAL_PY)
    return model_dir


def asha_config(
    *,
    truth_dir: Path,
    max_trials: int,
    max_length: int,
    seed: int,
    step_sleep: float,
    checkpoint_sleep: float,
    name: str = "reliability",
) -> str:
    """An adaptive ASHA search whose decisions depend only on `seed` and the metric function.

    The master it runs on has one slot, so trials run one at a time in the scheduler's FIFO
    order and the searcher hears its events in the same order in every run; a killed trial
    restarts (high `max_restarts`) without the searcher hearing of it.
    """
    config: dict[str, Any] = {
        "name": name,
        "entrypoint": f"python3 {SCRIPT_NAME}",
        "hyperparameters": {
            "x": {"type": "double", "minval": 0.0, "maxval": 1.0},
            "step_sleep": step_sleep,
            "checkpoint_sleep": checkpoint_sleep,
        },
        "searcher": {
            "name": "adaptive_asha",
            "metric": "val_loss",
            "smaller_is_better": True,
            "max_length": {"batches": max_length},
            "max_trials": max_trials,
            "max_rungs": 3,
            "divisor": 2,
            "mode": "standard",
        },
        "reproducibility": {"experiment_seed": seed},
        "max_restarts": 100,
        "environment": {"environment_variables": {"RELIABILITY_TRUTH_DIR": str(truth_dir)}},
    }
    return yaml.safe_dump(config)
