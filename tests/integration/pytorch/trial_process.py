"""Real trial processes for the tests: a model dir with the tiny trial, a config, the run entry
(`python -m trainyard.pytorch.run` / `.local`), and what the run left behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch
import yaml

import trainyard.core as core
from trainyard.pytorch import Trainer
from trainyard.pytorch.run import load_trial_class

TINY_TRIAL = Path(__file__).parents[2] / "unit" / "pytorch" / "tiny_trial.py"


class TrialRun:
    """A model directory with the tiny trial, a config and a run folder."""

    def __init__(self, root: Path, hparams: dict[str, Any], **config: Any) -> None:
        self.model_dir = root / "model"
        self.model_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(TINY_TRIAL, self.model_dir / "tiny_trial.py")
        self.run_dir = root / "run"
        length = config.pop("batches", 12)
        doc = {
            "name": "tiny",
            "entrypoint": "tiny_trial:TinyTrial",
            "hyperparameters": {"global_batch_size": 8, **hparams},
            "searcher": {
                "name": "single",
                "metric": "validation_loss",
                "max_length": {"batches": length},
            },
            "max_restarts": 0,
            **config,
        }
        self.config = self.model_dir / "config.yaml"
        self.config.write_text(yaml.safe_dump(doc))

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINYARD_")}
        for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
            env.pop(k, None)
        env.update(
            TRAINYARD_CONFIG=str(self.config),
            TRAINYARD_RUN_DIR=str(self.run_dir),
            OMP_NUM_THREADS="1",
        )
        return env

    def start(self) -> subprocess.Popen[str]:
        """`python -m trainyard.pytorch.run` in the model dir, as the launcher starts rank 0."""
        cmd = [sys.executable, "-m", "trainyard.pytorch.run", "tiny_trial:TinyTrial"]
        return subprocess.Popen(
            cmd,
            cwd=self.model_dir,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def local(self, *extra: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """`python -m trainyard.pytorch.local config.yaml` (one process per slot)."""
        cmd = [sys.executable, "-m", "trainyard.pytorch.local", str(self.config), *extra]
        return subprocess.run(
            cmd, env=self.env(), capture_output=True, text=True, timeout=timeout, check=False
        )

    def in_process(self) -> None:
        """Train in this (test) process through `core.init()`, as the run entry would: no
        subprocess start-up, same results (one torch thread, same seed and data order)."""
        cwd, path, threads = os.getcwd(), list(sys.path), torch.get_num_threads()
        os.chdir(self.model_dir)
        torch.set_num_threads(1)
        try:
            trial_cls = load_trial_class("tiny_trial:TinyTrial")
            with core.init(config=self.config, run_dir=self.run_dir) as ctx:
                Trainer(trial_cls, ctx, run_dir=self.run_dir).fit()
        finally:
            os.chdir(cwd)
            sys.path[:] = path
            torch.set_num_threads(threads)

    def states(self) -> list[dict[str, Any]]:
        """Every trainer checkpoint written so far, oldest step first."""
        found = [torch.load(p, weights_only=True) for p in self.run_dir.rglob("trainer_state.pt")]
        return sorted(found, key=lambda s: int(s["steps_completed"]))

    def final_model(self) -> dict[str, torch.Tensor]:
        model: dict[str, torch.Tensor] = self.states()[-1]["model"]
        return model

    def scalars(self, tag: str) -> dict[int, float]:
        """TensorBoard scalars by step; a later event file (a resumed run) overrides earlier."""
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

        out: dict[int, float] = {}
        for path in sorted(self.run_dir.rglob("events.out.tfevents.*")):
            acc = EventAccumulator(str(path))
            acc.Reload()
            if tag in acc.Tags()["scalars"]:
                out.update({e.step: e.value for e in acc.Scalars(tag)})
        return out
