"""Searches run end to end on a real master with real trial processes (2 CPU slots)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from master_runner import RealMaster, experiment_yaml, write_experiment

from trainyard.errors import ConfigError
from trainyard.master.db import Checkpoint, Metric, Trial
from trainyard.master.db import trials as trial_repo

pytestmark = pytest.mark.slow
StartMaster = Callable[..., RealMaster]


def validations(master: RealMaster, experiment_id: int) -> dict[int, list[int]]:
    """trial request id -> steps of its stored validation reports."""
    db = master.db()
    try:
        with db.session(read_only=True) as session:
            trials = trial_repo.list_trials(session, experiment_id)
            rid = {t.id: t.request_id for t in trials}
            out: dict[int, list[int]] = {t.request_id: [] for t in trials}
            rows = session.query(Metric).filter(
                Metric.experiment_id == experiment_id, Metric.group == "validation"
            )
            for row in rows.order_by(Metric.steps):
                out[rid[row.trial_id]].append(row.steps)
            return out
    finally:
        db.dispose()


def test_grid_runs_every_point_finds_the_best_and_continues_it(
    shared_master: RealMaster, tmp_path: Path
) -> None:
    master = shared_master
    grid = {"x": {"type": "categorical", "vals": [0.1, 0.3]}}
    text = experiment_yaml({"name": "grid", "max_length": {"batches": 3}}, grid)
    config, model_dir = write_experiment(tmp_path, text)
    with master.client() as client:
        exp = client.create_experiment(config, model_dir)
        final = client.wait_experiment(exp.id, interval=0.2, timeout=90)
        assert final.state == "COMPLETED", master.log()
        assert final.trial_counts == {"COMPLETED": 2}
        assert final.progress == 1.0
        assert final.best_trial_id is not None
        best = client.get_trial(final.best_trial_id)
        assert best.hparams == {"x": 0.3}
        logs = [
            line.line for t in client.list_trials(exp.id).items for line in client.trial_logs(t.id)
        ]
        assert any("cuda=None" in line for line in logs)  # CPU slots: CUDA_VISIBLE_DEVICES unset

        # Continue the best trial from its checkpoint at 3 batches up to 5.
        new_exp, new_trial = client.continue_trial(best.id, max_length=5)
        assert client.wait_experiment(new_exp, interval=0.2, timeout=90).state == "COMPLETED"
        assert client.get_trial(new_trial).hparams == {"x": 0.3}
        steps = [p.steps for p in client.trial_metrics(new_trial, group="training")]
    assert validations(master, exp.id) == {1: [3], 2: [3]}
    assert steps == [4, 5]  # resumed from the checkpoint, not from scratch


def test_named_pools_set_cuda_devices_and_refuse_bad_requests_in_one_line(
    shared_master: RealMaster, tmp_path: Path
) -> None:
    master = shared_master
    single = {"name": "single", "max_length": {"batches": 1}}
    with master.client() as client:
        before = client.list_experiments().total
        bad_pool = experiment_yaml(single, {}, resources={"resource_pool": "tpus"})
        config, model_dir = write_experiment(tmp_path, bad_pool)
        message = "resource pool 'tpus' does not exist; known pools: default, gpus"
        with pytest.raises(ConfigError, match=message):
            client.create_experiment(config, model_dir)
        too_big = experiment_yaml(
            single, {}, resources={"slots_per_trial": 3, "resource_pool": "gpus"}
        )
        config, model_dir = write_experiment(tmp_path, too_big)
        with pytest.raises(
            ConfigError, match="slots_per_trial is 3 but resource pool 'gpus' has only 2"
        ):
            client.create_experiment(config, model_dir)
        assert client.list_experiments().total == before
        on_gpus = experiment_yaml(single, {}, resources={"resource_pool": "gpus"})
        config, model_dir = write_experiment(tmp_path, on_gpus)
        exp = client.create_experiment(config, model_dir)
        assert client.wait_experiment(exp.id, interval=0.2, timeout=90).state == "COMPLETED"
        (trial,) = client.list_trials(exp.id).items
        logs = [line.line for line in client.trial_logs(trial.id)]
    assert any("cuda=0 " in line or line.endswith("cuda=0") for line in logs), logs


def test_adaptive_asha_promotes_some_trials_and_stops_the_rest(
    shared_master: RealMaster, tmp_path: Path
) -> None:
    master = shared_master
    searcher = {
        "name": "adaptive_asha",
        "max_length": {"batches": 4},
        "max_trials": 4,
        "max_rungs": 2,
        "divisor": 2,
        "mode": "aggressive",
    }
    hparams = {"x": {"type": "double", "minval": 0.0, "maxval": 1.0}}
    config, model_dir = write_experiment(tmp_path, experiment_yaml(searcher, hparams))
    with master.client() as client:
        exp = client.create_experiment(config, model_dir)
        final = client.wait_experiment(exp.id, interval=0.2, timeout=120)
    assert final.state == "COMPLETED", master.log()
    seen = validations(master, exp.id)
    assert len(seen) == 4
    lengths = sorted(steps[-1] for steps in seen.values())
    assert lengths[0] == 2 and lengths[-1] == 4  # some stopped at rung 0, some promoted
    for steps in seen.values():
        assert steps in ([2], [2, 4])  # every rung reported once, no other lengths
    # GC (save_trial_best 1, save_trial_latest 1): a promoted trial keeps only its 4-batch one.
    db = master.db()
    try:
        with db.session(read_only=True) as session:
            rows = session.query(Checkpoint).filter(Checkpoint.experiment_id == exp.id).all()
    finally:
        db.dispose()
    by_trial: dict[int, dict[int, str]] = {}
    for row in rows:
        by_trial.setdefault(row.trial_id, {})[row.steps_completed] = row.state
    promoted = [states for states in by_trial.values() if 4 in states]
    assert promoted, by_trial
    for states in promoted:  # only the latest (also the best) is kept, earlier ones deleted
        assert [s for s, state in states.items() if state == "ACTIVE"] == [4], by_trial
        assert states[2] == "DELETED"
    for row in rows:
        on_disk = (master.data_dir / "checkpoints" / row.uuid).exists()
        assert on_disk == (row.state == "ACTIVE")


def test_pbt_children_start_from_their_parents_checkpoints(
    shared_master: RealMaster, tmp_path: Path
) -> None:
    master = shared_master
    searcher = {
        "name": "pbt",
        "population_size": 2,
        "num_rounds": 2,
        "length_per_round": {"batches": 2},
        "replace_function": {"truncate_fraction": 0.5},
        "explore_function": {"resample_probability": 0.5, "perturb_factor": 0.2},
    }
    hparams = {"x": {"type": "double", "minval": 0.0, "maxval": 1.0}}
    config, model_dir = write_experiment(tmp_path, experiment_yaml(searcher, hparams))
    with master.client() as client:
        exp = client.create_experiment(config, model_dir)
        final = client.wait_experiment(exp.id, interval=0.2, timeout=120)
    assert final.state == "COMPLETED", master.log()
    db = master.db()
    try:
        with db.session(read_only=True) as session:
            trials = trial_repo.list_trials(session, exp.id)
            children = [t for t in trials if t.parent_request_id is not None]
            assert children, "PBT made no children"
            by_rid = {t.request_id: t for t in trials}
            for child in children:
                assert child.warm_start_checkpoint_uuid is not None
                ckpt = session.get(Checkpoint, child.warm_start_checkpoint_uuid)
                assert ckpt is not None
                assert child.parent_request_id is not None
                assert ckpt.trial_id == by_rid[child.parent_request_id].id
                assert ckpt.steps_completed == 2
                query = session.query(Metric).filter(Metric.trial_id == child.id)
                first = query.order_by(Metric.steps).first()
                assert first is not None and first.steps == 3  # trained on from 2
            assert all(
                t.state == "COMPLETED"
                for t in session.query(Trial).filter(Trial.experiment_id == exp.id)
            )
    finally:
        db.dispose()
