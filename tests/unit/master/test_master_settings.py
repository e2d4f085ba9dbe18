"""MasterSettings: defaults, YAML file, environment overrides, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainyard.errors import ConfigError
from trainyard.master.settings import (
    MasterSettings,
    ResourcePoolSettings,
    expand_db_url,
    load_master_settings,
)

NO_GPU = {"CUDA_VISIBLE_DEVICES": ""}


@pytest.fixture(autouse=True)
def _no_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")


def test_defaults_live_under_the_data_dir_with_tildes_expanded() -> None:
    settings = load_master_settings(env={})
    home = Path.home()
    assert settings.data_dir == home / ".trainyard"
    assert settings.db_url == f"sqlite:///{home}/.trainyard/trainyard.db"
    assert settings.checkpoint_root == home / ".trainyard" / "checkpoints"
    assert (settings.host, settings.port, settings.url) == (
        "127.0.0.1",
        8080,
        "http://127.0.0.1:8080",
    )
    assert settings.resource_pools == [ResourcePoolSettings(name="default", slots=2)]
    assert settings.admin_token_path == home / ".trainyard" / "admin_token"


def test_gpus_found_become_cuda_slots(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,3")
    (pool,) = MasterSettings().resource_pools
    assert (pool.slots, pool.slot_type) == (2, "cuda")


def test_yaml_then_env_then_keyword_overrides(tmp_path: Path) -> None:
    config = tmp_path / "master.yaml"
    config.write_text(
        "port: 9000\ndata_dir: ~/ty\ncpu_slots: 3\n"
        "resource_pools:\n  - {name: default, slots: 4}\n  - {name: big, slots: 8}\n"
    )
    settings = load_master_settings(
        config,
        env={"TRAINYARD_PORT": "9100", "TRAINYARD_DB_URL": "sqlite:///~/x.db"},
        host="0.0.0.0",
    )
    assert settings.port == 9100 and settings.host == "0.0.0.0"
    assert settings.data_dir == Path.home() / "ty"
    assert settings.db_url == f"sqlite:///{Path.home()}/x.db"
    assert settings.pool("big").slots == 8
    with pytest.raises(ConfigError, match="resource pool 'gpu' does not exist; known pools: "):
        settings.pool("gpu")


def test_every_problem_is_one_line_naming_the_file_and_field(tmp_path: Path) -> None:
    config = tmp_path / "master.yaml"
    config.write_text("port: -1\nprot: 8080\ndb_url: mysql://x\n")
    with pytest.raises(ConfigError) as err:
        load_master_settings(config, env={})
    lines = str(err.value).splitlines()
    assert len(lines) == 3
    assert all(line.startswith(f"{config}: ") for line in lines)
    assert any("port:" in line and "greater than or equal to 0" in line for line in lines)
    assert any("prot: unknown setting" in line for line in lines)
    assert any("db_url: must start with sqlite:///" in line for line in lines)


@pytest.mark.parametrize(
    ("text", "message"),
    [("port: [", "not valid YAML at line"), ("- 1\n", "must be a mapping of settings")],
)
def test_unreadable_yaml_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "master.yaml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_master_settings(config, env={})


def test_missing_file_and_bad_pool_json(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read master config"):
        load_master_settings(tmp_path / "nope.yaml", env={})
    with pytest.raises(ConfigError, match="TRAINYARD_RESOURCE_POOLS: must be JSON"):
        load_master_settings(env={"TRAINYARD_RESOURCE_POOLS": "default:2"})
    pools = '[{"name": "a", "slots": 1}, {"name": "a", "slots": 2}]'
    with pytest.raises(ConfigError, match="pool names must be unique"):
        load_master_settings(env={"TRAINYARD_RESOURCE_POOLS": pools})


def test_expand_db_url_only_touches_sqlite_paths() -> None:
    assert expand_db_url("sqlite:///~/a.db?mode=ro") == f"sqlite:///{Path.home()}/a.db?mode=ro"
    assert expand_db_url("sqlite:///:memory:") == "sqlite:///:memory:"
    assert expand_db_url("postgresql+psycopg://u@h/~db") == "postgresql+psycopg://u@h/~db"
