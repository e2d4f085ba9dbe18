"""`Client`: the typed Python SDK over the master's REST API (docs/rest-api.md).

    from trainyard.client import Client
    client = Client.from_env()                  # TRAINYARD_MASTER / TRAINYARD_TOKEN
    exp = client.create_experiment("const.yaml", Path("model_dir"))   # a local file
    exp = client.wait_experiment(exp.id)
    best = client.list_trials(exp.id, sort="best_metric", limit=1).items[0]

Every failure raises a `TrainyardError` whose message is the server's one line.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import httpx

from trainyard.client._config_arg import ConfigArg, config_as_text
from trainyard.client._errors import MasterUnreachableError, error_for_status
from trainyard.client._models import (
    Checkpoint,
    ClusterState,
    Experiment,
    LogLine,
    MasterInfo,
    MetricPoint,
    MetricSeries,
    Page,
    Trial,
    User,
    decode_float,
)
from trainyard.client._tarball import pack_model_dir
from trainyard.errors import ConfigError

__all__ = ["DEFAULT_MASTER", "Client"]

DEFAULT_MASTER = "http://127.0.0.1:8080"
_T = TypeVar("_T")
Params = Mapping[str, str | int | float | bool | None]


class Client:
    """A connection to one master as one user. Thread-safe for concurrent calls (httpx).

    `token` is a user token (see `Client.from_env` for where one comes from); `timeout` bounds
    each request except log follow, which waits as long as the master's long poll.
    """

    def __init__(self, master_url: str, token: str | None, *, timeout: float = 30.0) -> None:
        self.master_url = master_url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.master_url, headers=headers, timeout=timeout)

    @classmethod
    def from_env(cls, master_url: str | None = None, token: str | None = None) -> Client:
        """The master in `TRAINYARD_MASTER` (default http://127.0.0.1:8080) with the token in
        `TRAINYARD_TOKEN`, else the one a local master wrote to `<data_dir>/admin_token`
        (`TRAINYARD_DATA_DIR`, default `~/.trainyard`)."""
        url = master_url or os.environ.get("TRAINYARD_MASTER") or DEFAULT_MASTER
        return cls(url, token or os.environ.get("TRAINYARD_TOKEN") or local_admin_token())

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- master --------------------------------------------------------------------------------

    def info(self) -> MasterInfo:
        return MasterInfo.from_json(self._call("GET", "/info"))

    def whoami(self) -> User:
        return User.from_json(self._call("GET", "/me"))

    # -- experiments ---------------------------------------------------------------------------

    def create_experiment(
        self,
        config: ConfigArg | None = None,
        model_dir: str | Path | None = None,
        *,
        config_text: str | None = None,
        activate: bool = True,
        limit_bytes: int | None = None,
    ) -> Experiment:
        """Create an experiment from a config and a model directory (packed with
        `.trainyardignore` applied).

        `config` is a local YAML file (`str` or `Path`; this process reads it and sends its
        text, the master never reads files) or the config as a dict; YAML text goes in
        `config_text` instead. Exactly one of the two. Bad configs raise `ConfigError`.

        >>> client.create_experiment("const.yaml", Path("model_dir"))  # doctest: +SKIP
        >>> client.create_experiment(config_text=yaml_text)  # doctest: +SKIP
        """
        text = config_as_text(config, config_text)
        if text is None:
            raise ConfigError("config: give a config file, a dict or config_text")
        files: dict[str, tuple[str, bytes, str]] = {}
        if model_dir is not None:
            data = pack_model_dir(model_dir, limit_bytes=limit_bytes)
            files["model_def"] = ("model_def.tar.gz", data, "application/gzip")
        form = {"config": text, "activate": "true" if activate else "false"}
        return Experiment.from_json(
            self._call("POST", "/experiments", data=form, files=files or None)
        )

    def list_experiments(
        self,
        *,
        state: str | None = None,
        archived: bool | None = None,
        name: str | None = None,
        sort: str = "-id",
        limit: int = 100,
        offset: int = 0,
    ) -> Page[Experiment]:
        params = {"state": state, "archived": archived, "name": name, "sort": sort}
        return self._page("/experiments", Experiment.from_json, params, limit, offset)

    def get_experiment(self, experiment_id: int) -> Experiment:
        return Experiment.from_json(self._call("GET", f"/experiments/{experiment_id}"))

    def experiment_action(self, experiment_id: int, action: str) -> Experiment:
        """`action` is one of pause, activate, cancel, kill, archive, unarchive."""
        return Experiment.from_json(self._call("POST", f"/experiments/{experiment_id}/{action}"))

    def pause_experiment(self, experiment_id: int) -> Experiment:
        return self.experiment_action(experiment_id, "pause")

    def activate_experiment(self, experiment_id: int) -> Experiment:
        return self.experiment_action(experiment_id, "activate")

    def cancel_experiment(self, experiment_id: int) -> Experiment:
        return self.experiment_action(experiment_id, "cancel")

    def kill_experiment(self, experiment_id: int) -> Experiment:
        return self.experiment_action(experiment_id, "kill")

    def archive_experiment(self, experiment_id: int) -> Experiment:
        return self.experiment_action(experiment_id, "archive")

    def unarchive_experiment(self, experiment_id: int) -> Experiment:
        return self.experiment_action(experiment_id, "unarchive")

    def delete_experiment(self, experiment_id: int) -> Experiment:
        return Experiment.from_json(self._call("DELETE", f"/experiments/{experiment_id}"))

    def fork_experiment(
        self,
        experiment_id: int,
        config: ConfigArg | None = None,
        *,
        config_text: str | None = None,
    ) -> Experiment:
        """A new experiment from `experiment_id`'s model definition and a config given as in
        `create_experiment` (a local file, a dict or `config_text`); none keeps the old one."""
        body = {"config": config_as_text(config, config_text)}
        return Experiment.from_json(
            self._call("POST", f"/experiments/{experiment_id}/fork", json=body)
        )

    def set_priority(self, experiment_id: int, priority: int) -> Experiment:
        body = {"priority": priority}
        return Experiment.from_json(
            self._call("POST", f"/experiments/{experiment_id}/priority", json=body)
        )

    def wait_experiment(
        self,
        experiment_id: int,
        *,
        interval: float = 1.0,
        timeout: float | None = None,
        on_poll: Callable[[Experiment], None] | None = None,
    ) -> Experiment:
        """Poll until the experiment has ended and return it; `TimeoutError` after `timeout` s."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            exp = self.get_experiment(experiment_id)
            if on_poll is not None:
                on_poll(exp)
            if exp.is_terminal:
                return exp
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"experiment {experiment_id} still {exp.state} after {timeout}s")
            time.sleep(interval)

    def download_model_def(self, experiment_id: int, dest: Path) -> Path:
        """Write the experiment's model definition tarball to `dest`."""
        return self._download(f"/experiments/{experiment_id}/model_def", dest)

    def experiment_metrics(
        self,
        experiment_id: int,
        *,
        name: str | None = None,
        group: str = "validation",
        max_points: int = 200,
    ) -> list[MetricSeries]:
        """Every trial's downsampled curve of `name` (default: the searcher metric)."""
        params = {"name": name, "group": group, "max_points": max_points}
        data = self._call("GET", f"/experiments/{experiment_id}/metrics", params=params)
        return [
            MetricSeries(t["trial_id"], [(int(s), decode_float(v)) for s, v in t["points"]])
            for t in data["trials"]
        ]

    # -- trials --------------------------------------------------------------------------------

    def list_trials(
        self,
        experiment_id: int,
        *,
        state: str | None = None,
        sort: str = "id",
        limit: int = 100,
        offset: int = 0,
    ) -> Page[Trial]:
        params = {"state": state, "sort": sort}
        path = f"/experiments/{experiment_id}/trials"
        return self._page(path, Trial.from_json, params, limit, offset)

    def get_trial(self, trial_id: int) -> Trial:
        return Trial.from_json(self._call("GET", f"/trials/{trial_id}"))

    def kill_trial(self, trial_id: int) -> Trial:
        return Trial.from_json(self._call("POST", f"/trials/{trial_id}/kill"))

    def continue_trial(
        self, trial_id: int, *, checkpoint_uuid: str | None = None, max_length: int | None = None
    ) -> tuple[int, int]:
        """Continue training `trial_id` from a checkpoint; returns (experiment_id, trial_id)."""
        body = {"checkpoint_uuid": checkpoint_uuid, "max_length": max_length}
        data = self._call("POST", f"/trials/{trial_id}/continue", json=body)
        return int(data["experiment_id"]), int(data["trial_id"])

    def trial_metrics(
        self,
        trial_id: int,
        *,
        group: str = "training",
        names: list[str] | None = None,
        max_points: int = 1000,
    ) -> list[MetricPoint]:
        params = {"group": group, "names": ",".join(names) if names else None}
        params["max_points"] = str(max_points)
        data = self._call("GET", f"/trials/{trial_id}/metrics", params=params)
        return [MetricPoint.from_json(p) for p in data["points"]]

    def trial_logs(self, trial_id: int, **kwargs: Any) -> Iterator[LogLine]:
        """Log lines of a trial; see `_logs` for `follow`, `search`, `rank`, `stream`."""
        return self._logs(f"/trials/{trial_id}/logs", **kwargs)

    def experiment_logs(self, experiment_id: int, **kwargs: Any) -> Iterator[LogLine]:
        """Log lines of every trial of an experiment, in the order they were stored."""
        return self._logs(f"/experiments/{experiment_id}/logs", **kwargs)

    # -- checkpoints ---------------------------------------------------------------------------

    def list_checkpoints(
        self,
        *,
        experiment_id: int | None = None,
        trial_id: int | None = None,
        sort: str = "-created_at",
        limit: int = 100,
        offset: int = 0,
    ) -> Page[Checkpoint]:
        """Checkpoints of one experiment or one trial (give exactly one of the two)."""
        if (experiment_id is None) == (trial_id is None):
            raise ValueError("give exactly one of experiment_id or trial_id")
        owner = f"/experiments/{experiment_id}" if trial_id is None else f"/trials/{trial_id}"
        params = {"sort": sort}
        return self._page(f"{owner}/checkpoints", Checkpoint.from_json, params, limit, offset)

    def get_checkpoint(self, uuid: str) -> Checkpoint:
        return Checkpoint.from_json(self._call("GET", f"/checkpoints/{uuid}"))

    def download_checkpoint(self, uuid: str, dest: Path) -> Path:
        """Download the checkpoint's files as a `.tar.gz` to `dest` (a file path)."""
        return self._download(f"/checkpoints/{uuid}/download", dest)

    # -- cluster and preview -------------------------------------------------------------------

    def cluster(self) -> ClusterState:
        return ClusterState.from_json(self._call("GET", "/cluster"))

    def preview(self, config: str | Path) -> dict[str, Any]:
        text = config.read_text() if isinstance(config, Path) else config
        result: dict[str, Any] = self._call("POST", "/preview", json={"config": text})
        return result

    # -- plumbing ------------------------------------------------------------------------------

    def _logs(
        self,
        path: str,
        *,
        follow: bool = False,
        search: str | None = None,
        rank: int | None = None,
        stream: str | None = None,
        after_id: int = 0,
        poll_seconds: int = 20,
    ) -> Iterator[LogLine]:
        """Pages through the logs; with `follow`, long-polls until the trial(s) have ended."""
        while True:
            params: Params = {
                "after_id": after_id,
                "search": search,
                "rank": rank,
                "stream": stream,
                "timeout_seconds": poll_seconds if follow else 0,
            }
            data = self._call("GET", path, params=params, timeout=poll_seconds + 30.0)
            for raw in data["lines"]:
                yield LogLine.from_json(raw)
            after_id = int(data["next_after_id"])
            if not data["lines"] and (not follow or data["ended"]):
                return

    def _page(
        self,
        path: str,
        parse: Callable[[dict[str, Any]], _T],
        params: Params,
        limit: int,
        offset: int,
    ) -> Page[_T]:
        data = self._call("GET", path, params={**params, "limit": limit, "offset": offset})
        items = [parse(item) for item in data["items"]]
        return Page(items, int(data["total"]), int(data["limit"]), int(data["offset"]))

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> Any:
        clean = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        try:
            response = self._http.request(method, "/api/v1" + path, params=clean, **kwargs, **extra)
        except httpx.TransportError as err:
            raise MasterUnreachableError(
                f"cannot reach the master at {self.master_url} ({type(err).__name__}); "
                "start one with `trainyard master up` or set TRAINYARD_MASTER"
            ) from None
        _raise_for_error(response)
        return response.json()

    def _download(self, path: str, dest: Path) -> Path:
        try:
            with self._http.stream("GET", "/api/v1" + path) as response:
                if response.is_error:
                    response.read()
                    _raise_for_error(response)
                dest.parent.mkdir(parents=True, exist_ok=True)
                with dest.open("wb") as out:
                    for chunk in response.iter_bytes():
                        out.write(chunk)
        except httpx.TransportError as err:
            raise MasterUnreachableError(
                f"cannot reach the master at {self.master_url} ({type(err).__name__})"
            ) from None
        return dest


def local_admin_token() -> str | None:
    """The admin token a master on this machine wrote, or None when there is none to read."""
    data_dir = Path(os.environ.get("TRAINYARD_DATA_DIR") or "~/.trainyard").expanduser()
    path = data_dir / "admin_token"
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def _param(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _raise_for_error(response: httpx.Response) -> None:
    if not response.is_error:
        return
    try:
        detail = str(response.json().get("detail", ""))
    except ValueError:
        detail = response.text.strip()[:300]
    raise error_for_status(response.status_code, detail or f"HTTP {response.status_code}")
