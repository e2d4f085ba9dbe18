"""Reading an experiment config from a path, YAML text or a dict, and writing it back."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from trainyard.config._compat import translate_determined
from trainyard.config._errors import describe_validation_error
from trainyard.config._experiment import ExperimentConfig
from trainyard.config._problems import show
from trainyard.errors import ConfigError

ConfigSource = str | Path | Mapping[str, Any]


class _ConfigLoader(yaml.SafeLoader):
    """Safe YAML, plus: `1e-5` is a float (as in YAML 1.2 and Determined); duplicate keys fail."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool):
                continue
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_ConfigLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def load_experiment_config(source: ConfigSource) -> ExperimentConfig:
    """Read and validate an experiment config.

    `source` is a path (`Path`, or a one-line `str` naming an existing file or ending in `.yaml`/
    `.yml`), YAML text, or a dict (not modified). Determined 0.37/0.38 configs load as they are;
    Determined fields we ignore are listed in `config.warnings`.

    Raises `ConfigError` whose message has one line per problem, `<dotted.path>: <rule>`, every
    problem at once.

    >>> config = load_experiment_config("exp.yaml")
    >>> config.searcher.metric
    'validation_loss'
    """
    raw = _read(source)
    translation = translate_determined(raw)
    try:
        config = ExperimentConfig.model_validate(translation.raw)
    except ValidationError as exc:
        raise ConfigError(
            "\n".join(translation.problems + describe_validation_error(exc))
        ) from None
    if translation.problems:
        raise ConfigError("\n".join(translation.problems))
    config.warnings.extend(translation.warnings)
    return config


def _read(source: ConfigSource) -> dict[str, Any]:
    if isinstance(source, Mapping):
        data: Any = copy.deepcopy(dict(source))
    elif isinstance(source, Path) or _names_a_file(source):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the config: {exc.strerror or exc}") from None
        data = _parse_yaml(text, str(path))
    else:
        data = _parse_yaml(source, "config")
    if data is None:
        raise ConfigError("config: is empty; it needs at least entrypoint and searcher")
    if not isinstance(data, dict):
        rule = "must be a map of fields (name, entrypoint, searcher, ...)"
        raise ConfigError(f"config: {rule}, got {show(data)}")
    return data


def _names_a_file(text: str) -> bool:
    if "\n" in text or not text.strip():
        return False
    return text.endswith((".yaml", ".yml")) or Path(text).is_file()


def _parse_yaml(text: str, where: str) -> Any:
    try:
        return yaml.load(text, Loader=_ConfigLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        at = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        problem = " ".join(str(exc.problem).split())
        raise ConfigError(f"{where}: invalid YAML at {at}: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: invalid YAML: {' '.join(str(exc).split())}") from None


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
