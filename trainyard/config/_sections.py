"""The smaller sections of an experiment config: environment, seed, storage, resources."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from trainyard.config._problems import Problem, Section, show

DEFAULT_EXPERIMENT_SEED = 42
"""Used when `reproducibility.experiment_seed` is absent: the same YAML replays the same search."""

_MAX_SEED = 2**31 - 1


class EnvironmentConfig(Section):
    """Environment variables set for every trial process.

    YAML gives them as Determined does, a list of `KEY=VALUE` strings, or as a map; either way
    `environment_variables` is a `dict[str, str]` (scalars in a map become strings: `true`, `1`).
    """

    environment_variables: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def _prepare(cls, data: Any) -> tuple[Any, list[Problem]]:
        if not isinstance(data, dict):
            return data, []
        raw = data.get("environment_variables")
        if isinstance(raw, list):
            variables, problems = _from_list(raw)
        elif isinstance(raw, dict):
            variables, problems = _from_map(raw)
        else:
            return data, []
        return {**data, "environment_variables": variables}, problems


def _from_list(entries: list[Any]) -> tuple[dict[str, str], list[Problem]]:
    variables: dict[str, str] = {}
    problems = []
    for i, entry in enumerate(entries):
        key, sep, value = entry.partition("=") if isinstance(entry, str) else ("", "", "")
        if not (key and sep):
            loc = ("environment_variables", i)
            problems.append(Problem(loc, f"must be KEY=VALUE, got {show(entry)}", entry))
            continue
        variables[key] = value
    return variables, problems


def _from_map(entries: dict[Any, Any]) -> tuple[dict[str, str], list[Problem]]:
    if entries and set(entries) <= {"cpu", "cuda", "rocm"}:
        rule = (
            "per-device lists (cpu/cuda/rocm) are not supported by Trainyard; "
            "give one list of KEY=VALUE or one map"
        )
        return {}, [Problem(("environment_variables",), rule, entries)]
    variables: dict[str, str] = {}
    problems = []
    for key, value in entries.items():
        loc = ("environment_variables", key)
        if not isinstance(key, str) or not key or "=" in key:
            problems.append(Problem(loc, "must be a non-empty name without '='", key))
        elif isinstance(value, bool):
            variables[key] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            variables[key] = str(value)
        else:
            problems.append(Problem(loc, f"must be a string or a number, got {show(value)}", value))
    return variables, problems


class ReproducibilityConfig(Section):
    """`experiment_seed` seeds the searcher and, with the trial id, every trial's RNGs."""

    experiment_seed: int = Field(default=DEFAULT_EXPERIMENT_SEED, ge=0, le=_MAX_SEED)


StorageType = Literal["shared_fs", "directory", "fsspec"]
_FIELDS_OF_TYPE: dict[str, tuple[str, ...]] = {
    "shared_fs": ("host_path", "storage_path"),
    "directory": ("container_path",),
    "fsspec": ("url",),
}


class CheckpointStorageConfig(Section):
    """Where checkpoints are written, and how many are kept.

    - `shared_fs`: a directory every trial can reach; `host_path` (None: the master's
      `checkpoint_root`) joined with the optional relative `storage_path`.
    - `directory`: the absolute `container_path`, used as is.
    - `fsspec`: a URL such as `s3://bucket/prefix` (YAML may give just the URL string).

    Garbage collection keeps the `save_experiment_best` best of the experiment, the
    `save_trial_best` best and `save_trial_latest` latest of each trial.
    """

    type: StorageType = "shared_fs"
    host_path: str | None = Field(default=None, min_length=1)
    storage_path: str | None = Field(default=None, min_length=1)
    container_path: str | None = Field(default=None, min_length=1)
    url: str | None = Field(default=None, min_length=1)
    save_experiment_best: int = Field(default=0, ge=0)
    save_trial_best: int = Field(default=1, ge=0)
    save_trial_latest: int = Field(default=1, ge=0)

    @classmethod
    def _prepare(cls, data: Any) -> tuple[Any, list[Problem]]:
        if isinstance(data, str):
            if "://" in data:
                return {"type": "fsspec", "url": data}, []
            rule = f"must be a map or a URL like s3://bucket/prefix, got {show(data)}"
            return {}, [Problem((), rule, data)]
        if not isinstance(data, dict):
            return data, []
        kind = data.get("type", "shared_fs")
        if kind not in _FIELDS_OF_TYPE:
            return data, []
        return data, _storage_problems(kind, data)


def _storage_problems(kind: str, data: dict[str, Any]) -> list[Problem]:
    problems = []
    for other, fields in _FIELDS_OF_TYPE.items():
        for field in fields:
            if other != kind and data.get(field) is not None:
                problems.append(Problem((field,), f"only for type {other}", data[field]))
    required = {"directory": "container_path", "fsspec": "url"}.get(kind)
    if required and data.get(required) is None:
        problems.append(Problem((required,), f"required for type {kind}"))
    path = data.get("container_path") if kind == "directory" else data.get("host_path")
    if kind != "fsspec" and isinstance(path, str) and path and not path.startswith(("/", "~")):
        field = "container_path" if kind == "directory" else "host_path"
        problems.append(Problem((field,), f"must be an absolute path, got {show(path)}", path))
    storage_path = data.get("storage_path")
    if kind == "shared_fs" and isinstance(storage_path, str) and ".." in storage_path.split("/"):
        problems.append(Problem(("storage_path",), "must not contain '..'", storage_path))
    url = data.get("url")
    if kind == "fsspec" and isinstance(url, str) and "://" not in url:
        problems.append(
            Problem(("url",), f"must be a URL like s3://bucket/prefix, got {show(url)}")
        )
    return problems


class ResourcesConfig(Section):
    """What one trial asks of the scheduler.

    `priority` 1 (highest) .. 99 (lowest), None for the pool's default; `max_slots` caps the slots
    the whole experiment holds at once (None: no cap).
    """

    slots_per_trial: int = Field(default=1, ge=1)
    priority: int | None = Field(default=None, ge=1, le=99)
    resource_pool: str = Field(default="default", min_length=1)
    max_slots: int | None = Field(default=None, ge=1)

    @classmethod
    def _prepare(cls, data: Any) -> tuple[Any, list[Problem]]:
        if isinstance(data, dict) and data.get("resource_pool") == "":
            # Determined spells "the default pool" as an empty string.
            data = {**data, "resource_pool": "default"}
        return data, []
