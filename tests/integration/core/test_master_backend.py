"""MasterBackend behaviour beyond the shared contract: batching, retries, auth, fallbacks.

What a real master can show (info, tokens, a cancel) runs against the real one; the stub master
stays for what a real master cannot be made to do: answer 503 on demand, lack the checkpoint
list route, count the requests it got.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _harness import patched_env
from _real_master import ContractMaster, RealMasterHarness
from _stub_master import StubMaster, wait_for

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


def _real_backend(on: RealMasterHarness, *, allocation_id: str, token: str) -> MasterBackend:
    url = on.allocation_env["TRAINYARD_MASTER_URL"]
    return MasterBackend(url, allocation_id, token, on.trial_id, retry_for_s=2.0)


def test_a_token_opens_only_its_own_allocation(
    contract_master: ContractMaster, tmp_path: Path
) -> None:
    mine = RealMasterHarness(contract_master, tmp_path / "mine")
    other = RealMasterHarness(contract_master, tmp_path / "other")
    try:
        stolen = _real_backend(mine, allocation_id=mine.allocation_id, token=other.token)
        with pytest.raises(
            MasterError, match=rf"403 .*does not open allocation {mine.allocation_id}"
        ):
            stolen.trial_info()
        stolen.close()
        unknown = _real_backend(mine, allocation_id=mine.allocation_id, token="made-up")
        with pytest.raises(MasterError, match=r"401 .*unknown allocation token"):
            unknown.trial_info()
        unknown.close()
    finally:
        mine.close()
        other.close()


def test_info_is_what_the_master_allocated(contract_master: ContractMaster, tmp_path: Path) -> None:
    harness = RealMasterHarness(contract_master, tmp_path)
    try:
        with harness.init() as ctx:
            assert ctx.info.trial_id == harness.trial_id
            assert ctx.info.experiment_id == harness.experiment_id
            assert ctx.info.hparams == {"lr": 0.1}
            assert ctx.info.trial_seed == harness.stored_seed()
            assert ctx.info.latest_checkpoint is None and ctx.info.restarts == 0
            assert ctx.info.config.name == "core-contract"
    finally:
        harness.close()


def test_info_is_fetched_once(stub: StubMaster, tmp_path: Path) -> None:
    storage = {"type": "shared_fs", "host_path": str(tmp_path)}
    env = stub.env(TRAINYARD_CHECKPOINT_STORAGE=json.dumps(storage))
    with patched_env(env), core.init() as ctx:
        assert ctx.info.trial_id == stub.trial_id
    assert stub.requests["GET /api/v1/allocations/alloc-1/info"] == 1


def test_canceling_the_experiment_is_seen_by_should_stop(
    contract_master: ContractMaster, tmp_path: Path
) -> None:
    harness = RealMasterHarness(contract_master, tmp_path)
    try:
        with harness.init() as ctx:
            assert not ctx.searcher.should_stop()
            contract_master.client.cancel_experiment(harness.experiment_id)
            wait_for(ctx.searcher.should_stop, timeout_s=5)
            assert ctx.preempt.should_preempt()
    finally:
        harness.close()


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
