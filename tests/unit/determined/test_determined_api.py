"""`trainyard.determined` is shaped like Determined's public API: names, signatures, and the
behaviours their docs describe, checked in-process (local mode, one rank)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import yaml

import trainyard.determined as det
from trainyard.core import CoreUsageError
from trainyard.determined import _info, core, pytorch


def test_public_names() -> None:
    assert det.LOG_FORMAT == "%(levelname)s: [%(process)s] %(name)s: %(message)s"
    assert set(det.__all__) == {
        "LOG_FORMAT",
        "ClusterInfo",
        "TrialInfo",
        "core",
        "get_cluster_info",
        "pytorch",
    }
    assert det.pytorch is pytorch
    assert {"init", "DistributedContext", "Context", "SearcherOperation", "PreemptMode"} <= set(
        core.__all__
    )
    assert {
        "PyTorchTrial",
        "PyTorchTrialContext",
        "PyTorchCallback",
        "DataLoader",
        "Trainer",
        "init",
        "Batch",
        "Epoch",
        "load_trial_from_checkpoint_path",
        "LRScheduler",
        "Reducer",
        "MetricReducer",
    } <= set(pytorch.__all__)


def test_signatures_follow_determined() -> None:
    params = inspect.signature(core.DistributedContext).parameters
    assert list(params)[:7] == [
        "rank",
        "size",
        "local_rank",
        "local_size",
        "cross_rank",
        "cross_size",
        "chief_ip",
    ]
    assert (
        "chief_ip" in inspect.signature(core.DistributedContext.from_torch_distributed).parameters
    )
    assert list(inspect.signature(core.TrainContext.report_metrics).parameters)[1:] == [
        "group",
        "steps_completed",
        "metrics",
    ]
    assert "auto_ack" in inspect.signature(core.PreemptContext.should_preempt).parameters
    fit = inspect.signature(pytorch.Trainer.fit).parameters
    assert {"max_length", "validation_period", "checkpoint_period", "latest_checkpoint"} <= set(fit)


@pytest.fixture
def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = {
        "name": "local",
        "entrypoint": "python3 train.py",
        "hyperparameters": {
            "increment_by": 3,
            "lr": {"type": "double", "minval": 0.1, "maxval": 1},
        },
        "searcher": {"name": "single", "metric": "x"},
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config))
    monkeypatch.delenv("TRAINYARD_MASTER_URL", raising=False)
    monkeypatch.setenv("TRAINYARD_CONFIG", str(path))
    monkeypatch.setenv("TRAINYARD_RUN_DIR", str(tmp_path / "run"))
    _info._read.cache_clear()
    yield tmp_path
    _info._read.cache_clear()


def test_local_cluster_info_has_real_ids(local: Path) -> None:
    info = det.get_cluster_info()
    assert info.trial.trial_id == 1 and info.trial.experiment_id == 1
    assert info.trial.hparams == {"increment_by": 3, "lr": 0.1}
    assert info.latest_checkpoint is None
    assert info.slot_ids == [0] and info.container_addrs and info.container_rank == 0


def test_local_core_context(local: Path) -> None:
    with det.core.init() as ctx:
        assert ctx.info.trial.trial_id == 1
        assert ctx.distributed.get_rank() == 0 and ctx.distributed.get_size() == 1
        ctx.train.report_metrics("training", 5, {"x": 1.0})
        ctx.train.report_validation_metrics(steps_completed=5, metrics={"x": 2.0})
        with pytest.raises(CoreUsageError, match="group 'inference' is not supported"):
            ctx.train.report_metrics("inference", 5, {"x": 1.0})
        with ctx.checkpoint.store_path({"steps_completed": 5}) as (path, uuid):
            (path / "f").write_text("1")
        assert ctx.checkpoint.get_metadata(uuid)["steps_completed"] == 5
        with ctx.checkpoint.restore_path(uuid) as path:
            assert (path / "f").read_text() == "1"
        assert ctx.preempt.should_preempt(auto_ack=False) is False
        with pytest.raises(CoreUsageError, match=r"needs searcher\.max_length"):
            list(ctx.searcher.operations())
    _info._read.cache_clear()
    assert det.get_cluster_info().latest_checkpoint == uuid, "resumes from the run folder"


def test_operations_with_a_length(local: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = yaml.safe_load(Path(local / "c.yaml").read_text())
    config["searcher"]["max_length"] = {"batches": 4}
    (local / "c.yaml").write_text(yaml.safe_dump(config))
    with det.core.init() as ctx:
        assert ctx.searcher.get_configured_units() is core.Unit.BATCHES
        ops = []
        for op in ctx.searcher.operations():
            op.report_progress(2)
            op.report_completed(0.5)
            ops.append(op.length)
    assert ops == [4]


def test_checkpoint_storage_argument_and_horovod_are_refused() -> None:
    with pytest.raises(CoreUsageError, match="checkpoint_storage"):
        det.core.init(checkpoint_storage="/tmp/x")
    with pytest.raises(CoreUsageError, match="Horovod is not supported"):
        det.core.DistributedContext.from_horovod(object())


def test_units() -> None:
    assert pytorch.Batch(5).to_batches(10) == 5
    assert pytorch.Epoch(2).to_batches(10) == 20
    with pytest.raises(CoreUsageError, match="positive integer"):
        pytorch.Batch(0)


def test_off_cluster_without_a_config_is_none_like_determined(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TRAINYARD_MASTER_URL", raising=False)
    monkeypatch.delenv("TRAINYARD_CONFIG", raising=False)
    _info._read.cache_clear()
    try:
        assert det.get_cluster_info() is None  # scripts pick their own local settings then
    finally:
        _info._read.cache_clear()


def test_samplers_and_type_names_the_examples_use() -> None:
    def train_batch(batch: pytorch.TorchData) -> None: ...  # evaluated at definition time

    batches = [[0, 1], [2, 3], [4, 5]]
    shard = pytorch.samplers.DistributedBatchSampler(batches, 2, 1)
    assert list(shard) == [[2, 3]] and len(shard) == 1
    assert list(pytorch.samplers.SkipBatchSampler(batches, 2)) == [[4, 5]]
    endless = iter(pytorch.samplers.RepeatBatchSampler(batches))
    assert [next(endless) for _ in range(4)] == [*batches, [0, 1]]
    assert callable(train_batch)


def test_httpx_request_lines_stay_out_of_a_trial_log() -> None:
    import logging

    import trainyard.core._http  # noqa: F401  # the trial-side client sets the levels

    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING
    assert logging.getLogger("httpcore").getEffectiveLevel() >= logging.WARNING
