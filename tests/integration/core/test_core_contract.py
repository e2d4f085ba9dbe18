"""The Core API contract, run against both backends: LocalBackend and MasterBackend on the real
master (`python -m trainyard.master.server`, one per module, see `_real_master.py`).

Each test drives `trainyard.core.init()` as trial code would, with the environment the master gave
a real allocation, and checks what the platform side stored (the run folder, or the master's
REST API and store). The stub master (`_stub_master.py`) is kept only for what a real master
cannot be made to do: injected 503s, a missing route, request counting (test_master_backend.py).
"""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from _harness import Harness, LocalHarness
from _real_master import ContractMaster, RealMasterHarness
from _stub_master import wait_for

import trainyard.core as core
from trainyard.errors import CheckpointError


@pytest.fixture(params=["local", "real-master"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    made: Harness
    if request.param == "local":
        made = LocalHarness(tmp_path)
    else:
        master: ContractMaster = request.getfixturevalue("contract_master")
        made = RealMasterHarness(master, tmp_path)
    yield made
    made.close()


def test_training_metrics_arrive_in_order_after_flush(harness: Harness) -> None:
    with harness.init() as ctx:
        for step in range(1, 201):
            ctx.train.report_training_metrics(step, {"loss": 1.0 / step, "step_sq": step * step})
        ctx.train.flush()
        got = harness.reports("training")
        assert [s for s, _ in got] == list(range(1, 201))
        assert got[49][1] == {"loss": 1.0 / 50, "step_sq": 2500.0}


def test_metrics_queued_at_exit_are_delivered(harness: Harness) -> None:
    with harness.init() as ctx:
        ctx.train.report_training_metrics(3, {"loss": 0.5})
    assert harness.reports("training") == [(3, {"loss": 0.5})]


def test_validation_metrics_are_delivered_before_the_call_returns(harness: Harness) -> None:
    with harness.init() as ctx:
        ctx.train.report_validation_metrics(10, {"val_loss": 0.25})
        assert harness.reports("validation") == [(10, {"val_loss": 0.25})]


def test_nan_and_infinities_are_reported_as_such(harness: Harness) -> None:
    with harness.init() as ctx:
        ctx.train.report_training_metrics(1, {"loss": math.nan, "up": math.inf, "down": -math.inf})
        ctx.train.report_validation_metrics(1, {"val_loss": math.nan})
        op = next(iter(ctx.searcher.operations()))
        op.report_completed(math.nan)
    ((_steps, training),) = harness.reports("training")
    assert math.isnan(training["loss"]) and training["up"] == math.inf
    assert training["down"] == -math.inf
    assert math.isnan(harness.reports("validation")[0][1]["val_loss"])
    ((length, metric),) = harness.completed()
    assert length == harness.expected_lengths[0] and math.isnan(metric)


def test_searcher_operations_loop_trains_to_each_length(harness: Harness) -> None:
    trained = 0
    with harness.init() as ctx:
        assert ctx.searcher.length_unit is None  # no config with max_length in either harness
        for op in ctx.searcher.operations():
            while trained < op.length:
                trained += 1
                ctx.train.report_training_metrics(trained, {"loss": 1.0 / trained})
            ctx.train.report_validation_metrics(trained, {"val_loss": 2.0 / trained})
            op.report_completed(2.0 / trained)
        assert ctx.searcher.should_stop()
    assert trained == harness.expected_lengths[-1]
    assert harness.completed() == [(n, 2.0 / n) for n in harness.expected_lengths]
    assert [s for s, _ in harness.reports("validation")] == harness.expected_lengths


def test_asking_for_the_next_operation_before_completing_is_an_error(harness: Harness) -> None:
    with harness.init() as ctx:
        ops = ctx.searcher.operations()
        next(ops)
        with pytest.raises(core.CoreUsageError, match="was not completed"):
            next(ops)


def test_checkpoint_round_trip_registers_after_commit(harness: Harness) -> None:
    with harness.init() as ctx:
        with ctx.checkpoint.store_path({"steps_completed": 5, "note": "x"}) as (path, uuid):
            (path / "weights.bin").write_bytes(b"w" * 64)
            assert harness.checkpoints() == []  # not registered before commit
        assert harness.checkpoints() == [(uuid, 5)]
        with ctx.checkpoint.restore_path(uuid) as restored:
            assert (restored / "weights.bin").read_bytes() == b"w" * 64
        assert ctx.checkpoint.get_metadata(uuid) == {"steps_completed": 5, "note": "x"}
    with harness.init() as again:
        assert again.info.latest_checkpoint == uuid


def test_metadata_without_steps_completed_is_refused(harness: Harness) -> None:
    with harness.init() as ctx, pytest.raises(core.CoreUsageError, match="steps_completed"):
        ctx.checkpoint.store_path({"epoch": 1}).__enter__()


def _store(ctx: core.Context, steps: int) -> str:
    with ctx.checkpoint.store_path({"steps_completed": steps}) as (path, uuid):
        (path / "state.bin").write_bytes(bytes([steps]) * 100)
    return uuid


def test_corrupt_newest_checkpoint_falls_back_to_the_previous_good(harness: Harness) -> None:
    with harness.init() as ctx:
        older, newer = _store(ctx, 5), _store(ctx, 10)
        assert ctx.checkpoint.latest_good() == newer
        damaged = harness.storage_root / newer / "state.bin"
        damaged.write_bytes(b"\x00" * 100)
        with pytest.raises(CheckpointError, match=f"checkpoint {newer} is corrupt"):
            ctx.checkpoint.restore_path(newer).__enter__()
        assert ctx.checkpoint.latest_good() == older
        assert ctx.checkpoint.latest_good([newer, older]) == older


def test_partial_checkpoint_without_manifest_is_detected(harness: Harness) -> None:
    with harness.init() as ctx:
        good = _store(ctx, 5)
        partial = harness.storage_root / "half-written"
        partial.mkdir(parents=True)
        (partial / "state.bin").write_bytes(b"half")
        with pytest.raises(CheckpointError, match="half-written is partial"):
            ctx.checkpoint.restore_path("half-written").__enter__()
        assert ctx.checkpoint.latest_good(["half-written", good]) == good
        assert ctx.checkpoint.latest_good(["half-written"]) is None


def test_early_exit_is_reported(harness: Harness) -> None:
    with harness.init() as ctx:
        ctx.train.report_early_exit("errored")
        with pytest.raises(core.CoreUsageError, match="must be one of"):
            ctx.train.report_early_exit("bored")
    assert harness.early_exits() == ["errored"]


def test_invalid_hp_raised_inside_is_reported_and_swallowed(harness: Harness) -> None:
    with harness.init():
        raise core.InvalidHP("lr too large for this batch size")
    assert harness.early_exits() == ["invalid_hp"]


def test_preemption_request_is_seen_by_should_preempt(harness: Harness) -> None:
    with harness.init() as ctx:
        assert not ctx.preempt.should_preempt()
        harness.request_preemption()
        wait_for(ctx.preempt.should_preempt, timeout_s=5)
        assert ctx.preempt.should_preempt()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_preemption_is_seen_by_all_ranks_at_the_same_step(harness: Harness, tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    port = _free_port()
    procs = []
    for rank in range(2):
        env = {
            **os.environ,
            **harness.env(),
            "RANK": str(rank),
            "WORLD_SIZE": "2",
            "LOCAL_RANK": str(rank),
            "LOCAL_WORLD_SIZE": "2",
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
        }
        cmd = [sys.executable, str(Path(__file__).with_name("_preempt_worker.py")), str(ready)]
        procs.append(
            subprocess.Popen(
                cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
        )
    try:
        wait_for(ready.exists, timeout_s=60)
        harness.request_preemption()
        outputs = [p.communicate(timeout=60)[0] for p in procs]
    finally:
        for p in procs:
            p.kill()
    assert [p.returncode for p in procs] == [0, 0], outputs
    results = [line for out in outputs for line in out.splitlines() if line.startswith("RESULT")]
    steps = {line.split("step=")[1] for line in results}
    assert len(results) == 2 and len(steps) == 1 and steps != {"-1"}, results
    ((uuid, _),) = harness.checkpoints()
    assert sorted(p.name for p in (harness.storage_root / uuid).iterdir()) == [
        "MANIFEST.json",
        "metadata.json",
        "rank-0.txt",
        "rank-1.txt",
    ]
