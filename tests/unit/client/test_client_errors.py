"""Server answers map to the documented error classes, keeping the server's one line."""

from __future__ import annotations

from pathlib import Path

import pytest

import trainyard.client as client_pkg
from trainyard.client import APIError, AuthenticationError, ModelDirTooLargeError
from trainyard.client._errors import error_for_status
from trainyard.errors import ConfigError, InvalidTransitionError, NotFoundError


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, ConfigError),
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, NotFoundError),
        (409, InvalidTransitionError),
        (413, ModelDirTooLargeError),
        (500, APIError),
    ],
)
def test_status_maps_to_class(status: int, cls: type[Exception]) -> None:
    err = error_for_status(status, "experiment 3 does not exist")
    assert type(err) is cls
    assert str(err) == "experiment 3 does not exist"


def test_public_surface() -> None:
    assert set(client_pkg.__all__) == {
        "DEFAULT_MASTER",
        "IGNORE_FILE",
        "APIError",
        "Allocation",
        "AuthenticationError",
        "Checkpoint",
        "Client",
        "ClusterState",
        "Experiment",
        "LogLine",
        "MasterInfo",
        "MasterUnreachableError",
        "MetricPoint",
        "MetricSeries",
        "ModelDirTooLargeError",
        "Page",
        "Pool",
        "QueuedTrial",
        "Trial",
        "User",
        "local_admin_token",
        "pack_model_dir",
    }


def test_unreachable_master_is_one_actionable_line() -> None:
    from trainyard.client import Client, MasterUnreachableError

    with (
        Client("http://127.0.0.1:9", "t", timeout=2) as c,
        pytest.raises(MasterUnreachableError) as err,
    ):
        c.whoami()
    assert "\n" not in str(err.value)
    assert "trainyard master up" in str(err.value)


def test_from_env_reads_the_local_admin_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "admin_token").write_text("secret\n")
    monkeypatch.setenv("TRAINYARD_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("TRAINYARD_TOKEN", raising=False)
    monkeypatch.setenv("TRAINYARD_MASTER", "http://127.0.0.1:1234")
    c = client_pkg.Client.from_env()
    assert c.master_url == "http://127.0.0.1:1234"
    assert c._http.headers["Authorization"] == "Bearer secret"
    c.close()
