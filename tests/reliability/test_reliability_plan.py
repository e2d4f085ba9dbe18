"""The fault plan is a pure function of the seed, with the kinds and counts asked for."""

from __future__ import annotations

import random

from reliability_faults import make_plan


def test_a_seed_replays_the_same_plan_and_another_seed_draws_another() -> None:
    def plan(seed: int) -> list[object]:
        return list(make_plan(random.Random(seed), trial_kills=40, master_kills=10))

    assert plan(7) == plan(7)
    assert plan(7) != plan(8)


def test_the_plan_holds_the_kills_asked_for_with_mid_checkpoint_ones_of_both_kinds() -> None:
    faults = make_plan(random.Random(1), trial_kills=40, master_kills=10)
    kinds = [f.kind for f in faults]
    assert kinds.count("trial") + kinds.count("trial_mid_checkpoint") == 40
    assert kinds.count("master") + kinds.count("master_mid_checkpoint") == 10
    assert kinds.count("trial_mid_checkpoint") == 13 and kinds.count("master_mid_checkpoint") == 5
    assert all(f.down_s == 0.0 for f in faults if f.kind.startswith("trial"))
    assert all(0.2 <= f.delay_s <= 2.5 for f in faults)


def test_the_smallest_plan_still_aims_at_a_checkpoint_with_each_kind() -> None:
    kinds = sorted(f.kind for f in make_plan(random.Random(3), trial_kills=1, master_kills=1))
    assert kinds == ["master_mid_checkpoint", "trial_mid_checkpoint"]
