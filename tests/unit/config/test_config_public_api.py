"""The names `trainyard.config` exports are exactly the ones we mean to support."""

from __future__ import annotations

import trainyard.config as config

EXPECTED = {
    # loading and writing
    "ConfigSource",
    # limits (trainyard/config/_limits.py)
    "MAX_CONFIG_BYTES",
    "MAX_DESCRIPTION_CHARS",
    "MAX_EXPANDED_BYTES",
    "MAX_NAME_CHARS",
    "MAX_PLANNED_TRIALS",
    "MAX_PREVIEW_TRIALS",
    "MAX_TRIALS_AT_ONCE",
    "MAX_YAML_DEPTH",
    "load_config_data",
    "load_config_file",
    "load_config_text",
    "load_experiment_config",
    "read_config_file",
    "config_to_dict",
    "to_yaml",
    # the model
    "ExperimentConfig",
    "DEFAULT_EXPERIMENT_NAME",
    "EnvironmentConfig",
    "ReproducibilityConfig",
    "DEFAULT_EXPERIMENT_SEED",
    "CheckpointStorageConfig",
    "StorageType",
    "ResourcesConfig",
    "Length",
    "LengthUnit",
    "LENGTH_UNITS",
    # hyperparameters
    "Hyperparameter",
    "HyperparameterNode",
    "HyperparameterLeaf",
    "ConstHyperparameter",
    "IntHyperparameter",
    "DoubleHyperparameter",
    "LogHyperparameter",
    "CategoricalHyperparameter",
    "hyperparameter_leaves",
    "flatten_hparams",
    "unflatten_hparams",
    # searchers
    "SearcherConfig",
    "SEARCHER_NAMES",
    "SingleSearcherConfig",
    "GridSearcherConfig",
    "RandomSearcherConfig",
    "SyncHalvingSearcherConfig",
    "AsyncHalvingSearcherConfig",
    "AdaptiveASHASearcherConfig",
    "PBTSearcherConfig",
    "PBTReplaceFunction",
    "PBTExploreFunction",
    "CustomSearcherConfig",
    "searcher_length_unit",
    "searcher_max_length",
}


def test_all_is_exactly_the_public_surface() -> None:
    assert set(config.__all__) == EXPECTED
    assert len(config.__all__) == len(EXPECTED), "a name is listed twice"


def test_every_exported_name_exists() -> None:
    missing = [name for name in config.__all__ if not hasattr(config, name)]
    assert missing == []


def test_no_public_name_leaks_outside_all() -> None:
    public = {
        name
        for name, value in vars(config).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("trainyard")
    }
    assert public <= EXPECTED


def test_searcher_names_are_the_documented_methods() -> None:
    assert set(config.SEARCHER_NAMES) == {
        "single",
        "grid",
        "random",
        "pbt",
        "sync_halving",
        "async_halving",
        "adaptive_asha",
        "custom",
    }
