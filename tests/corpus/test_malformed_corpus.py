"""Every malformed config and model directory of `malformed/` is refused cleanly (issue 11).

From the API (a real master in this process, real runtime, SQLite and PostgreSQL): the status of
the case (400; 413 for a too-large model directory) with a one-line `detail` containing the
case's words, the same from `POST /preview` where the case says so, and nothing stored: no
experiment, trial or model definition row, no new file under the data or checkpoint dirs.
The CLI side is `test_malformed_corpus_cli.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from live_master import LiveMaster, live_master
from malformed.cases import CASES, CLI_ONLY_MODEL_DIRS, Case

from trainyard.client._tarball import pack_model_dir

IDS = [c.name for c in CASES]


def _postgres_url() -> Iterator[str]:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
    from postgres_schema import fresh_postgres_database

    with fresh_postgres_database("trainyard_corpus") as url:
        yield url


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def master(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveMaster]:
    root = tmp_path_factory.mktemp(f"corpus-{request.param}")
    if request.param == "sqlite":
        with live_master(root) as running:
            yield running
        return
    for url in _postgres_url():
        with live_master(root, url) as running:
            yield running


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def _tarball(case: Case, tmp_path: Path) -> bytes | None:
    if case.tarball is not None:
        return case.tarball
    if case.model_dir is not None:
        return pack_model_dir(case.model_dir(tmp_path))
    return None


def test_the_corpus_has_at_least_100_cases() -> None:
    assert len(CASES) + len(CLI_ONLY_MODEL_DIRS) >= 100
    assert len(set(IDS)) == len(IDS)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_api_refuses_it_in_one_line_and_stores_nothing(
    master: LiveMaster, case: Case, tmp_path: Path
) -> None:
    before = master.stored()
    data = _tarball(case, tmp_path)
    files = None if data is None else {"model_def": ("m.tar.gz", data, "application/gzip")}
    response = master.http.post(
        "/experiments", data={"config": case.config}, files=files, headers=master.auth
    )
    assert response.status_code == case.status, response.text
    line = _one_line(response.json()["detail"])
    assert case.words in line
    if case.preview:
        response = master.http.post("/preview", json={"config": case.config}, headers=master.auth)
        assert response.status_code == 400, response.text
        assert case.words in _one_line(response.json()["detail"])
    assert master.stored() == before
