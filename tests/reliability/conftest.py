"""Fixtures of the fault-injection suite: the session's seed and the results record.

The seed is `RELIABILITY_SEED` when set, else drawn once per session; pytest prints it in its
header (`reliability seed: N`) and every failure repeats it, so `RELIABILITY_SEED=N` replays the
fault plan and the target choices. With `RELIABILITY_RESULTS_DIR` set (by
`tests/reliability/run_reliability.py`), each campaign is written there as JSON for the table.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_scenario import Campaign

# The per-test PostgreSQL databases come from the integration tests' helper (postgres_schema).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

SEED = int(os.environ.get("RELIABILITY_SEED") or secrets.randbelow(10**9))


def pytest_report_header() -> str:
    return f"reliability seed: {SEED} (replay with RELIABILITY_SEED={SEED})"


def pytest_collection_finish(session: pytest.Session) -> None:
    """Print the seed before any campaign starts, under `-q` too (which hides the header)."""
    here = Path(__file__).parent
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and any(here in Path(item.path).parents for item in session.items):
        reporter.write_line(f"reliability seed: {SEED} (replay with RELIABILITY_SEED={SEED})")


@pytest.fixture
def reliability_seed() -> int:
    return SEED


@pytest.fixture
def record_campaign(request: pytest.FixtureRequest) -> Callable[[Campaign], None]:
    """Writes a campaign's figures to `$RELIABILITY_RESULTS_DIR/<test id>.json` (if set)."""

    def record(campaign: Campaign) -> None:
        out = os.environ.get("RELIABILITY_RESULTS_DIR")
        if not out:
            return
        rounds = [
            {
                "round": r.number,
                "experiment_id": r.experiment_id,
                "seconds": round(r.seconds, 1),
                "faults": r.faults,
                "failed_checks": r.verdict.failed(),
                "problems": {k: v for k, v in r.verdict.problems.items() if v},
            }
            for r in campaign.rounds
        ]
        record = {
            "test": request.node.nodeid,
            "seed": campaign.seed,
            "backend": campaign.backend,
            "delivered": campaign.delivered,
            "injected": campaign.injected,
            "survived": campaign.survived,
            "undelivered": campaign.undelivered,
            "master_starts": campaign.master_starts,
            "rounds": rounds,
            "faults": campaign.log,
        }
        name = request.node.nodeid.replace("/", "_").replace(":", "_").replace("[", "_")
        path = Path(out) / f"{name.rstrip(']')}.json"
        path.write_text(json.dumps(record, indent=1))

    return record
