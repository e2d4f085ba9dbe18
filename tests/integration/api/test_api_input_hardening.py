"""The master never reads a file named in a request, and bounded input stays bounded (issue 11).

A real master in this process (real runtime, real SQLite or PostgreSQL) behind uvicorn; requests
over HTTP. Each refused request is a 400 with one line that never echoes a file of the master's,
and leaves nothing stored.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from master_process import start_master, stop_master
from postgres_schema import fresh_postgres_database

from trainyard.client import Client
from trainyard.errors import ConfigError

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "corpus"))
from live_master import LiveMaster, live_master

VALID = {
    "name": "valid",
    "entrypoint": "python3 train.py",
    "searcher": {"name": "single", "metric": "loss", "max_length": {"batches": 2}},
}
SECRET = "name: master-side-secret-7f3a\n" + yaml.safe_dump(
    {k: v for k, v in VALID.items() if k != "name"}
)


@pytest.fixture(params=["sqlite", "postgres"], scope="module")
def master(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveMaster]:
    root = tmp_path_factory.mktemp(f"hardening-{request.param}")
    if request.param == "sqlite":
        with live_master(root) as running:
            yield running
        return
    with fresh_postgres_database("trainyard_hardening") as url, live_master(root, url) as running:
        yield running


@pytest.fixture
def secret_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A valid config on the master's disk, also as `const.yaml` in its working directory."""
    path = tmp_path / "const.yaml"
    path.write_text(SECRET)
    monkeypatch.chdir(tmp_path)
    return path


def _refused(response: object, master: LiveMaster, before: object) -> str:
    assert response.status_code == 400, response.text  # type: ignore[attr-defined]
    detail: str = response.json()["detail"]  # type: ignore[attr-defined]
    assert "\n" not in detail
    assert "master-side-secret" not in detail
    assert master.stored() == before
    return detail


@pytest.mark.parametrize("name", ["absolute", "relative", "admin_token", "etc"])
def test_create_never_reads_a_path_given_as_config(
    master: LiveMaster, secret_file: Path, name: str
) -> None:
    config = {
        "absolute": str(secret_file),
        "relative": "const.yaml",
        "admin_token": str(master.settings.admin_token_path),
        "etc": "/etc/hostname",
    }[name]
    before = master.stored()
    response = master.http.post("/experiments", data={"config": config}, headers=master.auth)
    detail = _refused(response, master, before)
    assert detail.startswith("config: must be a map of fields")
    assert master.token not in detail
    assert f"got '{config}' (config text is YAML, never a file name" in detail


def test_fork_never_reads_a_path_given_as_config(master: LiveMaster, secret_file: Path) -> None:
    exp = master.client.create_experiment(VALID, activate=False)
    before = master.stored()
    for config in (str(secret_file), "const.yaml", str(master.settings.admin_token_path)):
        response = master.http.post(
            f"/experiments/{exp.id}/fork", json={"config": config}, headers=master.auth
        )
        detail = _refused(response, master, before)
        assert master.token not in detail


def test_preview_never_reads_a_path_given_as_config(master: LiveMaster, secret_file: Path) -> None:
    for config in (str(secret_file), "const.yaml"):
        response = master.http.post("/preview", json={"config": config}, headers=master.auth)
        assert response.status_code == 400, response.text
        assert "master-side-secret" not in response.json()["detail"]


def test_the_sdk_reads_a_str_path_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A master process whose working directory holds a const.yaml of its own; the SDK, in
    # another directory, must send the text of *its* const.yaml, never the name.
    master_cwd, mine = tmp_path / "master-cwd", tmp_path / "elsewhere"
    master_cwd.mkdir()
    mine.mkdir()
    (master_cwd / "const.yaml").write_text(SECRET)
    (mine / "const.yaml").write_text(yaml.safe_dump({**VALID, "name": "local-file"}))
    monkeypatch.chdir(master_cwd)
    running = start_master(tmp_path / "master")
    monkeypatch.chdir(mine)
    try:
        with Client(running.url, running.token) as client:
            exp = client.create_experiment("const.yaml", activate=False)
            assert exp.name == "local-file"
            assert client.create_experiment(Path("const.yaml"), activate=False).name == "local-file"
            forked = client.fork_experiment(exp.id, "const.yaml")
            assert client.get_experiment(forked.id).name == "local-file"
    finally:
        stop_master(running)


def test_the_sdk_takes_yaml_text_only_when_asked(master: LiveMaster) -> None:
    text = yaml.safe_dump({**VALID, "name": "from-text"})
    assert master.client.create_experiment(config_text=text, activate=False).name == "from-text"
    assert master.client.create_experiment({**VALID, "name": "d"}, activate=False).name == "d"
    with pytest.raises(ConfigError, match="pass YAML text as config_text"):
        master.client.create_experiment(text)


def test_an_oversized_config_and_name_are_400(master: LiveMaster) -> None:
    before = master.stored()
    huge = yaml.safe_dump({**VALID, "data": {"blob": "x" * 2_000_000}})
    response = master.http.post("/experiments", data={"config": huge}, headers=master.auth)
    assert response.status_code in (400, 413), response.text
    assert master.stored() == before
    long_name = yaml.safe_dump({**VALID, "name": "n" * 100_000})
    response = master.http.post("/experiments", data={"config": long_name}, headers=master.auth)
    assert _refused(response, master, before) == "name: is 100,000 characters; the limit is 255"


def test_billion_laughs_is_refused_and_the_master_keeps_answering(master: LiveMaster) -> None:
    laughs = "".join(
        f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" if i else '  l0: &l0 ["lol"]\n'
        for i in range(10)
    )
    text = yaml.safe_dump(VALID) + "data:\n" + laughs
    before = master.stored()
    for route, kw in (
        ("/experiments", {"data": {"config": text}}),
        ("/preview", {"json": {"config": text}}),
    ):
        response = master.http.post(route, headers=master.auth, **kw)
        assert response.status_code == 400, response.text
        assert "once its aliases (*name) are expanded" in response.json()["detail"]
    assert master.stored() == before
    assert master.http.get("/info", headers=master.auth).status_code == 200


def test_deep_nesting_is_400_not_500(master: LiveMaster) -> None:
    text = yaml.safe_dump(VALID) + "data: " + "[" * 50_000 + "]" * 50_000 + "\n"
    for route, kw in (
        ("/experiments", {"data": {"config": text}}),
        ("/preview", {"json": {"config": text}}),
    ):
        response = master.http.post(route, headers=master.auth, **kw)
        assert response.status_code == 400, response.text
        assert "nested more than 64 deep" in response.json()["detail"]


def test_max_length_past_bigint_is_400_naming_the_field(master: LiveMaster) -> None:
    before = master.stored()
    text = yaml.safe_dump(VALID).replace("batches: 2", "batches: 1e30")
    response = master.http.post("/experiments", data={"config": text}, headers=master.auth)
    assert _refused(response, master, before).startswith("searcher.max_length.batches: must be")


@pytest.mark.parametrize(
    ("searcher", "hparams", "field"),
    [
        ({"name": "random", "max_trials": 10**15}, {"lr": 0.1}, "searcher.max_trials"),
        (
            {"name": "grid"},
            {
                f"x{i}": {"type": "double", "minval": 0, "maxval": 1, "count": 1000}
                for i in range(6)
            },
            "hyperparameters",
        ),
    ],
)
def test_searches_too_big_to_plan_are_400_from_create_and_preview(
    master: LiveMaster, searcher: dict[str, object], hparams: dict[str, object], field: str
) -> None:
    raw = {**VALID, "hyperparameters": hparams}
    raw["searcher"] = {**VALID["searcher"], **searcher}  # type: ignore[dict-item]
    text = yaml.safe_dump(raw)
    before = master.stored()
    response = master.http.post("/experiments", data={"config": text}, headers=master.auth)
    assert _refused(response, master, before).startswith(f"{field}: ")
    response = master.http.post("/preview", json={"config": text}, headers=master.auth)
    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith(f"{field}: ")


EVILMOD = """
import pathlib
pathlib.Path(__file__).with_name("imported.marker").write_text("ran")
from trainyard.searcher import CustomSearcher, Shutdown


class X(CustomSearcher):
    def initial_operations(self):
        return [Shutdown()]

    def on_validation_completed(self, request_id, metric, length):
        return []

    def progress(self):
        return 1.0
"""


@pytest.mark.parametrize("listed", [False, True])
def test_a_custom_searcher_in_the_masters_cwd_is_imported_only_when_the_operator_lists_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listed: bool
) -> None:
    # `python -m trainyard.master.server` has its working directory first on sys.path.
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    (cwd / "evilmod.py").write_text(EVILMOD)
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("TRAINYARD_SEARCHER_MODULES", "evilmod" if listed else "")
    running = start_master(tmp_path / "master")
    try:
        http = httpx.Client(base_url=running.url + "/api/v1", timeout=60)
        auth = {"Authorization": f"Bearer {running.token}"}
        raw = {
            **VALID,
            "searcher": {"name": "custom", "metric": "loss", "searcher_class": "evilmod:X"},
        }
        text = yaml.safe_dump(raw)
        preview = http.post("/preview", json={"config": text}, headers=auth)
        assert preview.status_code == 400  # a preview never runs custom code, listed or not
        refused = yaml.safe_dump({**raw, "resources": {"slots_per_trial": 99}})
        assert http.post("/experiments", data={"config": refused}, headers=auth).status_code == 400
        created = http.post(
            "/experiments", data={"config": text, "activate": "false"}, headers=auth
        )
        if listed:
            assert created.status_code == 201, created.text
            assert (cwd / "imported.marker").exists()
        else:
            assert created.status_code == 400
            assert created.json()["detail"].startswith(
                "searcher.searcher_class: 'evilmod' is not imported here"
            )
            assert not (cwd / "imported.marker").exists()
        http.close()
    finally:
        stop_master(running)
