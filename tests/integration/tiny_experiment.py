"""A tiny Core-API experiment for API and CLI tests: trains in well under a second per trial."""

from __future__ import annotations

from pathlib import Path

TRAIN_PY = """
import time

import trainyard.core as core

with core.init() as ctx:
    lr = float(ctx.info.hparams["lr"])
    pause = float(ctx.info.hparams.get("step_sleep", 0))
    steps = 0
    if ctx.info.latest_checkpoint:
        with ctx.checkpoint.restore_path(ctx.info.latest_checkpoint) as path:
            steps = int((path / "state.txt").read_text())
        print(f"tiny: resumed at {steps}", flush=True)
    for op in ctx.searcher.operations():
        while steps < op.length:
            steps += 1
            time.sleep(pause)
            if ctx.preempt.should_preempt():
                raise SystemExit(0)
            ctx.train.report_training_metrics(steps, {"loss": lr / steps})
        print(f"tiny: validated at {steps} with lr {lr}", flush=True)
        loss = lr / steps
        ctx.train.report_validation_metrics(steps, {"val_loss": loss})
        with ctx.checkpoint.store_path({"steps_completed": steps}) as (path, _uuid):
            (path / "state.txt").write_text(str(steps))
        op.report_completed(loss)
        if ctx.preempt.should_preempt():
            break
"""

CONFIG = """
name: {name}
entrypoint: python3 train.py
hyperparameters:
  lr:
    type: categorical
    vals: [0.1, 0.2]
  step_sleep: {step_sleep}
searcher:
  name: grid
  metric: val_loss
  smaller_is_better: true
  max_length:
    batches: {length}
max_restarts: 0
"""


def write_tiny_experiment(
    root: Path, *, name: str = "tiny", length: int = 4, step_sleep: float = 0.0
) -> tuple[Path, Path]:
    """(config path, model dir) of a 2-trial grid search; `length` batches per trial, each
    taking `step_sleep` seconds. The trial resumes from its latest checkpoint and stops cleanly
    when asked to (preemption, pause, kill)."""
    model_dir = root / "model"
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / "train.py").write_text(TRAIN_PY)
    (model_dir / "big.bin").write_bytes(b"0" * 1000)
    (model_dir / ".trainyardignore").write_text("*.bin\n")
    config = root / "tiny.yaml"
    config.write_text(CONFIG.format(name=name, length=length, step_sleep=step_sleep))
    return config, model_dir
