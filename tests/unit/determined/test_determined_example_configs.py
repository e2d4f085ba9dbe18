"""Every example config of Determined 0.37.0 and 0.38.1 (tests/data/determined, Apache-2.0):
the tutorials load; every other one loads or is refused with one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainyard.config import load_experiment_config
from trainyard.errors import ConfigError
from trainyard.searcher import make_searcher

DATA = Path(__file__).resolve().parents[2] / "data" / "determined"
CONFIGS = sorted(p for p in DATA.rglob("*") if p.suffix in (".yaml", ".yml"))


def _id(path: Path) -> str:
    return str(path.relative_to(DATA))


def test_both_versions_are_there() -> None:
    versions = {p.relative_to(DATA).parts[0] for p in CONFIGS}
    assert versions == {"0.37.0", "0.38.1"}
    assert len(CONFIGS) > 80


@pytest.mark.parametrize("path", CONFIGS, ids=_id)
def test_loads_or_fails_with_one_clear_line(path: Path) -> None:
    try:
        config = load_experiment_config(path)
    except ConfigError as err:
        message = str(err)
        assert "tutorials" not in path.parts, f"a tutorial must load: {message}"
        assert "\n" not in message and ": " in message, message
        return
    make_searcher(config)  # the search it describes can be built
    for warning in config.warnings:
        assert "\n" not in warning and ": " in warning


TUTORIAL_CONFIGS = [p for p in CONFIGS if "tutorials" in p.parts]


def test_every_tutorial_config_is_covered() -> None:
    assert len(TUTORIAL_CONFIGS) >= 28


@pytest.mark.parametrize(
    ("name", "line"),
    [
        (
            "0.38.1/computer_vision/iris_tf_keras/const.yaml",
            "entrypoint: determined.launch.tensorflow not supported by Trainyard; use python3 -m "
            "determined.launch.torch_distributed python3 train.py",
        ),
        (
            "0.37.0/deploy/eks/values.yaml",
            "config: not an experiment config (it has neither entrypoint nor searcher;",
        ),
    ],
)
def test_refusals_say_why(name: str, line: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_experiment_config(DATA / name)
    assert str(caught.value).startswith(line)


def test_0_38_tutorials_need_no_length_and_keep_the_time_metric() -> None:
    const = load_experiment_config(DATA / "0.38.1/tutorials/core_api/1_metrics.yaml")
    assert const.searcher.name == "single" and const.searcher.script_decides_length
    search = load_experiment_config(DATA / "0.38.1/tutorials/core_api/3_hpsearch.yaml")
    assert search.searcher.time_metric == "batches" and search.searcher.max_time == 100


def test_the_launcher_prefix_is_translated_with_a_warning() -> None:
    config = load_experiment_config(DATA / "0.38.1/tutorials/mnist_pytorch/distributed.yaml")
    assert config.entrypoint == "python3 train.py --epochs 1"
    assert any(
        w.startswith("entrypoint: determined.launch.torch_distributed") for w in config.warnings
    )
