"""`load_experiment_config` reads Paths, YAML text and dicts, and says what it cannot read.

A `str` is always YAML text, never a path: `load_config_file` reads a local file by name."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from trainyard.config import (
    ExperimentConfig,
    load_config_file,
    load_config_text,
    load_experiment_config,
)
from trainyard.errors import ConfigError

YAML_TEXT = """\
name: from-text
entrypoint: model_def:MyTrial
searcher:
  name: single
  metric: loss
  max_length:
    batches: 100
"""


def test_reads_a_path_object(tmp_path: Path) -> None:
    path = tmp_path / "exp.yaml"
    path.write_text(YAML_TEXT)
    assert load_experiment_config(path).name == "from-text"


def test_load_config_file_reads_a_path_given_as_a_string(tmp_path: Path) -> None:
    path = tmp_path / "experiment.conf"  # any existing file, whatever its suffix
    path.write_text(YAML_TEXT)
    assert load_config_file(str(path)).name == "from-text"


@pytest.mark.parametrize("load", [load_experiment_config, load_config_text])
def test_a_string_naming_a_file_is_text_and_the_file_is_never_read(
    tmp_path: Path, load: Callable[[str], ExperimentConfig]
) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text(YAML_TEXT.replace("from-text", "do-not-leak"))
    with pytest.raises(ConfigError) as caught:
        load(str(path))
    (line,) = str(caught.value).splitlines()
    assert "do-not-leak" not in line and "MyTrial" not in line
    assert line.startswith("config: must be a map of fields")
    assert line.endswith(
        "(config text is YAML, never a file name: send the file's contents or pass a pathlib.Path)"
    )


def test_reads_yaml_text() -> None:
    config = load_experiment_config(YAML_TEXT)
    assert isinstance(config, ExperimentConfig)
    assert config.searcher.metric == "loss"


def test_reads_a_dict_without_modifying_it(minimal: dict[str, Any]) -> None:
    minimal["environment"] = {"environment_variables": ["A=1"]}
    minimal["bind_mounts"] = []
    before = copy.deepcopy(minimal)
    config = load_experiment_config(minimal)
    assert config.environment.environment_variables == {"A": "1"}
    assert minimal == before


def test_a_missing_file_is_one_line_naming_it(errors: Callable[[Any], list[str]]) -> None:
    assert errors(Path("does/not/exist.yaml")) == [
        "does/not/exist.yaml: cannot read the config: No such file or directory"
    ]


def test_a_directory_is_not_a_config(tmp_path: Path, errors: Callable[[Any], list[str]]) -> None:
    assert errors(tmp_path) == [f"{tmp_path}: is a directory; give the path of a YAML config file"]


def test_invalid_yaml_names_line_and_column(errors: Callable[[Any], list[str]]) -> None:
    (line,) = errors("name: x\nsearcher: [1, 2\n")
    assert line.startswith("config: invalid YAML at line 3, column 1: ")
    assert "expected ',' or ']'" in line


def test_invalid_yaml_in_a_file_names_the_file(
    tmp_path: Path, errors: Callable[[Any], list[str]]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nsearcher: a: b\n")
    (line,) = errors(path)
    assert line.startswith(f"{path}: invalid YAML at line 2, column 12: mapping values are not")


def test_a_duplicate_key_is_refused(errors: Callable[[Any], list[str]]) -> None:
    text = "entrypoint: a:B\nsearcher: {name: single, metric: m}\nentrypoint: c:D\n"
    assert errors(text) == [
        "config: invalid YAML at line 3, column 1: duplicate key 'entrypoint'; keep one of them"
    ]


def test_a_duplicate_key_in_a_nested_map_is_refused(errors: Callable[[Any], list[str]]) -> None:
    text = "searcher:\n  metric: a\n  metric: b\n"
    assert errors(text) == [
        "config: invalid YAML at line 3, column 3: duplicate key 'metric'; keep one of them"
    ]


def test_an_empty_document_says_what_is_needed(errors: Callable[[Any], list[str]]) -> None:
    expected = ["config: is empty; it needs at least entrypoint and searcher"]
    assert errors("") == expected
    assert errors("# only a comment\n") == expected


@pytest.mark.parametrize(
    ("text", "shown"), [("- a\n- b\n", "['a', 'b']"), ("just words", "'just words'")]
)
def test_the_document_must_be_a_map(
    text: str, shown: str, errors: Callable[[Any], list[str]]
) -> None:
    assert errors(text) == [
        f"config: must be a map of fields (name, entrypoint, searcher, ...), got {shown}"
    ]


@pytest.mark.parametrize(
    ("written", "value"),
    [("1e-5", 1e-5), ("-2E3", -2000.0), ("3.5e+2", 350.0), ("1.0e-3", 1e-3), ("12", 12)],
)
def test_exponent_numbers_are_numbers_as_in_determined(written: str, value: float) -> None:
    # PyYAML alone reads `1e-5` as a string; Determined (Go YAML) reads it as a number.
    config = load_experiment_config(YAML_TEXT + f"hyperparameters:\n  weight_decay: {written}\n")
    val = config.hyperparameters["weight_decay"].val  # type: ignore[union-attr]
    assert val == value
    assert type(val) is type(value)


def test_strings_that_look_like_words_stay_strings() -> None:
    text = YAML_TEXT + "data:\n  tag: e5\n  version: 1.2.3\n"
    assert load_experiment_config(text).data == {"tag": "e5", "version": "1.2.3"}


def test_unsafe_yaml_tags_are_refused(errors: Callable[[Any], list[str]]) -> None:
    (line,) = errors(YAML_TEXT + "data: !!python/object/apply:os.system ['true']\n")
    assert line.startswith("config: invalid YAML at line 8, column 7: ")


def test_yaml_written_by_pyyaml_loads(minimal: dict[str, Any]) -> None:
    text = yaml.safe_dump(minimal)
    assert load_experiment_config(text) == load_experiment_config(minimal)
