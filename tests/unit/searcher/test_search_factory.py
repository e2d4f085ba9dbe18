"""make_searcher: each config becomes the right searcher; custom classes load or fail clearly."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from searcher_driver import Driver

from trainyard.config import load_experiment_config
from trainyard.errors import ConfigError
from trainyard.searcher import (
    PBT,
    AdaptiveASHA,
    AsyncHalving,
    AsyncHalvingStopping,
    Create,
    CustomSearcher,
    GridSearch,
    RandomSearch,
    Searcher,
    SingleSearch,
    SyncHalving,
    make_searcher,
    preview_search,
)

HPARAMS = {
    "lr": {"type": "log", "minval": -4, "maxval": -1, "count": 2},
    "layers": {"type": "int", "minval": 1, "maxval": 3, "count": 3},
}


def config(searcher: dict[str, Any], seed: int = 1) -> dict[str, Any]:
    return {
        "entrypoint": "model:Trial",
        "hyperparameters": HPARAMS,
        "reproducibility": {"experiment_seed": seed},
        "searcher": {"metric": "loss", **searcher},
    }


LENGTH = {"max_length": {"batches": 900}}


@pytest.mark.parametrize(
    ("searcher", "cls"),
    [
        ({"name": "single", **LENGTH}, SingleSearch),
        ({"name": "grid", **LENGTH}, GridSearch),
        ({"name": "random", "max_trials": 5, **LENGTH}, RandomSearch),
        ({"name": "sync_halving", "max_trials": 9, "num_rungs": 3, **LENGTH}, SyncHalving),
        ({"name": "async_halving", "max_trials": 9, "num_rungs": 3, **LENGTH}, AsyncHalving),
        (
            {"name": "async_halving", "max_trials": 9, "num_rungs": 3, "stop_once": True, **LENGTH},
            AsyncHalvingStopping,
        ),
        ({"name": "adaptive_asha", "max_trials": 9, **LENGTH}, AdaptiveASHA),
        (
            {
                "name": "pbt",
                "population_size": 4,
                "num_rounds": 2,
                "length_per_round": {"batches": 100},
                "replace_function": {"truncate_fraction": 0.25},
                "explore_function": {"resample_probability": 0.2, "perturb_factor": 0.2},
            },
            PBT,
        ),
    ],
)
def test_each_method_builds_and_runs(searcher: dict[str, Any], cls: type) -> None:
    built = make_searcher(config(searcher))
    assert type(built) is cls
    Driver(built, seed=0, max_length=900).run().check_finished()


def test_config_values_reach_the_searcher() -> None:
    s = make_searcher(
        config(
            {
                "name": "async_halving",
                "max_trials": 9,
                "num_rungs": 3,
                "divisor": 3,
                "max_concurrent_trials": 2,
                "smaller_is_better": False,
                **LENGTH,
            }
        )
    )
    assert isinstance(s, AsyncHalving)
    assert s.rung_lengths == [100, 300, 900] and s.max_trials == 9
    assert s.max_concurrent_trials == 2 and s.smaller_is_better is False


def test_time_metric_makes_asha_trial_driven() -> None:
    searcher = {
        "name": "adaptive_asha",
        "max_trials": 9,
        "time_metric": "batches_seen",
        "max_time": 640,
    }
    s = make_searcher(config(searcher))
    assert isinstance(s, AdaptiveASHA)
    assert all(isinstance(b, AsyncHalvingStopping) and b.trial_driven for b in s.brackets)


def test_seed_defaults_to_the_experiment_seed() -> None:
    random_search = {"name": "random", "max_trials": 3, **LENGTH}
    a = make_searcher(config(random_search, seed=1)).initial_operations()
    b = make_searcher(load_experiment_config(config(random_search, seed=1))).initial_operations()
    c = make_searcher(config(random_search, seed=2)).initial_operations()
    d = make_searcher(config(random_search, seed=2), seed=1).initial_operations()
    assert a == b == d
    assert [op.hparams for op in a if isinstance(op, Create)] != [
        op.hparams for op in c if isinstance(op, Create)
    ]


CUSTOM = """
from trainyard.searcher import Close, Create, CustomSearcher, Shutdown, ValidateAfter


class Twice(CustomSearcher):
    def initial_operations(self):
        n = self.options["trials"]
        ops = []
        for _ in range(n):
            rid = self.new_request_id()
            ops += [Create(rid, self.sample_hparams()), ValidateAfter(rid, self.max_length)]
        self.state["open"] = n
        return ops

    def on_validation_completed(self, request_id, metric, length):
        return [Close(request_id)]

    def on_trial_closed(self, request_id):
        self.state["open"] -= 1
        return [Shutdown()] if self.state["open"] == 0 else []

    def progress(self):
        return 1.0 - self.state.get("open", 1) / self.options["trials"]


class NotASearcher:
    pass
"""


@pytest.fixture
def custom_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    (tmp_path / "my_custom_search.py").write_text(textwrap.dedent(CUSTOM))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "my_custom_search"
    sys.modules.pop("my_custom_search", None)


def test_custom_searcher_is_loaded_with_options(custom_module: str) -> None:
    searcher = {
        "name": "custom",
        "searcher_class": f"{custom_module}:Twice",
        "options": {"trials": 3},
        **LENGTH,
    }
    s = make_searcher(config(searcher), allow_custom=True)
    assert isinstance(s, CustomSearcher) and s.options == {"trials": 3}

    def rebuild() -> Searcher:
        return make_searcher(config(searcher), allow_custom=[custom_module])

    driver = Driver(s, seed=0, max_length=900, rebuild=rebuild, swap_at=2).run()
    driver.check_finished()
    assert len(driver.trials) == 3 and set(driver.final_lengths().values()) == {900}


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("no_such_module_xyz:Thing", "cannot import 'no_such_module_xyz'"),
        ("{mod}:Missing", "is not a subclass of trainyard.searcher.Searcher"),
        ("{mod}:NotASearcher", "is not a subclass of trainyard.searcher.Searcher"),
    ],
)
def test_custom_searcher_errors_are_one_line(custom_module: str, path: str, message: str) -> None:
    searcher = {"name": "custom", "searcher_class": path.format(mod=custom_module), **LENGTH}
    with pytest.raises(ConfigError, match=message) as err:
        make_searcher(config(searcher), allow_custom=True)
    assert "\n" not in str(err.value)


def test_custom_class_with_the_wrong_constructor_is_a_config_error(custom_module: str) -> None:
    searcher = {"name": "custom", "searcher_class": "trainyard.searcher:Searcher", **LENGTH}
    with pytest.raises(ConfigError, match="could not be built"):
        make_searcher(config(searcher), allow_custom=["trainyard"])


EVIL = """
import pathlib
pathlib.Path(__file__).with_name("imported.marker").write_text("ran")
from trainyard.searcher import CustomSearcher, Shutdown


class X(CustomSearcher):
    def initial_operations(self):
        return [Shutdown()]

    def on_validation_completed(self, request_id, metric, length):
        return []

    def progress(self):
        return 1.0
"""


@pytest.mark.parametrize("allow", [False, [], ["other"], ["evil"], ["evilmod.sub"]])
def test_a_custom_module_not_allowed_is_never_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, allow: bool | list[str]
) -> None:
    (tmp_path / "evilmod.py").write_text(EVIL)
    monkeypatch.syspath_prepend(str(tmp_path))
    searcher = {"name": "custom", "searcher_class": "evilmod:X", **LENGTH}
    with pytest.raises(ConfigError) as err:
        make_searcher(config(searcher), allow_custom=allow)
    assert str(err.value).startswith("searcher.searcher_class: 'evilmod' is not imported here")
    with pytest.raises(ConfigError):
        preview_search(config(searcher))
    assert not (tmp_path / "imported.marker").exists()
    assert "evilmod" not in sys.modules


@pytest.mark.parametrize("allow", [True, ["evilmod"], ["x", "evilmod"]])
def test_an_allowed_custom_module_is_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, allow: bool | list[str]
) -> None:
    (tmp_path / "evilmod.py").write_text(EVIL)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "evilmod", raising=False)
    searcher = {"name": "custom", "searcher_class": "evilmod:X", **LENGTH}
    assert isinstance(make_searcher(config(searcher), allow_custom=allow), CustomSearcher)
    assert (tmp_path / "imported.marker").exists()
