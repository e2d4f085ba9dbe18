"""kill -9 of trials and of the master during a real adaptive ASHA search on a real master, and
every run still ends as an uninterrupted one does.

Each campaign runs the search once without faults (the baseline), then again, round after round,
under a seeded fault plan, and checks every ended run (`reliability_checks.CHECKS`): every trial
COMPLETED; each training step served once, nothing lost, values as reported; the searcher's
decisions (trials, hparams, validations, final lengths) equal to the baseline's; each trial's
latest checkpoint holding its final length; no checkpoint dir, half-written checkpoint, work dir
or allocation left behind; every line a trial printed served once by `GET /trials/{id}/logs`;
no trial process left. Replay a failure with the `RELIABILITY_SEED` it names.

The first test is the fast subset that `make test` runs; the `reliability` ones run in
`make reliability` (see docs/reliability.md).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from postgres_schema import fresh_postgres_database
from reliability_controls import TAMPERED, tamper_and_check
from reliability_master import CrashableMaster
from reliability_scenario import Campaign, SearchShape, run_campaign

Record = Callable[[Campaign], None]

FAST = SearchShape(max_trials=6, max_length=8)
FULL = SearchShape(max_trials=12, max_length=16)


def _campaign(
    root: Path,
    seed: int,
    *,
    db_url: str | None,
    shape: SearchShape,
    trial_kills: int,
    master_kills: int,
    max_rounds: int,
    control: bool = False,
) -> tuple[Campaign, CrashableMaster, list[str]]:
    """Runs the campaign on a fresh master; with `control`, then the negative control on its
    baseline run (the checks that failed on the tampered results)."""
    master = CrashableMaster(root / "master", db_url=db_url).start()
    caught: list[str] = []
    try:
        campaign = run_campaign(
            master,
            root,
            seed=seed,
            backend="postgresql" if db_url else "sqlite",
            shape=shape,
            trial_kills=trial_kills,
            master_kills=master_kills,
            max_rounds=max_rounds,
        )
        if control:
            first = campaign.rounds[0]
            baseline = first.verdict.decisions
            caught = tamper_and_check(master, first.experiment_id, root / "truth-0", baseline)
    finally:
        master.stop()
    return campaign, master, caught


def _assert_survived(
    campaign: Campaign, master: CrashableMaster, *, trial_kills: int, master_kills: int
) -> None:
    """Every round held every check, and the plan was delivered (a suite that injected nothing
    proves nothing)."""
    replay = f"replay with RELIABILITY_SEED={campaign.seed}"
    failures = campaign.failures()
    assert not failures, f"{replay}\n{failures}\n--- master log tail:\n{master.log(3000)}"
    got = campaign.delivered
    trial = got["trial"] + got["trial_mid_checkpoint"]
    crash = got["master"] + got["master_mid_checkpoint"]
    assert campaign.undelivered == 0 and trial >= trial_kills and crash >= master_kills, (
        f"{replay}: only {got} of the planned {trial_kills} trial and {master_kills} master "
        f"kills were delivered ({campaign.undelivered} left over)"
    )
    assert got["trial_mid_checkpoint"] >= 1 and got["master_mid_checkpoint"] >= 1, got


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_fast_kills_of_trials_and_master_during_asha_lose_nothing(
    tmp_path: Path, reliability_seed: int, record_campaign: Record
) -> None:
    campaign, master, caught = _campaign(
        tmp_path,
        reliability_seed,
        db_url=None,
        shape=FAST,
        trial_kills=3,
        master_kills=1,
        max_rounds=2,
        control=True,
    )
    record_campaign(campaign)
    # The checks are not vacuous: each one fails on results damaged the way it guards against.
    assert sorted(set(TAMPERED) - set(caught)) == [], caught
    _assert_survived(campaign, master, trial_kills=3, master_kills=1)


@pytest.mark.reliability
@pytest.mark.timeout(1500)
def test_40_trial_and_10_master_kills_during_asha_on_sqlite_lose_nothing(
    tmp_path: Path, reliability_seed: int, record_campaign: Record
) -> None:
    campaign, master, _ = _campaign(
        tmp_path,
        reliability_seed,
        db_url=None,
        shape=FULL,
        trial_kills=40,
        master_kills=10,
        max_rounds=12,
    )
    record_campaign(campaign)
    _assert_survived(campaign, master, trial_kills=40, master_kills=10)


@pytest.mark.reliability
@pytest.mark.postgres
@pytest.mark.timeout(900)
def test_trial_and_master_kills_during_asha_on_postgresql_lose_nothing(
    tmp_path: Path, reliability_seed: int, record_campaign: Record
) -> None:
    with fresh_postgres_database("trainyard_reliability") as db_url:
        campaign, master, _ = _campaign(
            tmp_path,
            reliability_seed,
            db_url=db_url,
            shape=FULL,
            trial_kills=12,
            master_kills=4,
            max_rounds=4,
        )
    record_campaign(campaign)
    _assert_survived(campaign, master, trial_kills=12, master_kills=4)
