"""Reading an experiment config from YAML text, a local file or a dict, and writing it back.

Text is always text: no function here turns a string into a path. The master only ever calls
`load_config_text` (or `load_config_data` on what it stored), so a config field in a request can
never make it read a file of its own. `load_config_file` is for the user's own process (CLI, SDK,
local mode), where reading the user's file is the point.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from trainyard.config._compat import translate_determined
from trainyard.config._errors import describe_validation_error
from trainyard.config._experiment import ExperimentConfig
from trainyard.config._limits import MAX_CONFIG_BYTES, fmt_bytes
from trainyard.config._limits_check import check_limits
from trainyard.config._problems import show
from trainyard.config._yaml_safe import parse_config_yaml
from trainyard.errors import ConfigError

__all__ = [
    "ConfigSource",
    "config_to_dict",
    "load_config_data",
    "load_config_file",
    "load_config_text",
    "load_experiment_config",
    "read_config_file",
    "to_yaml",
]

ConfigSource = str | Path | Mapping[str, Any]
"""YAML text (`str`), a local file (`Path`) or the parsed data (a mapping)."""


def load_experiment_config(source: ConfigSource) -> ExperimentConfig:
    """Read and validate an experiment config.

    A `str` is YAML text (never a path: pass a `Path`, or call `load_config_file`), a `Path` a
    local file, a mapping the config's data (not modified). Determined 0.37/0.38 configs load as
    they are; Determined fields we ignore are listed in `config.warnings`.

    Raises `ConfigError` whose message has one line per problem, `<dotted.path>: <rule>`, every
    problem at once.

    >>> config = load_experiment_config(Path("exp.yaml"))  # doctest: +SKIP
    >>> config.searcher.metric  # doctest: +SKIP
    'validation_loss'
    """
    if isinstance(source, Path):
        return load_config_file(source)
    if isinstance(source, str):
        return load_config_text(source)
    if isinstance(source, Mapping):
        return load_config_data(source)
    raise ConfigError(
        f"config: must be YAML text, a pathlib.Path or a dict, got {type(source).__name__}"
    )


def load_config_text(text: str, *, where: str = "config") -> ExperimentConfig:
    """Validate YAML `text` (within the limits of `trainyard.config._limits`); never reads a
    file, whatever the text says. `where` prefixes whole-document problems."""
    return _validate(_as_fields(parse_config_yaml(text, where), where, text))


def load_config_file(path: str | Path) -> ExperimentConfig:
    """Read a local YAML file (UTF-8) and validate it; every read problem is one line naming
    the file: missing, a directory, empty, too big, not UTF-8 text."""
    text = read_config_file(path)
    return _validate(_as_fields(parse_config_yaml(text, str(path)), str(path), text))


def load_config_data(data: Mapping[str, Any]) -> ExperimentConfig:
    """Validate already-parsed config data (not modified)."""
    return _validate(_as_fields(copy.deepcopy(dict(data)), "config", None))


def read_config_file(path: str | Path) -> str:
    """The text of a local config file, or a one-line `ConfigError` saying why it cannot be
    used (it is not there, is a directory, is over the size limit, is empty or is not UTF-8)."""
    path = Path(path)
    try:
        if path.is_dir():
            raise ConfigError(f"{path}: is a directory; give the path of a YAML config file")
        with path.open("rb") as file:
            data = file.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config: {exc.strerror or exc}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{path}: is over {fmt_bytes(MAX_CONFIG_BYTES)}, the limit for a config; keep large "
            "data out of the config (put it in the model directory)"
        )
    if not data.strip():
        raise ConfigError(f"{path}: is empty; a config needs at least entrypoint and searcher")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        raise ConfigError(
            f"{path}: is not UTF-8 text (UTF-16 or binary); save the config as UTF-8 YAML"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: is not UTF-8 text (byte {exc.start} is 0x{data[exc.start]:02x}); "
            "save the config as UTF-8 YAML"
        ) from None


def _as_fields(data: Any, where: str, text: str | None) -> dict[str, Any]:
    if data is None:
        raise ConfigError(f"{where}: is empty; it needs at least entrypoint and searcher")
    if not isinstance(data, dict):
        rule = "must be a map of fields (name, entrypoint, searcher, ...)"
        hint = ""
        if text is not None and isinstance(data, str) and _looks_like_a_path(data):
            hint = (
                " (config text is YAML, never a file name: send the file's contents or pass "
                "a pathlib.Path)"
            )
        raise ConfigError(f"{where}: {rule}, got {show(data)}{hint}")
    return data


def _looks_like_a_path(text: str) -> bool:
    word = text.strip()
    return (
        bool(word)
        and not any(c.isspace() for c in word)
        and ("/" in word or "\\" in word or word.endswith((".yaml", ".yml", ".json")))
    )


def _validate(raw: dict[str, Any]) -> ExperimentConfig:
    translation = translate_determined(raw)
    try:
        config = ExperimentConfig.model_validate(translation.raw)
    except ValidationError as exc:
        raise ConfigError(
            "\n".join(translation.problems + describe_validation_error(exc))
        ) from None
    if translation.problems:
        raise ConfigError("\n".join(translation.problems))
    check_limits(config)
    config.warnings.extend(translation.warnings)
    return config


def config_to_dict(config: ExperimentConfig) -> dict[str, Any]:
    """The config as JSON-safe data, every field spelled out (defaults and nulls included).

    `load_experiment_config(config_to_dict(c)) == c`; lengths are written `{batches: 1000}`,
    hyperparameters as `{type: ..., ...}`. `warnings` are not part of it.
    """
    return config.model_dump(mode="json")


def to_yaml(config: ExperimentConfig) -> str:
    """The config as YAML text, fields in the documented order; loads back to an equal config.

    Non-ASCII text is written as it is, unless PyYAML would garble it (it writes unicode line
    breaks such as U+0085 raw inside quotes, and reads them back as spaces); then as escapes.
    """
    data = config_to_dict(config)
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    if yaml.safe_load(text) == data:
        return text
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=False)
