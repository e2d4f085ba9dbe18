"""Specs of the pure scheduler: priority, fair share, FIFO, gang, caps, preemption, backfill."""

from __future__ import annotations

import itertools
import random

import pytest

import trainyard.scheduler as scheduler
from trainyard.scheduler import (
    DEFAULT_PRIORITY,
    PoolCapacity,
    Preempt,
    Request,
    Running,
    Start,
    schedule,
)

POOL = [PoolCapacity("default", 4)]


def req(
    rid: int,
    exp: int = 1,
    *,
    slots: int = 1,
    prio: int = DEFAULT_PRIORITY,
    pool: str = "default",
    order: int | None = None,
    user: str | None = None,
    max_slots: int | None = None,
    max_concurrent: int | None = None,
) -> Request:
    return Request(
        id=rid,
        experiment_id=exp,
        pool=pool,
        slots=slots,
        priority=prio,
        order=rid if order is None else order,
        user=user,
        max_slots=max_slots,
        max_concurrent=max_concurrent,
    )


def run(
    aid: str,
    exp: int,
    slot_ids: tuple[int, ...],
    *,
    prio: int = DEFAULT_PRIORITY,
    user: str | None = None,
    stopping: bool = False,
    idle: bool = False,
    preemptible: bool = True,
    order: int = 0,
) -> Running:
    return Running(
        id=aid,
        experiment_id=exp,
        pool="default",
        slot_ids=slot_ids,
        priority=prio,
        order=order,
        user=user,
        stopping=stopping,
        idle=idle,
        preemptible=preemptible,
    )


def started(decision: scheduler.Decision) -> list[int]:
    return [s.request_id for s in decision.starts]


def test_public_surface_is_what_we_mean_to_export() -> None:
    assert set(scheduler.__all__) == {
        "DEFAULT_PRIORITY",
        "Decision",
        "PoolCapacity",
        "Preempt",
        "Reject",
        "Request",
        "Running",
        "Start",
        "schedule",
    }
    assert DEFAULT_PRIORITY == 42


def test_requests_start_on_the_lowest_free_slot_ids() -> None:
    decision = schedule([req(1, slots=2)], [run("a", 9, (0,))], POOL)
    assert decision.starts == (Start(1, "default", (1, 2)),)
    assert decision.queue == ()


def test_nothing_pending_decides_nothing() -> None:
    decision = schedule([], [run("a", 1, (0, 1))], POOL)
    assert decision == scheduler.Decision()


def test_slots_held_by_running_allocations_are_never_handed_out_twice() -> None:
    running = [run("a", 1, (0, 2))]
    decision = schedule([req(i) for i in range(1, 6)], running, POOL)
    handed = [slot for s in decision.starts for slot in s.slot_ids]
    assert sorted(handed) == [1, 3]
    assert decision.queue == (3, 4, 5)


def test_lower_priority_number_starts_first() -> None:
    pending = [req(1, exp=1, prio=50), req(2, exp=2, prio=10), req(3, exp=3, prio=42)]
    decision = schedule(pending, [], [PoolCapacity("default", 1)])
    assert started(decision) == [2]
    assert decision.queue == (3, 1)


def test_fifo_within_one_experiment_and_priority() -> None:
    pending = [req(5, order=3), req(6, order=1), req(7, order=2)]
    decision = schedule(pending, [], [PoolCapacity("default", 2)])
    assert started(decision) == [6, 7]
    assert decision.queue == (5,)


def test_two_experiments_with_the_same_priority_share_slots_equally() -> None:
    # Experiment 1 submitted all its trials first; experiment 2 still gets half of the pool.
    pending = [req(i, exp=1) for i in range(1, 5)] + [req(i, exp=2) for i in range(5, 9)]
    decision = schedule(pending, [], POOL)
    by_exp = {1: 0, 2: 0}
    for start in decision.starts:
        by_exp[1 if start.request_id < 5 else 2] += 1
    assert by_exp == {1: 2, 2: 2}
    assert decision.queue == (3, 7, 4, 8)  # the queue keeps alternating


def test_fair_share_counts_slots_already_running() -> None:
    running = [run("a", 1, (0,)), run("b", 1, (1,))]
    pending = [req(1, exp=1), req(2, exp=1), req(3, exp=2), req(4, exp=2)]
    decision = schedule(pending, running, POOL)
    assert started(decision) == [3, 4]


def test_fair_share_across_users_before_experiments() -> None:
    pending = [
        req(1, exp=1, user="ann"),
        req(2, exp=2, user="ann"),
        req(3, exp=3, user="bob"),
    ]
    running = [run("a", 4, (0,), user="ann")]
    decision = schedule(pending, running, [PoolCapacity("default", 2)])
    assert started(decision) == [3]


def test_gang_request_starts_all_slots_together_or_waits() -> None:
    decision = schedule([req(1, slots=3)], [run("a", 9, (0, 1))], POOL)
    assert decision.starts == ()
    assert decision.queue == (1,)
    decision = schedule([req(1, slots=3)], [run("a", 9, (0,))], POOL)
    assert decision.starts == (Start(1, "default", (1, 2, 3)),)


def test_experiment_max_slots_caps_what_it_holds() -> None:
    pending = [req(i, exp=1, max_slots=3) for i in range(1, 5)] + [req(9, exp=2)]
    decision = schedule(pending, [run("a", 1, (0,))], [PoolCapacity("default", 8)])
    assert sorted(started(decision)) == [1, 2, 9]
    assert 3 in decision.queue and 4 in decision.queue


def test_a_capped_request_does_not_block_the_ones_behind_it() -> None:
    pending = [req(1, exp=1, slots=2, max_slots=2), req(2, exp=2)]
    decision = schedule(pending, [run("a", 1, (0,))], POOL)
    assert started(decision) == [2]
    assert decision.queue == (1,)


def test_experiment_max_concurrent_caps_running_allocations() -> None:
    pending = [req(i, exp=1, max_concurrent=2) for i in range(1, 5)]
    decision = schedule(pending, [run("a", 1, (0,))], POOL)
    assert started(decision) == [1]


def test_idle_allocations_of_a_capped_experiment_make_way_for_its_waiting_trial() -> None:
    # Two ASHA trials wait for a promotion (idle) while the experiment's third trial waits on
    # max_concurrent=2: the idle ones are asked to stop, the newest first, just enough of them.
    running = [run("old", 1, (0,), idle=True, order=1), run("new", 1, (1,), idle=True, order=2)]
    decision = schedule([req(3, exp=1, max_concurrent=2)], running, POOL)
    assert started(decision) == []
    assert decision.preemptions == (Preempt("new", 3, "idle"),)
    assert decision.queue == (3,)


def test_busy_allocations_of_a_capped_experiment_are_never_stopped_for_its_own_trials() -> None:
    running = [run("busy", 1, (0,)), run("idle", 1, (1,), idle=True)]
    decision = schedule([req(3, exp=1, max_concurrent=1)], running, POOL)
    assert decision.preemptions == ()


def test_unknown_pool_is_rejected_with_the_known_pools_named() -> None:
    decision = schedule([req(1, pool="gpus"), req(2)], [], POOL)
    assert started(decision) == [2]
    (reject,) = decision.rejections
    assert reject.request_id == 1
    assert reject.message == "resource pool 'gpus' does not exist; known pools: default"


def test_request_larger_than_its_pool_is_rejected() -> None:
    decision = schedule([req(1, slots=5)], [], POOL)
    assert decision.starts == ()
    assert "needs 5 slots but resource pool 'default' has only 4" in decision.rejections[0].message


def test_request_larger_than_max_slots_is_rejected() -> None:
    decision = schedule([req(1, slots=2, max_slots=1)], [], POOL)
    assert "max_slots is 1" in decision.rejections[0].message


def test_pools_are_independent() -> None:
    pools = [PoolCapacity("default", 1), PoolCapacity("big", 2)]
    pending = [req(1), req(2), req(3, pool="big", slots=2)]
    decision = schedule(pending, [], pools)
    assert decision.starts == (Start(1, "default", (0,)), Start(3, "big", (0, 1)))
    assert decision.queue == (2,)


def test_higher_priority_preempts_lower_priority_when_that_frees_enough() -> None:
    running = [
        run("old", 1, (0, 1), prio=60, order=1),
        run("new", 1, (2, 3), prio=60, order=2),
        run("same", 2, (), prio=10),
    ]
    decision = schedule([req(9, exp=3, slots=2, prio=10)], running, POOL)
    assert decision.starts == ()
    assert decision.preemptions == (Preempt("new", 9, "preempt"),)  # most recent first


def test_lowest_priority_is_preempted_first() -> None:
    running = [run("p50", 1, (0, 1), prio=50), run("p90", 2, (2, 3), prio=90)]
    decision = schedule([req(9, exp=3, slots=2, prio=10)], running, POOL)
    assert decision.preemptions == (Preempt("p90", 9),)


def test_no_preemption_when_it_would_not_free_enough() -> None:
    running = [run("low", 1, (0,), prio=90), run("high", 2, (1, 2, 3), prio=5)]
    decision = schedule([req(9, exp=3, slots=2, prio=10)], running, POOL)
    assert decision.preemptions == ()
    assert decision.queue == (9,)


def test_equal_priority_never_preempts() -> None:
    running = [run("a", 1, (0, 1, 2, 3))]
    decision = schedule([req(9, exp=2)], running, POOL)
    assert decision.preemptions == ()


def test_non_preemptible_allocations_are_left_alone() -> None:
    running = [run("a", 1, (0, 1, 2, 3), prio=90, preemptible=False)]
    decision = schedule([req(9, exp=2, prio=1)], running, POOL)
    assert decision.preemptions == ()


def test_preemption_uses_free_slots_first() -> None:
    running = [run("a", 1, (0,), prio=90), run("b", 1, (1,), prio=90), run("c", 1, (2,), prio=90)]
    decision = schedule([req(9, exp=2, slots=2, prio=5)], running, POOL)
    assert len(decision.preemptions) == 1


def test_waiting_for_stopping_allocations_preempts_nothing_more() -> None:
    running = [run("a", 1, (0, 1), prio=90, stopping=True), run("b", 1, (2, 3), prio=90)]
    decision = schedule([req(9, exp=2, slots=2, prio=5)], running, POOL)
    assert decision.preemptions == ()
    assert decision.queue == (9,)


def test_a_request_waiting_on_preemption_reserves_its_pool() -> None:
    running = [run("a", 1, (0, 1, 2), prio=90)]
    pending = [req(9, exp=2, slots=2, prio=5), req(10, exp=3, slots=1, prio=50)]
    decision = schedule(pending, running, POOL)
    assert decision.preemptions == (Preempt("a", 9),)
    assert decision.starts == ()  # slot 3 is kept for request 9
    assert decision.queue == (9, 10)


def test_small_requests_backfill_when_the_large_one_just_waits() -> None:
    running = [run("a", 1, (0, 1))]
    pending = [req(9, exp=2, slots=4, order=1), req(10, exp=3, slots=1, order=2)]
    decision = schedule(pending, running, POOL)
    assert started(decision) == [10]
    assert decision.queue == (9,)


def test_idle_allocations_give_their_slots_to_any_waiting_request() -> None:
    running = [run("busy", 1, (0, 1)), run("idle", 1, (2, 3), idle=True)]
    decision = schedule([req(9, exp=2, slots=2, prio=90)], running, POOL)
    assert decision.preemptions == (Preempt("idle", 9, "idle"),)


def test_idle_allocations_are_kept_when_nobody_waits() -> None:
    decision = schedule([], [run("idle", 1, (0, 1, 2, 3), idle=True)], POOL)
    assert decision.preemptions == ()


def test_running_in_a_removed_pool_is_ignored() -> None:
    running = [Running("x", 1, "gone", (0, 1))]
    assert started(schedule([req(1)], running, POOL)) == [1]


@pytest.mark.parametrize("seed", range(40))
def test_random_inputs_keep_the_invariants(seed: int) -> None:
    rnd = random.Random(seed)
    pools = [PoolCapacity("default", rnd.randint(1, 6)), PoolCapacity("b", rnd.randint(1, 4))]
    running: list[Running] = []
    counter = itertools.count()
    for pool in pools:
        free = list(range(pool.slots))
        rnd.shuffle(free)
        while free and rnd.random() < 0.7:
            take = tuple(sorted(free[: rnd.randint(1, len(free))]))
            free = free[len(take) :]
            running.append(
                Running(
                    f"r{next(counter)}",
                    rnd.randint(1, 3),
                    pool.name,
                    take,
                    priority=rnd.choice([10, 42, 90]),
                    stopping=rnd.random() < 0.2,
                    idle=rnd.random() < 0.2,
                )
            )
    pending = [
        Request(
            i,
            rnd.randint(1, 4),
            rnd.choice(["default", "b"]),
            slots=rnd.randint(1, 3),
            priority=rnd.choice([10, 42, 90]),
            order=rnd.randint(0, 100),
            max_slots=rnd.choice([None, 3]),
        )
        for i in range(rnd.randint(0, 8))
    ]
    decision = schedule(pending, running, pools)
    assert decision == schedule(pending, running, pools)  # deterministic
    ids = {r.id for r in pending}
    seen = [s.request_id for s in decision.starts] + list(decision.queue)
    seen += [r.request_id for r in decision.rejections]
    assert sorted(seen) == sorted(ids)  # every request is started, queued or rejected once
    capacity = {p.name: p.slots for p in pools}
    for pool in pools:
        used = [s for a in running if a.pool == pool.name for s in a.slot_ids]
        used += [s for st in decision.starts if st.pool == pool.name for s in st.slot_ids]
        assert len(used) == len(set(used)), "a slot was handed out twice"
        assert all(0 <= s < capacity[pool.name] for s in used)
    by_id = {r.id: r for r in pending}
    for start in decision.starts:
        assert len(start.slot_ids) == by_id[start.request_id].slots  # gang: all or nothing
    running_ids = {a.id for a in running if not a.stopping}
    for pre in decision.preemptions:
        assert pre.allocation_id in running_ids
        victim = next(a for a in running if a.id == pre.allocation_id)
        assert victim.idle or victim.priority > by_id[pre.for_request].priority
