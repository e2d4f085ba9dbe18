"""The API and SDK against a real master process with real trial processes (SQLite), and one
round trip on PostgreSQL."""

from __future__ import annotations

import tarfile
import time
from pathlib import Path

import pytest
from master_process import RunningMaster
from tiny_experiment import write_tiny_experiment

from trainyard.client import Client
from trainyard.errors import ConfigError, InvalidTransitionError, NotFoundError

pytestmark = pytest.mark.slow


def _client(shared_master: RunningMaster) -> Client:
    return Client(shared_master.url, shared_master.token)


def test_create_wait_and_read_everything_back(shared_master: RunningMaster, tmp_path: Path) -> None:
    config, model_dir = write_tiny_experiment(tmp_path)
    with _client(shared_master) as client:
        exp = client.create_experiment(config, model_dir)
        assert exp.state == "ACTIVE" and exp.searcher_name == "grid"
        final = client.wait_experiment(exp.id, interval=0.3, timeout=120)
        assert final.state == "COMPLETED", shared_master.log()[-3000:]
        assert final.trial_counts == {"COMPLETED": 2}

        trials = client.list_trials(exp.id, sort="best_metric").items
        assert [t.hparams["lr"] for t in trials] == [0.1, 0.2]
        assert trials[0].best_metric == pytest.approx(0.1 / 4)
        assert final.best_trial_id == trials[0].id

        points = client.trial_metrics(trials[0].id, group="training")
        assert [p.steps for p in points] == [1, 2, 3, 4]
        curves = client.experiment_metrics(exp.id)
        assert {c.trial_id for c in curves} == {t.id for t in trials}

        logs = [line.line for line in client.trial_logs(trials[0].id)]
        assert any("tiny: validated at 4 with lr 0.1" in line for line in logs)

        ckpts = client.list_checkpoints(trial_id=trials[0].id).items
        assert ckpts and ckpts[0].steps == 4
        archive = client.download_checkpoint(ckpts[0].uuid, tmp_path / "c.tar.gz")
        with tarfile.open(archive) as tar:
            member = tar.extractfile("state.txt")
            assert member is not None and member.read() == b"4"

        model_def = client.download_model_def(exp.id, tmp_path / "m.tar.gz")
        with tarfile.open(model_def) as tar:
            names = set(tar.getnames())
        assert "train.py" in names and "big.bin" not in names

        with pytest.raises(InvalidTransitionError, match="has already ended"):
            client.kill_trial(trials[0].id)
        cont_exp, cont_trial = client.continue_trial(trials[0].id, max_length=6)
        assert client.wait_experiment(cont_exp, interval=0.3, timeout=120).state == "COMPLETED"
        resumed = client.trial_metrics(cont_trial, group="training")
        assert [p.steps for p in resumed] == [5, 6]  # started from the checkpoint at 4
        assert client.get_trial(cont_trial).hparams["lr"] == 0.1


def test_kill_one_running_trial(shared_master: RunningMaster, tmp_path: Path) -> None:
    config, model_dir = write_tiny_experiment(tmp_path, length=400, step_sleep=0.05)
    with _client(shared_master) as client:
        exp = client.create_experiment(config, model_dir)
        deadline = time.monotonic() + 60
        while not (running := client.list_trials(exp.id, state="RUNNING").items):
            assert time.monotonic() < deadline, shared_master.log()[-3000:]
            time.sleep(0.2)
        victim = running[0].id
        assert client.kill_trial(victim).id == victim
        while client.get_trial(victim).state != "CANCELED":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        client.kill_experiment(exp.id)
        final = client.wait_experiment(exp.id, interval=0.3, timeout=60)
        assert final.state == "CANCELED"


def test_lifecycle_actions_and_their_one_line_errors(
    shared_master: RunningMaster, tmp_path: Path
) -> None:
    config, model_dir = write_tiny_experiment(tmp_path, length=4)
    with _client(shared_master) as client:
        exp = client.create_experiment(config, model_dir, activate=False)
        assert exp.state == "PAUSED"
        assert client.set_priority(exp.id, 10).priority == 10
        assert client.activate_experiment(exp.id).state == "ACTIVE"
        done = client.wait_experiment(exp.id, interval=0.3, timeout=120)
        assert done.state == "COMPLETED"
        with pytest.raises(InvalidTransitionError) as err:
            client.pause_experiment(exp.id)
        assert "\n" not in str(err.value) and str(exp.id) in str(err.value)

        assert client.archive_experiment(exp.id).archived is True
        listed = client.list_experiments(archived=False).items
        assert exp.id not in [e.id for e in listed]
        assert client.unarchive_experiment(exp.id).archived is False

        fork = client.fork_experiment(exp.id)
        assert fork.parent_id == exp.id and fork.id != exp.id
        client.kill_experiment(fork.id)
        killed = client.wait_experiment(fork.id, interval=0.3, timeout=60)
        assert killed.state in ("CANCELED", "COMPLETED")

        with pytest.raises(ConfigError):
            client.fork_experiment(exp.id, config_text="searcher: {name: nope}\n")
        with pytest.raises(NotFoundError, match="experiment 9999 does not exist"):
            client.kill_experiment(9999)

        assert client.delete_experiment(exp.id).state in ("DELETING", "DELETED")


def test_bad_config_is_rejected_with_its_one_line_messages(
    shared_master: RunningMaster, tmp_path: Path
) -> None:
    with _client(shared_master) as client, pytest.raises(ConfigError) as err:
        client.create_experiment(config_text="name: x\nsearcher:\n  name: grid\n")
    assert "searcher" in str(err.value)


def test_cluster_shows_the_pool(shared_master: RunningMaster) -> None:
    with _client(shared_master) as client:
        state = client.cluster()
    assert [(p.name, p.slots) for p in state.pools] == [("default", 2)]


def test_round_trip_on_postgres(master_postgres: RunningMaster, tmp_path: Path) -> None:
    config, model_dir = write_tiny_experiment(tmp_path, length=2)
    with _client(master_postgres) as client:
        assert client.info().db == "postgresql"
        exp = client.create_experiment(config, model_dir)
        final = client.wait_experiment(exp.id, interval=0.3, timeout=120)
        assert final.state == "COMPLETED", master_postgres.log()[-3000:]
        assert client.list_trials(exp.id).total == 2


def test_model_dir_over_the_limit_is_refused_before_upload(
    shared_master: RunningMaster, tmp_path: Path
) -> None:
    from trainyard.client import ModelDirTooLargeError

    config, model_dir = write_tiny_experiment(tmp_path)
    (model_dir / "weights.pt").write_bytes(bytes(range(256)) * 40_000)
    with _client(shared_master) as client, pytest.raises(ModelDirTooLargeError) as err:
        client.create_experiment(config, model_dir, limit_bytes=1000)
    assert "MB compressed; the limit is" in str(err.value)
