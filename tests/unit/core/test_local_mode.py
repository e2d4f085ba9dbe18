"""Local mode specifics: config-driven hparams and length, run folder, file and SIGTERM flags."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
import yaml

import trainyard.core as core
from trainyard.core._local_backend import FLAG_CHECK_SECONDS

CONFIG = {
    "name": "local-test",
    "entrypoint": "python3 train.py",
    "searcher": {"name": "single", "metric": "val_loss", "max_length": {"batches": 30}},
    "hyperparameters": {
        "lr": 0.1,
        "layers": {"type": "categorical", "vals": [2, 3]},
        "wd": {"type": "log", "minval": -4, "maxval": -2},
        "opt": {"momentum": {"type": "double", "minval": 0.5, "maxval": 0.9}},
    },
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "TRAINYARD_MASTER_URL",
        "TRAINYARD_CONFIG",
        "TRAINYARD_RUN_DIR",
        "TRAINYARD_LOCAL_LENGTH",
    ):
        monkeypatch.delenv(name, raising=False)


def test_config_gives_hparams_length_and_unit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "const.yaml"
    path.write_text(yaml.safe_dump(CONFIG))
    monkeypatch.setenv("TRAINYARD_CONFIG", str(path))
    monkeypatch.chdir(tmp_path)
    with core.init() as ctx:
        assert ctx.info.hparams == {
            "lr": 0.1,
            "layers": 2,
            "wd": pytest.approx(1e-4),
            "opt": {"momentum": 0.5},
        }
        assert ctx.info.trial_id is None and ctx.info.config.name == "local-test"
        assert ctx.searcher.length_unit == "batches"
        (op,) = [op for op in _complete_all(ctx)]
        assert op == 30
    assert (tmp_path / "runs" / "local-test" / "events.jsonl").is_file()


def _complete_all(ctx: core.Context) -> list[int]:
    lengths = []
    for op in ctx.searcher.operations():
        lengths.append(op.length)
        op.report_completed(0.5)
    return lengths


def test_explicit_hparams_and_length_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAINYARD_LOCAL_LENGTH", "7")
    with core.init(config=CONFIG, hparams={"lr": 1.0}, run_dir=tmp_path / "run") as ctx:
        assert ctx.info.hparams == {"lr": 1.0}
        assert _complete_all(ctx) == [7]


def test_missing_length_says_how_to_set_one(tmp_path: Path) -> None:
    with (
        core.init(run_dir=tmp_path) as ctx,
        pytest.raises(core.CoreUsageError, match="TRAINYARD_LOCAL_LENGTH"),
    ):
        _complete_all(ctx)


def test_bad_config_path_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRAINYARD_CONFIG", str(tmp_path / "nope.yaml"))
    with pytest.raises(core.CoreUsageError, match="is not a file"):
        core.init(run_dir=tmp_path)


def test_stale_preempt_flag_is_cleared_and_a_new_one_is_seen(tmp_path: Path) -> None:
    (tmp_path / "PREEMPT").touch()
    with core.init(run_dir=tmp_path) as ctx:
        assert not ctx.preempt.should_preempt()
        (tmp_path / "PREEMPT").touch()
        deadline = time.monotonic() + 10 * FLAG_CHECK_SECONDS
        while not ctx.preempt.should_preempt() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert ctx.preempt.should_preempt()


def test_sigterm_requests_preemption_and_the_handler_is_restored(tmp_path: Path) -> None:
    before = signal.getsignal(signal.SIGTERM)
    with core.init(run_dir=tmp_path) as ctx:
        os.kill(os.getpid(), signal.SIGTERM)
        assert ctx.preempt.should_preempt()
    assert signal.getsignal(signal.SIGTERM) == before


def test_metrics_are_echoed_to_the_console(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with core.init(run_dir=tmp_path) as ctx:
        ctx.train.report_training_metrics(3, {"loss": 0.125})
    assert "[trainyard] training steps=3 loss=0.125" in capsys.readouterr().out


def test_steps_must_be_a_non_negative_int(tmp_path: Path) -> None:
    with (
        core.init(run_dir=tmp_path) as ctx,
        pytest.raises(core.CoreUsageError, match="steps is -1"),
    ):
        ctx.train.report_training_metrics(-1, {"loss": 1.0})


def test_non_chief_store_without_shard_is_refused(tmp_path: Path) -> None:
    info = core.TrialInfo(
        None,
        None,
        {},
        0,
        None,
        1,
        checkpoint_storage={"type": "shared_fs", "host_path": str(tmp_path)},
    )
    dist = core.DistributedContext(
        rank=1, size=2, local_rank=1, local_size=2, cross_rank=0, cross_size=1
    )
    ctx = core.Context(info=info, distributed=dist, backend=None, owns_distributed=False)
    with pytest.raises(core.CoreUsageError, match="for the chief only"):
        ctx.checkpoint.store_path({"steps_completed": 1}).__enter__()
    ctx.train.report_training_metrics(1, {"loss": 1.0})  # a no-op off the chief


def test_sharded_store_with_one_rank_commits(tmp_path: Path) -> None:
    with core.init(run_dir=tmp_path) as ctx:
        with ctx.checkpoint.store_path({"steps_completed": 4}, shard=True) as (path, uuid):
            (path / "part").write_text("p")
        assert ctx.checkpoint.storage.verify(uuid) == {
            "part": 1,
            "metadata.json": len(json.dumps({"steps_completed": 4})),
        }
        assert ctx.checkpoint.latest_good() == uuid
