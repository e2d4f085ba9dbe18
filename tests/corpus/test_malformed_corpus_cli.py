"""Every case of `malformed/` from the CLI: exit 1 and one `error:` line, nothing stored.

Typer's CliRunner runs `trainyard experiment create` (and `trainyard preview` where the case says
the preview refuses it too) in this process against one live master on SQLite (the API side, on
SQLite and PostgreSQL, is `test_malformed_corpus.py`). Cases that only a hand-made tarball can
express (devices, hard links, absolute members) have no CLI form and are left to the API side.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from live_master import LiveMaster, live_master
from malformed.cases import CASES, CLI_ONLY_MODEL_DIRS, VALID_TEXT, Case
from typer.testing import CliRunner

from trainyard.cli.main import app

CLI_CASES = [c for c in CASES if not c.model_case or c.model_dir is not None]


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveMaster]:
    with live_master(tmp_path_factory.mktemp("corpus-cli")) as running:
        yield running


def _cli(master: LiveMaster, *args: str) -> str:
    env = {"TRAINYARD_MASTER": master.url, "TRAINYARD_TOKEN": master.token}
    done = CliRunner().invoke(app, list(args), env=env)
    assert done.exit_code == 1, done.output
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    line = lines[0]
    assert line.startswith("error: ")
    return line


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.name for c in CLI_CASES])
def test_the_cli_refuses_it_in_one_line_and_stores_nothing(
    master: LiveMaster, case: Case, tmp_path: Path
) -> None:
    before = master.stored()
    config = tmp_path / "config.yaml"
    config.write_text(case.config, encoding="utf-8")
    model = [] if case.model_dir is None else [str(case.model_dir(tmp_path))]
    assert case.words in _cli(master, "experiment", "create", str(config), *model)
    if case.preview:
        assert case.words in _cli(master, "preview", str(config))
    assert master.stored() == before


@pytest.mark.parametrize("name", list(CLI_ONLY_MODEL_DIRS))
def test_the_cli_refuses_an_unusable_model_directory(
    master: LiveMaster, name: str, tmp_path: Path
) -> None:
    build, words = CLI_ONLY_MODEL_DIRS[name]
    config = tmp_path / "config.yaml"
    config.write_text(VALID_TEXT)
    before = master.stored()
    assert words in _cli(master, "experiment", "create", str(config), str(build(tmp_path)))
    assert master.stored() == before
