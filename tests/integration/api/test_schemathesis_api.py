"""schemathesis against the live OpenAPI spec of a real master, signed in with real tokens.

Every operation of the spec is fuzzed, in the stateless phases and the stateful one (links are
inferred from the spec by schemathesis), with these checks: no 5xx, every status declared, every
body valid against its declared schema, every Content-Type declared. The trial API runs first, with
the token and ids of a live allocation (a trial that only waits), then the user API with the admin
token. The fast variant is part of `make test`; the fuller one (more examples, every phase, SQLite
and PostgreSQL) is marked `reliability`.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from master_process import RunningMaster
from tiny_experiment import write_tiny_experiment

from trainyard.client import Client
from trainyard.errors import TrainyardError

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "response_schema_conformance",
        "content_type_conformance",
    ]
)
HOLD_CONFIG = """
name: hold
entrypoint: sh hold.sh
searcher:
  name: single
  metric: loss
  max_length:
    batches: 10
max_restarts: 0
"""


@dataclass(frozen=True)
class LiveAllocation:
    token: str
    allocation_id: str
    trial_id: int
    experiment_id: int
    ended_trial_id: int


def seed_master(master: RunningMaster, root: Path) -> LiveAllocation:
    """A finished experiment (trials, metrics, checkpoints, logs to read back) and one whose
    trial only waits, handing out its allocation's token and ids."""
    config, model_dir = write_tiny_experiment(root)
    holder = root / "holder"
    holder.mkdir()
    out = root / "allocation.txt"
    (holder / "hold.sh").write_text(
        f'echo "$TRAINYARD_ALLOCATION_TOKEN $TRAINYARD_ALLOCATION_ID $TRAINYARD_TRIAL_ID"'
        f" > {out}.tmp && mv {out}.tmp {out}\nexec sleep 900\n"
    )
    hold_yaml = root / "hold.yaml"
    hold_yaml.write_text(HOLD_CONFIG)
    with Client(master.url, master.token) as client:
        done = client.create_experiment(config, model_dir)
        final = client.wait_experiment(done.id, interval=0.3, timeout=120)
        assert final.state == "COMPLETED", master.log()[-3000:]
        ended_trial_id = client.list_trials(done.id).items[0].id
        hold = client.create_experiment(hold_yaml, holder)
    deadline = time.monotonic() + 60
    while not out.exists():
        assert time.monotonic() < deadline, master.log()[-3000:]
        time.sleep(0.1)
    token, allocation_id, trial_id = out.read_text().split()
    return LiveAllocation(token, allocation_id, int(trial_id), hold.id, ended_trial_id)


def run_schemathesis(
    master: RunningMaster,
    token: str,
    work: Path,
    *,
    args: list[str],
    parameters: dict[str, str | int],
    ended_trial_id: int,
    max_examples: int,
    phases: str,
) -> None:
    """One `st run`; fails the test with schemathesis' report when it finds anything."""
    config = work / f"schemathesis-{len(list(work.glob('schemathesis-*')))}.toml"
    lines = ["[parameters]"] + [f'"{k}" = {v!r}'.replace("'", '"') for k, v in parameters.items()]
    stream = _STREAM_OF_AN_ENDED_TRIAL.format(trial_id=ended_trial_id)
    config.write_text("\n".join(lines) + "\n" + stream)
    cmd = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run"]
    cmd += [f"{master.url}/openapi.json", "-H", f"Authorization: Bearer {token}"]
    cmd += ["--checks", CHECKS, "--max-examples", str(max_examples), "--phases", phases]
    cmd += ["--seed", "20261208", "--workers", "1", "--no-shrink", "--request-timeout", "30"]
    cmd += ["--suppress-health-check", "all", *args]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=work)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-12000:] + "\n--- master log ---\n" + master.log()[-3000:]
    assert "Tested:" in report, report[-3000:]


# Long polls are fuzzed with no wait: the values themselves are checked by the bounded types.
NO_WAIT = {"query.timeout_seconds": 0}
# A log stream lasts as long as its trial: it is fuzzed on one that has ended.
_STREAM_OF_AN_ENDED_TRIAL = """
[[operations]]
include-path = "/api/v1/trials/{{trial_id}}/logs/stream"
parameters = {{ "path.trial_id" = {trial_id} }}
"""


def fuzz_everything(master: RunningMaster, work: Path, *, max_examples: int, phases: str) -> None:
    live = seed_master(master, work)
    try:
        _fuzz(master, work, live, max_examples=max_examples, phases=phases)
    finally:
        with Client(master.url, master.token) as client, contextlib.suppress(TrainyardError):
            client.kill_experiment(live.experiment_id)  # the waiting trial (fuzzing may have)


def _fuzz(
    master: RunningMaster, work: Path, live: LiveAllocation, *, max_examples: int, phases: str
) -> None:
    run_schemathesis(
        master,
        live.token,
        work,
        args=["--include-tag", "trial API"],
        parameters={
            **NO_WAIT,
            "path.trial_id": live.trial_id,
            "path.allocation_id": live.allocation_id,
        },
        ended_trial_id=live.ended_trial_id,
        max_examples=max_examples,
        phases=phases,
    )
    run_schemathesis(
        master,
        master.token,
        work,
        args=["--exclude-tag", "trial API"],
        parameters=NO_WAIT,
        ended_trial_id=live.ended_trial_id,
        max_examples=max_examples,
        phases=phases,
    )


@pytest.mark.slow
def test_schemathesis_finds_nothing(master: RunningMaster, tmp_path: Path) -> None:
    fuzz_everything(master, tmp_path, max_examples=3, phases="examples,fuzzing,stateful")


@pytest.mark.reliability
@pytest.mark.timeout(1800)
def test_schemathesis_finds_nothing_in_a_longer_run(master: RunningMaster, tmp_path: Path) -> None:
    fuzz_everything(master, tmp_path, max_examples=10, phases="examples,coverage,fuzzing,stateful")


@pytest.mark.reliability
@pytest.mark.timeout(1800)
def test_schemathesis_finds_nothing_on_postgres(
    master_postgres: RunningMaster, tmp_path: Path
) -> None:
    fuzz_everything(master_postgres, tmp_path, max_examples=3, phases="examples,fuzzing,stateful")
