"""How the SDK turns its `config` argument into the YAML text it sends.

A `str` or `Path` is a file on this machine, read here: the master only ever receives config
text and never reads a file named in a request. A mapping is the config itself. YAML text is
only taken through an explicit `config_text`, so a string is never guessed to be one or the
other.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from trainyard.config import read_config_file
from trainyard.errors import ConfigError

__all__ = ["ConfigArg", "config_as_text"]

ConfigArg = str | Path | Mapping[str, Any]


def config_as_text(config: ConfigArg | None, config_text: str | None) -> str | None:
    """The YAML text to send, or None when neither is given; `ConfigError` (one line) when
    both are, when a file cannot be read, or when a `str` holds YAML rather than a path."""
    if config is not None and config_text is not None:
        raise ConfigError("config: give either a config (a file or a dict) or config_text")
    if config_text is not None:
        if not isinstance(config_text, str):
            raise ConfigError(
                f"config_text: must be YAML text (str), got {type(config_text).__name__}"
            )
        return config_text
    if config is None:
        return None
    if isinstance(config, Mapping):
        return yaml.safe_dump(dict(config), sort_keys=False, allow_unicode=True)
    if isinstance(config, str) and ("\n" in config or not config.strip()):
        raise ConfigError(
            "config: a str is the path of a local YAML file, and this one is not a path "
            "(it is empty or has line breaks); pass YAML text as config_text=... or a dict"
        )
    if not isinstance(config, str | Path):
        raise ConfigError(
            f"config: must be a path (str or Path) or a dict, got {type(config).__name__}"
        )
    return read_config_file(config)
