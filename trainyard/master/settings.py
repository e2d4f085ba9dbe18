"""Master settings: `master.yaml` plus `TRAINYARD_*` environment overrides, validated.

    settings = load_master_settings(Path("master.yaml"))   # or load_master_settings() for defaults
    settings.db_url          # "sqlite:////home/me/.trainyard/trainyard.db" ('~' expanded)
    settings.resource_pools  # [ResourcePoolSettings(name="default", slots=2, slot_type="cpu")]

Precedence, lowest first: defaults, the YAML file, environment variables, keyword overrides.
Environment variables: `TRAINYARD_DB_URL`, `TRAINYARD_DATA_DIR`, `TRAINYARD_CHECKPOINT_ROOT`,
`TRAINYARD_HOST`, `TRAINYARD_PORT`, `TRAINYARD_CPU_SLOTS`, `TRAINYARD_MAX_MODEL_DIR_BYTES`,
`TRAINYARD_SCHEDULER_INTERVAL_SECONDS`, `TRAINYARD_PUBLIC_URL`, `TRAINYARD_RESOURCE_POOLS`
(JSON list) and `TRAINYARD_SEARCHER_MODULES` (comma list). Every problem is reported as one
`ConfigError` line naming the field.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from trainyard.config import MAX_TRIALS_AT_ONCE
from trainyard.errors import ConfigError

__all__ = [
    "MasterSettings",
    "ResourcePoolSettings",
    "count_gpus",
    "expand_db_url",
    "load_master_settings",
]

_DEFAULT_DATA_DIR = "~/.trainyard"
_ENV_PREFIX = "TRAINYARD_"
_ENV_FIELDS = (
    "db_url",
    "data_dir",
    "checkpoint_root",
    "host",
    "port",
    "cpu_slots",
    "max_model_dir_bytes",
    "scheduler_interval_seconds",
    "public_url",
    "resource_pools",
    "searcher_modules",
)


class ResourcePoolSettings(BaseModel):
    """A pool of interchangeable slots on this machine."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    slots: int = Field(ge=0)
    slot_type: Literal["cpu", "cuda"] = "cpu"


class MasterSettings(BaseModel):
    """Everything a master needs to start. Paths are absolute with `~` expanded.

    `resource_pools` defaults to one pool named `default`: one `cuda` slot per GPU found, else
    `cpu_slots` CPU slots.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    db_url: str = ""
    """SQLAlchemy URL; empty means SQLite at `<data_dir>/trainyard.db`."""
    data_dir: Path = Path(_DEFAULT_DATA_DIR)
    checkpoint_root: Path = Path(_DEFAULT_DATA_DIR) / "checkpoints"
    """Where `shared_fs` checkpoints go when an experiment names no storage path; when not
    given, `<data_dir>/checkpoints`."""
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    public_url: str | None = None
    """How trials and browsers reach this master; None means `http://<host>:<port>`."""
    cpu_slots: int = Field(default=2, ge=1)
    resource_pools: list[ResourcePoolSettings] = Field(default_factory=list)
    max_model_dir_bytes: int = Field(default=64 * 1024 * 1024, ge=1)
    scheduler_interval_seconds: float = Field(default=0.2, gt=0)
    max_trials_at_once: int = Field(default=MAX_TRIALS_AT_ONCE, ge=1)
    """Trials one search may create in one step (`max_concurrent_trials`, 0 meaning all, or
    PBT's population): they are written in one transaction while the create request waits."""
    searcher_modules: list[str] = Field(default_factory=list)
    """Modules (and their submodules) the master may import custom searchers from: code the
    operator installed and trusts. Empty: `searcher: {name: custom}` is refused, unimported."""

    @field_validator("data_dir", "checkpoint_root")
    @classmethod
    def _expand_path(cls, value: Path) -> Path:
        return Path(os.path.expandvars(str(value))).expanduser().absolute()

    @field_validator("db_url")
    @classmethod
    def _check_db_url(cls, value: str) -> str:
        if value and not value.startswith(("sqlite:", "postgresql")):
            raise ValueError(
                "must start with sqlite:/// or postgresql+psycopg:// (e.g. sqlite:///~/t.db)"
            )
        return expand_db_url(value)

    @model_validator(mode="after")
    def _fill_defaults(self) -> MasterSettings:
        # Frozen model: defaults that depend on other fields are set through object.__setattr__.
        if not self.db_url:
            object.__setattr__(self, "db_url", f"sqlite:///{self.data_dir / 'trainyard.db'}")
        if "checkpoint_root" not in self.model_fields_set:  # everything under the data dir
            object.__setattr__(self, "checkpoint_root", self.data_dir / "checkpoints")
        if not self.resource_pools:
            gpus = count_gpus()
            pool = (
                ResourcePoolSettings(name="default", slots=gpus, slot_type="cuda")
                if gpus
                else ResourcePoolSettings(name="default", slots=self.cpu_slots, slot_type="cpu")
            )
            object.__setattr__(self, "resource_pools", [pool])
        names = [p.name for p in self.resource_pools]
        if len(set(names)) != len(names):
            raise ValueError(f"resource_pools: pool names must be unique, got {names}")
        return self

    @property
    def url(self) -> str:
        """The address trials and browsers use to reach this master."""
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def admin_token_path(self) -> Path:
        """Where the admin token is written (mode 0600) so embedded mode can log in."""
        return self.data_dir / "admin_token"

    def pool(self, name: str) -> ResourcePoolSettings:
        """The pool called `name`; `ConfigError` naming the known pools if there is none."""
        for pool in self.resource_pools:
            if pool.name == name:
                return pool
        known = ", ".join(p.name for p in self.resource_pools)
        raise ConfigError(f"resource pool {name!r} does not exist; known pools: {known}")


def expand_db_url(url: str) -> str:
    """Expand `~` and `$VARS` in the path of a `sqlite:///` URL; other URLs are returned as is."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == prefix + ":memory:":
        return url
    path, sep, query = url[len(prefix) :].partition("?")
    expanded = os.path.expanduser(os.path.expandvars(path))
    return prefix + expanded + sep + query


def count_gpus() -> int:
    """Number of NVIDIA GPUs visible to this process (0 without a driver); never imports torch."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return len([d for d in visible.split(",") if d.strip() and d.strip() != "-1"])
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return 0
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    return sum(1 for line in out.stdout.splitlines() if line.startswith("GPU "))


def load_master_settings(
    path: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> MasterSettings:
    """Load settings from `path` (YAML mapping; None for none), the environment and `overrides`.

    Raises `ConfigError` with one line per problem, each naming the file and the field.
    """
    source = str(path) if path is not None else "master settings"
    values: dict[str, Any] = {}
    if path is not None:
        values.update(_read_yaml(path))
    values.update(_from_env(os.environ if env is None else env))
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return MasterSettings.model_validate(values)
    except ValidationError as err:
        raise ConfigError("\n".join(_format_errors(source, err))) from None


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.expanduser().read_text()
    except OSError as err:
        raise ConfigError(f"{path}: cannot read master config ({err.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a mapping of settings, got {type(data).__name__}")
    return data


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in _ENV_FIELDS:
        raw = env.get(_ENV_PREFIX + name.upper())
        if raw is None or raw == "":
            continue
        if name == "resource_pools":
            try:
                values[name] = json.loads(raw)
            except json.JSONDecodeError:
                raise ConfigError(
                    "TRAINYARD_RESOURCE_POOLS: must be JSON, e.g. "
                    '[{"name": "default", "slots": 2, "slot_type": "cpu"}]'
                ) from None
        elif name == "searcher_modules":
            values[name] = [m.strip() for m in raw.split(",") if m.strip()]
        else:
            values[name] = raw
    return values


def _format_errors(source: str, err: ValidationError) -> list[str]:
    lines = []
    for item in err.errors():
        loc = ".".join(str(part) for part in item["loc"]) or "(top level)"
        msg = str(item["msg"])
        if item["type"] == "extra_forbidden":
            msg = "unknown setting; check its spelling"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        lines.append(f"{source}: {loc}: {msg}")
    return lines
