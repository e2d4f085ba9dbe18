"""MasterBackend behaviour beyond the shared contract: batching, retries, auth, fallbacks."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _harness import patched_env
from _stub_master import StubMaster

import trainyard.core as core
from trainyard.core import MasterBackend, MasterError


@pytest.fixture
def stub() -> Iterator[StubMaster]:
    master = StubMaster(operations=[5]).start()
    yield master
    master.stop()


def _backend(
    stub: StubMaster, *, token: str | None = None, retry_for_s: float = 10.0
) -> MasterBackend:
    return MasterBackend(
        stub.url,
        stub.allocation_id,
        token or stub.token,
        stub.trial_id,
        preemption_poll_s=1.0,
        retry_for_s=retry_for_s,
    )


def test_training_metrics_are_sent_in_batches(stub: StubMaster) -> None:
    backend = _backend(stub)
    started = time.perf_counter()
    for step in range(1000):
        backend.report_metrics("training", step, {"loss": 1.0})
    enqueue_s = time.perf_counter() - started
    backend.flush()
    backend.close()
    assert len(stub.metrics["training"]) == 1000
    assert stub.metric_posts <= 10, f"{stub.metric_posts} POSTs for 1000 reports"
    assert enqueue_s < 1.0, "reporting blocked on the network"


def test_transient_503s_are_retried(stub: StubMaster) -> None:
    backend = _backend(stub)
    stub.fail_next(3)
    backend.report_metrics("validation", 4, {"val": 0.5})
    backend.flush()
    backend.close()
    assert list(stub.metrics["validation"]) == [4]


def test_unreachable_master_fails_with_one_line_after_retrying() -> None:
    backend = MasterBackend("http://127.0.0.1:9", "a", "t", 1, retry_for_s=0.5)
    with pytest.raises(MasterError, match="unreachable for GET /allocations/a/info") as info:
        backend.trial_info()
    assert "\n" not in str(info.value)
    backend.close()


def test_a_wrong_token_is_refused_with_the_masters_detail(stub: StubMaster) -> None:
    backend = _backend(stub, token="stolen")
    with pytest.raises(MasterError, match=r"403 .* bad allocation token"):
        backend.trial_info()
    backend.close()


def test_info_comes_from_the_master(stub: StubMaster, tmp_path: Path) -> None:
    storage = {"type": "shared_fs", "host_path": str(tmp_path)}
    env = stub.env(TRAINYARD_CHECKPOINT_STORAGE=json.dumps(storage))
    with patched_env(env), core.init() as ctx:
        assert ctx.info.trial_id == stub.trial_id
        assert ctx.info.hparams == {"lr": 0.1}
        assert ctx.info.trial_seed == 1234
        assert ctx.info.latest_checkpoint is None
        assert ctx.checkpoint.storage.list_checkpoints() == []
    assert stub.requests["GET /api/v1/allocations/alloc-1/info"] == 1


def test_a_stop_from_the_searcher_is_seen_by_should_stop(stub: StubMaster) -> None:
    with patched_env(stub.env()), core.init() as ctx:
        assert not ctx.searcher.should_stop()
        stub.request_preemption("stop")
        deadline = time.monotonic() + 5
        while not ctx.searcher.should_stop() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ctx.searcher.should_stop() and ctx.preempt.should_preempt()


def test_history_falls_back_when_the_master_cannot_list_checkpoints(tmp_path: Path) -> None:
    stub = StubMaster(list_checkpoints_route=False).start()
    storage = {"type": "shared_fs", "host_path": str(tmp_path)}
    try:
        with patched_env(stub.env(TRAINYARD_CHECKPOINT_STORAGE=json.dumps(storage))):
            with core.init() as ctx:
                for steps in (1, 2):
                    with ctx.checkpoint.store_path({"steps_completed": steps}) as (path, _):
                        (path / "x").write_text(str(steps))
                newest = stub.checkpoints[-1]["uuid"]
                assert ctx.checkpoint.latest_good() == newest
            with core.init() as again:
                assert again.checkpoint.latest_good() == newest
    finally:
        stub.stop()
