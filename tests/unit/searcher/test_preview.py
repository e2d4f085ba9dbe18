"""`preview_search`: trials and length per bracket and rung, before a search runs."""

from __future__ import annotations

from typing import Any

import pytest

from trainyard.errors import ConfigError
from trainyard.searcher._preview import RungPreview, SearchPreview, neutral_metric, preview_search


def config(searcher: dict[str, Any], **length: Any) -> dict[str, Any]:
    section = {"metric": "loss", **searcher}
    if "time_metric" not in searcher and searcher.get("name") != "pbt":
        section["max_length"] = length or {"batches": 9000}
    return {
        "name": "preview",
        "entrypoint": "python3 train.py",
        "hyperparameters": {
            "lr": {"type": "log", "minval": -4, "maxval": -1},
            "layers": {"type": "int", "minval": 1, "maxval": 8},
        },
        "searcher": section,
    }


def rows(preview: SearchPreview) -> list[list[tuple[int, int, int]]]:
    return [
        [(r.length, r.trials_reaching, r.trials_stopping) for r in b.rungs]
        for b in preview.brackets
    ]


@pytest.mark.parametrize("name", ["async_halving", "sync_halving"])
def test_halving_keeps_a_third_per_rung(name: str) -> None:
    preview = preview_search(config({"name": name, "num_rungs": 3, "divisor": 3, "max_trials": 12}))

    assert rows(preview) == [[(1000, 12, 8), (3000, 4, 3), (9000, 1, 1)]]
    assert preview.total_trials == 12
    assert preview.total_length == 12 * 1000 + 4 * 2000 + 1 * 6000
    assert (preview.method, preview.unit) == (name, "batches")


def test_adaptive_asha_previews_each_bracket_on_its_own_rungs() -> None:
    preview = preview_search(
        config(
            {
                "name": "adaptive_asha",
                "max_rungs": 3,
                "divisor": 3,
                "max_trials": 40,
                "mode": "conservative",
            },
            batches=900,
        )
    )

    ladders = [[r.length for r in b.rungs] for b in preview.brackets]
    assert ladders == [[100, 300, 900], [300, 900], [900]]
    assert sum(b.trials for b in preview.brackets) == preview.total_trials == 40
    assert sum(b.total_length for b in preview.brackets) == preview.total_length
    for bracket in preview.brackets:
        reaching = [r.trials_reaching for r in bracket.rungs]
        assert reaching[0] == bracket.trials
        assert reaching == sorted(reaching, reverse=True) and reaching[-1] >= 1
        assert sum(r.trials_stopping for r in bracket.rungs) == bracket.trials
        assert bracket.total_length == sum(r.trials_stopping * r.length for r in bracket.rungs)
    # Hyperband's sizes: brackets that stop trials earlier try more of them.
    sizes = [b.trials for b in preview.brackets]
    assert sizes == sorted(sizes, reverse=True)


def test_trial_driven_halving_stops_trials_at_its_rungs() -> None:
    preview = preview_search(
        config(
            {
                "name": "async_halving",
                "num_rungs": 3,
                "divisor": 3,
                "max_trials": 12,
                "time_metric": "batches",
                "max_time": 9000,
            },
        )
    )

    (bracket,) = preview.brackets
    assert [r.length for r in bracket.rungs] == [1000, 3000, 9000]
    assert bracket.rungs[0].trials_reaching == 12
    assert sum(r.trials_stopping for r in bracket.rungs) == 12
    assert preview.total_length == sum(r.trials_stopping * r.length for r in bracket.rungs)
    assert bracket.rungs[-1].trials_stopping >= 1


def test_random_search_is_one_rung_at_max_length() -> None:
    preview = preview_search(config({"name": "random", "max_trials": 5}, epochs=3))

    assert rows(preview) == [[(3, 5, 5)]]
    assert (preview.unit, preview.total_length) == ("epochs", 15)


def test_pbt_lists_the_lengths_its_trials_end_at() -> None:
    preview = preview_search(
        config(
            {
                "name": "pbt",
                "population_size": 4,
                "num_rounds": 3,
                "length_per_round": {"batches": 100},
                "replace_function": {"truncate_fraction": 0.5},
                "explore_function": {"resample_probability": 0.2, "perturb_factor": 0.2},
            }
        )
    )

    (bracket,) = preview.brackets
    assert [r.length for r in bracket.rungs] == [100, 200, 300]
    assert bracket.rungs[-1].trials_stopping == 4  # the final population
    assert sum(r.trials_stopping for r in bracket.rungs) == preview.total_trials
    # Children start from their parents' checkpoints: only 100 batches per trial per round.
    assert preview.total_length == 100 * 4 * 3


def test_format_renders_every_rung_and_the_totals() -> None:
    preview = preview_search(
        config({"name": "async_halving", "num_rungs": 3, "divisor": 3, "max_trials": 12})
    )
    text = preview.format()

    assert str(preview) == text
    lines = text.splitlines()
    assert lines[0] == "Search preview: async_halving (batches)"
    assert lines[3].split() == ["0", "0", "1,000", "12", "8"]
    assert lines[4].split() == ["1", "3,000", "4", "3"]
    assert lines[5].split() == ["2", "9,000", "1", "1"]
    assert "Total trials: 12" in lines and "Total length: 26,000 batches" in lines


def test_the_neutral_metric_is_fixed_by_the_hyperparameters() -> None:
    a = neutral_metric({"lr": 0.1, "layers": 2}, 10)

    assert a == neutral_metric({"layers": 2, "lr": 0.1}, 500)
    assert a != neutral_metric({"lr": 0.1, "layers": 3}, 10)
    assert 0.0 <= a < 1.0


def test_a_preview_is_the_same_every_time() -> None:
    searcher = {"name": "adaptive_asha", "max_rungs": 4, "max_trials": 50}

    assert preview_search(config(searcher)) == preview_search(config(searcher))


def test_a_bad_config_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="max_trials"):
        preview_search(config({"name": "async_halving", "num_rungs": 3}))


def test_rung_preview_is_plain_data() -> None:
    assert RungPreview(100, 4, 3) == RungPreview(length=100, trials_reaching=4, trials_stopping=3)


@pytest.mark.parametrize(
    "searcher",
    [
        {"name": "adaptive_asha", "max_trials": 120, "max_rungs": 4, "divisor": 3},
        {"name": "async_halving", "max_trials": 60, "num_rungs": 3, "divisor": 2},
    ],
)
def test_a_model_based_sampler_is_previewed_with_uninformed_draws(
    searcher: dict[str, Any],
) -> None:
    """A model fitted to the preview's neutral metric would be noise that costs milliseconds a
    draw: on a space with a continuous axis the preview draws uniformly, whatever the sampler."""
    tpe = preview_search(config({**searcher, "sampler": "tpe"}))
    uniform = preview_search(config({**searcher, "sampler": "uniform"}))

    assert rows(tpe) == rows(uniform)
    assert tpe.total_length == uniform.total_length


def test_a_finite_space_is_previewed_with_its_own_sampler() -> None:
    """On a finite space a non-repeating sampler changes the plan (ASHA promotes once the space
    is used up), so the preview keeps it."""
    from trainyard.searcher._preview import _plan_equivalent
    from trainyard.searcher._sim_config import resolve_config

    finite = config({"name": "async_halving", "max_trials": 40, "num_rungs": 3, "sampler": "tpe"})
    finite["hyperparameters"] = {"layers": {"type": "int", "minval": 1, "maxval": 3}}
    loaded = resolve_config(finite)

    assert _plan_equivalent(loaded).searcher.sampler == "tpe"
    infinite = resolve_config(config({"name": "async_halving", "max_trials": 4, "num_rungs": 2}))
    assert _plan_equivalent(infinite).searcher.sampler == "uniform"
