"""The Core API example on a real master: resource manager → launcher (torchrun, 2 ranks) →
MasterBackend → trial API, end to end over real HTTP and real processes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from master_process import RunningMaster

from trainyard.client import Client

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).parents[3] / "examples" / "core_api_script"


def test_distributed_core_api_trial_reports_checkpoints_and_ships_logs_per_rank(
    master: RunningMaster, tmp_path: Path
) -> None:
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    shutil.copy(EXAMPLE / "train.py", model_dir / "train.py")
    config = yaml.safe_load((EXAMPLE / "distributed.yaml").read_text())
    config["searcher"]["max_length"] = {"batches": 50}
    config_path = tmp_path / "exp.yaml"
    config_path.write_text(yaml.safe_dump(config))

    with Client(master.url, master.token) as client:
        exp = client.create_experiment(config_path, model_dir)
        final = client.wait_experiment(exp.id, interval=0.3, timeout=240)
        assert final.state == "COMPLETED", master.log()[-3000:]
        (trial,) = client.list_trials(exp.id).items

        assert [p.steps for p in client.trial_metrics(trial.id, group="training")] == [25, 50]
        (val,) = client.trial_metrics(trial.id, group="validation")
        assert val.steps == 50 and 0.0 < val.metrics["val_accuracy"] <= 1.0

        (ckpt,) = client.list_checkpoints(trial_id=trial.id).items
        assert ckpt.steps == 50 and ckpt.metadata["steps_completed"] == 50
        assert set(ckpt.resources) == {"weights.npy", "state.json", "metadata.json"}

        logs = list(client.trial_logs(trial.id))
        assert any(
            line.rank == 0 and line.line.startswith("[trainyard] validation steps=50 ")
            for line in logs
        ), [(line.rank, line.line) for line in logs]
        assert any(line.rank == 0 and "checkpoint" in line.line for line in logs)
        starts = {line.rank for line in logs if "starting at step 0" in line.line}
        assert starts == {0, 1}
