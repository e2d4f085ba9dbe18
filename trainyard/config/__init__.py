"""Experiment configs: YAML in, validated pydantic models out (Determined's field names).

    config = load_config_file("const.yaml")        # a local file; load_config_text(yaml_text)
                                                   # or load_experiment_config(Path | text | dict)
    config.searcher.metric, config.resources.slots_per_trial
    for leaf in hyperparameter_leaves(config.hyperparameters): ...

Invalid input raises `trainyard.errors.ConfigError` listing every problem, one line each
(`searcher.divisor: must be > 1, got 1`). See docs/config.md for every field.
"""

from trainyard.config._experiment import (
    DEFAULT_EXPERIMENT_NAME,
    ExperimentConfig,
    searcher_length_unit,
    searcher_max_length,
)
from trainyard.config._hyperparameters import (
    CategoricalHyperparameter,
    ConstHyperparameter,
    DoubleHyperparameter,
    Hyperparameter,
    HyperparameterLeaf,
    HyperparameterNode,
    IntHyperparameter,
    LogHyperparameter,
    flatten_hparams,
    hyperparameter_leaves,
    unflatten_hparams,
)
from trainyard.config._length import LENGTH_UNITS, Length, LengthUnit
from trainyard.config._limits import (
    MAX_CONFIG_BYTES,
    MAX_DESCRIPTION_CHARS,
    MAX_EXPANDED_BYTES,
    MAX_NAME_CHARS,
    MAX_PLANNED_TRIALS,
    MAX_PREVIEW_TRIALS,
    MAX_TRIALS_AT_ONCE,
    MAX_YAML_DEPTH,
)
from trainyard.config._loading import (
    ConfigSource,
    config_to_dict,
    load_config_data,
    load_config_file,
    load_config_text,
    load_experiment_config,
    read_config_file,
    to_yaml,
)
from trainyard.config._searcher import (
    SEARCHER_NAMES,
    AdaptiveASHASearcherConfig,
    AsyncHalvingSearcherConfig,
    CustomSearcherConfig,
    GridSearcherConfig,
    PBTExploreFunction,
    PBTReplaceFunction,
    PBTSearcherConfig,
    RandomSearcherConfig,
    SearcherConfig,
    SingleSearcherConfig,
    SyncHalvingSearcherConfig,
)
from trainyard.config._sections import (
    DEFAULT_EXPERIMENT_SEED,
    CheckpointStorageConfig,
    EnvironmentConfig,
    ReproducibilityConfig,
    ResourcesConfig,
    StorageType,
)

__all__ = [
    "DEFAULT_EXPERIMENT_NAME",
    "DEFAULT_EXPERIMENT_SEED",
    "LENGTH_UNITS",
    "MAX_CONFIG_BYTES",
    "MAX_DESCRIPTION_CHARS",
    "MAX_EXPANDED_BYTES",
    "MAX_NAME_CHARS",
    "MAX_PLANNED_TRIALS",
    "MAX_PREVIEW_TRIALS",
    "MAX_TRIALS_AT_ONCE",
    "MAX_YAML_DEPTH",
    "SEARCHER_NAMES",
    "AdaptiveASHASearcherConfig",
    "AsyncHalvingSearcherConfig",
    "CategoricalHyperparameter",
    "CheckpointStorageConfig",
    "ConfigSource",
    "ConstHyperparameter",
    "CustomSearcherConfig",
    "DoubleHyperparameter",
    "EnvironmentConfig",
    "ExperimentConfig",
    "GridSearcherConfig",
    "Hyperparameter",
    "HyperparameterLeaf",
    "HyperparameterNode",
    "IntHyperparameter",
    "Length",
    "LengthUnit",
    "LogHyperparameter",
    "PBTExploreFunction",
    "PBTReplaceFunction",
    "PBTSearcherConfig",
    "RandomSearcherConfig",
    "ReproducibilityConfig",
    "ResourcesConfig",
    "SearcherConfig",
    "SingleSearcherConfig",
    "StorageType",
    "SyncHalvingSearcherConfig",
    "config_to_dict",
    "flatten_hparams",
    "hyperparameter_leaves",
    "load_config_data",
    "load_config_file",
    "load_config_text",
    "load_experiment_config",
    "read_config_file",
    "searcher_length_unit",
    "searcher_max_length",
    "to_yaml",
    "unflatten_hparams",
]
