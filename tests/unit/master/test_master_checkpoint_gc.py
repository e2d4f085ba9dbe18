"""The checkpoint GC rule (pure): what the save_experiment_best/trial_best/trial_latest keep."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from trainyard.master.db.checkpoints import CheckpointInfo, select_for_deletion


def _ckpts(spec: dict[int, list[float | None]]) -> list[CheckpointInfo]:
    return [
        CheckpointInfo(f"{trial}-{i}", trial, (i + 1) * 10, metric)
        for trial, metrics in spec.items()
        for i, metric in enumerate(metrics)
    ]


def test_defaults_keep_each_trials_best_and_latest() -> None:
    ckpts = _ckpts({1: [0.9, 0.2, 0.5], 2: [0.3, None, math.nan]})
    doomed = select_for_deletion(
        ckpts, smaller_is_better=True, save_experiment_best=0, save_trial_best=1,
        save_trial_latest=1,
    )  # fmt: skip
    assert doomed == {"1-0", "2-1"}


def test_experiment_best_keeps_the_top_n_across_trials_bigger_is_better() -> None:
    ckpts = _ckpts({1: [0.9, 0.2], 2: [0.8, 0.1], 3: [0.95, 0.0]})
    doomed = select_for_deletion(
        ckpts, smaller_is_better=False, save_experiment_best=2, save_trial_best=0,
        save_trial_latest=0,
    )  # fmt: skip
    assert {c.uuid for c in ckpts} - doomed == {"3-0", "1-0"}


def test_protected_checkpoints_are_never_deleted() -> None:
    ckpts = _ckpts({1: [0.5, 0.4, 0.3]})
    doomed = select_for_deletion(
        ckpts, smaller_is_better=True, save_experiment_best=0, save_trial_best=0,
        save_trial_latest=0, protected={"1-1"},
    )  # fmt: skip
    assert doomed == {"1-0", "1-2"}


metric = st.one_of(st.none(), st.floats(allow_nan=True), st.sampled_from([math.inf]))


@given(
    spec=st.dictionaries(st.integers(1, 5), st.lists(metric, max_size=6), max_size=5),
    exp_best=st.integers(0, 3),
    trial_best=st.integers(0, 3),
    latest=st.integers(0, 3),
    smaller=st.booleans(),
)
def test_what_is_kept_satisfies_every_rule(
    spec: dict[int, list[float | None]], exp_best: int, trial_best: int, latest: int, smaller: bool
) -> None:
    ckpts = _ckpts(spec)
    doomed = select_for_deletion(
        ckpts, smaller_is_better=smaller, save_experiment_best=exp_best,
        save_trial_best=trial_best, save_trial_latest=latest,
    )  # fmt: skip
    kept = [c for c in ckpts if c.uuid not in doomed]
    assert doomed <= {c.uuid for c in ckpts}
    for trial in spec:
        mine = [c for c in ckpts if c.trial_id == trial]
        kept_mine = [c for c in kept if c.trial_id == trial]
        newest = sorted(mine, key=lambda c: c.steps_completed)[-latest:] if latest else []
        assert all(c in kept_mine for c in newest)
        scored = [
            c for c in mine if c.searcher_metric is not None and not math.isnan(c.searcher_metric)
        ]
        assert len(kept_mine) <= min(len(mine), latest + trial_best + exp_best)
        assert sum(1 for c in kept_mine if c in scored) >= min(trial_best, len(scored))
    scored_all = [
        c for c in ckpts if c.searcher_metric is not None and not math.isnan(c.searcher_metric)
    ]
    sign = 1 if smaller else -1
    if exp_best and scored_all:
        best = min(scored_all, key=lambda c: sign * c.searcher_metric)  # type: ignore[operator]
        assert best.searcher_metric in [c.searcher_metric for c in kept]
