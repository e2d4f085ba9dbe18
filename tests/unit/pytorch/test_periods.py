"""Lengths in batches, records and epochs become batches the same way everywhere."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from trainyard.errors import ConfigError
from trainyard.pytorch import EpochGeometry, Length
from trainyard.pytorch._periods import TrainerSettings


def test_batches_are_batches() -> None:
    assert EpochGeometry(32, 1000).to_batches("batches", 7) == 7


@pytest.mark.parametrize(("records", "expected"), [(1, 1), (32, 1), (33, 2), (640, 20), (0, 0)])
def test_records_round_up_to_whole_global_batches(records: int, expected: int) -> None:
    assert EpochGeometry(32, 1000).to_batches("records", records) == expected


def test_an_epoch_is_the_whole_global_batches_in_records_per_epoch() -> None:
    geometry = EpochGeometry(global_batch_size=32, records_per_epoch=1438)
    assert geometry.batches_per_epoch == 44  # 1438 // 32: the partial batch is dropped
    assert geometry.to_batches("epochs", 3) == 132


def test_an_epoch_smaller_than_a_batch_still_counts_one_batch() -> None:
    assert EpochGeometry(64, 10).to_batches("epochs", 2) == 2


def test_length_parse_accepts_yaml_dicts_and_config_objects() -> None:
    assert Length.parse({"epochs": 2}, "x") == Length("epochs", 2)
    assert Length.parse(SimpleNamespace(unit="records", value=5), "x") == Length("records", 5)
    assert Length.parse(None, "x") is None


@pytest.mark.parametrize("bad", [{"steps": 3}, {"batches": -1}, {"batches": 1, "epochs": 1}])
def test_length_parse_names_the_field(bad: object) -> None:
    with pytest.raises(ConfigError, match=r"^min_validation_period: expected"):
        Length.parse(bad, "min_validation_period")


def test_settings_read_what_the_trainer_needs_from_a_config() -> None:
    config = SimpleNamespace(
        searcher=SimpleNamespace(metric="validation_accuracy", max_length={"epochs": 4}),
        records_per_epoch=100,
        min_validation_period={"records": 50},
        min_checkpoint_period=None,
        data={"distributed": "fsdp"},
    )
    settings = TrainerSettings.from_config(config)
    assert settings.searcher_metric == "validation_accuracy"
    assert settings.length_unit == "epochs"
    assert settings.records_per_epoch == 100
    assert settings.min_validation_period == Length("records", 50)
    assert settings.min_checkpoint_period is None
    assert settings.data == {"distributed": "fsdp"}


def test_pbt_takes_its_unit_from_length_per_round() -> None:
    config = SimpleNamespace(
        searcher=SimpleNamespace(metric="m", max_length=None, length_per_round={"records": 64})
    )
    assert TrainerSettings.from_config(config).length_unit == "records"


def test_no_config_means_batches_and_no_periods() -> None:
    settings = TrainerSettings.from_config(None)
    assert (settings.length_unit, settings.min_validation_period) == ("batches", None)
