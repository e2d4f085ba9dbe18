"""The SDK's `config` argument: a str or Path is a local file read here, a dict is the config,
YAML text only through `config_text` (issue 11: a str path used to be read by the master)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
import yaml

from trainyard.client._config_arg import config_as_text
from trainyard.errors import ConfigError

TEXT = "entrypoint: x\nsearcher: {name: single, metric: m, max_length: {batches: 1}}\n"


def test_a_str_or_path_is_read_from_this_machine(tmp_path: Path) -> None:
    path = tmp_path / "const.yaml"
    path.write_text(TEXT)
    assert config_as_text(str(path), None) == TEXT
    assert config_as_text(path, None) == TEXT


def test_a_dict_is_sent_as_yaml() -> None:
    data = {"entrypoint": "x", "searcher": {"name": "single", "metric": "m"}}
    text = config_as_text(data, None)
    assert text is not None and yaml.safe_load(text) == data


def test_yaml_text_goes_through_config_text_only() -> None:
    assert config_as_text(None, TEXT) == TEXT
    with pytest.raises(ConfigError, match="pass YAML text as config_text"):
        config_as_text(TEXT, None)


def test_nothing_given_is_none_and_both_is_an_error(tmp_path: Path) -> None:
    assert config_as_text(None, None) is None
    with pytest.raises(ConfigError, match="either a config"):
        config_as_text({"a": 1}, TEXT)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "cannot read the config: No such file or directory"),
        (b"", "is empty"),
        (TEXT.encode("utf-16"), "is not UTF-8 text"),
    ],
)
def test_a_file_it_cannot_use_is_one_line_naming_it(
    tmp_path: Path, content: bytes | None, words: str
) -> None:
    path = tmp_path / "c.yaml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        config_as_text(str(path), None)
    (line,) = str(caught.value).splitlines()
    assert line.startswith(f"{path}: ") and words in line


def test_a_model_dir_may_be_a_str(tmp_path: Path) -> None:
    from trainyard.client._tarball import pack_model_dir

    (tmp_path / "train.py").write_text("print(1)\n")
    with tarfile.open(fileobj=io.BytesIO(pack_model_dir(str(tmp_path))), mode="r:gz") as tar:
        assert tar.getnames() == ["train.py"]
