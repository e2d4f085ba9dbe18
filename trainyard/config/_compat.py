"""Determined experiment configs: the fields we ignore, the ones we refuse, the old spellings.

A Determined field is *ignored* (with a warning line) when leaving it out cannot change what a
trial computes or how the search runs: container images, Kubernetes pod specs, HPC launcher
options, profiling, workspaces. It is *refused* (an error line) when it would: gradient aggregation,
mixed precision, initial validation, device mounts, scheduling weights, log policies. A few fields
take a value that means "what Trainyard does anyway" (`perform_initial_validation: false`,
`optimizations.aggregation_frequency: 1`, `resources.weight: 1`); with that value they are ignored.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from trainyard.errors import ConfigError

IGNORED = "not supported, ignored"
REFUSED = "not supported by Trainyard"

Harmless = Callable[[Any], bool]


def _always(value: Any) -> bool:
    return True


def _absent(value: Any) -> bool:
    return value is None


def _is(default: Any) -> Harmless:
    return lambda value: value is None or value == default


def _empty(value: Any) -> bool:
    return not value


# field -> (is the given value harmless?, what to do instead when it is not)
_Table = dict[str, tuple[Harmless, str]]

_TOP: _Table = {
    "bind_mounts": (_always, ""),
    "data_layer": (_always, ""),
    "debug": (_always, ""),
    "integrations": (_always, ""),
    "internal": (_always, ""),
    "pbs": (_always, ""),
    "profiling": (_always, ""),
    "project": (_always, ""),
    "scheduling_unit": (_always, ""),
    "security": (_always, ""),
    "slurm": (_always, ""),
    "tensorboard_storage": (_always, ""),
    "workspace": (_always, ""),
    "log_policies": (_empty, "failed trials are retried up to max_restarts"),
    "perform_initial_validation": (_is(False), "validate in the trial before training instead"),
}
_ENVIRONMENT: _Table = {
    key: (_always, "")
    for key in (
        "image",
        "pod_spec",
        "force_pull_image",
        "registry_auth",
        "add_capabilities",
        "drop_capabilities",
        "ports",
        "proxy_ports",
    )
}
_RESOURCES: _Table = {
    "agent_label": (_always, ""),
    "is_single_node": (_always, ""),
    "shm_size": (_always, ""),
    "native_parallel": (_is(False), ""),
    "devices": (_empty, "trials see the devices of the machine they run on"),
    "weight": (_is(1), "use resources.priority"),
    "slots": (_absent, "use resources.slots_per_trial"),
}
_SEARCHER: _Table = {
    "train_stragglers": (_always, ""),
    "unit": (_always, ""),
    "max_steps": (_absent, "use max_length, e.g. {batches: 1000}"),
    "target_trial_steps": (_absent, "use max_length, e.g. {batches: 1000}"),
    "step_budget": (_absent, "use max_length and max_trials"),
    "budget": (_absent, "use max_length and max_trials"),
}
_SHARED_FS: _Table = {"propagation": (_always, ""), "checkpoint_path": (_always, "")}
_OPTIMIZATIONS: _Table = {
    "aggregation_frequency": (_is(1), "accumulate gradients in the trial"),
    "mixed_precision": (_is("O0"), "use automatic mixed precision in the trial"),
}
_OLD_SEARCHERS = {"adaptive": "adaptive_asha", "adaptive_simple": "adaptive_asha"}
_BUCKET_SCHEMES = {"s3": "s3", "gcs": "gs"}
_BUCKET_CREDENTIALS = ("access_key", "secret_key", "endpoint_url")


@dataclass
class Translation:
    """The raw config with Determined-only fields removed, and what was said about them."""

    raw: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def translate_determined(raw: dict[str, Any]) -> Translation:
    """Drop ignored fields, refuse harmful ones, rewrite old spellings. `raw` is not modified.

    A document with neither `entrypoint` nor `searcher` but other fields (a Determined notebook,
    cluster or Helm values file) raises a one-line `ConfigError` saying it is not an experiment.
    """
    if raw and "entrypoint" not in raw and "searcher" not in raw:
        raise ConfigError(
            "config: not an experiment config (it has neither entrypoint nor searcher; "
            f"its fields: {', '.join(sorted(map(str, raw))[:4])}{', ...' if len(raw) > 4 else ''})"
        )
    out = Translation(dict(raw))
    _apply_table(out, out.raw, _TOP, "")
    _translate_entrypoint(out)
    _translate_optimizations(out)
    for key, table in (("environment", _ENVIRONMENT), ("resources", _RESOURCES)):
        section = out.raw.get(key)
        if isinstance(section, dict):
            out.raw[key] = dict(section)
            _apply_table(out, out.raw[key], table, f"{key}.")
    _translate_searcher(out)
    _translate_storage(out)
    return out


def _apply_table(out: Translation, section: dict[str, Any], table: _Table, prefix: str) -> None:
    for key in [key for key in section if key in table]:
        value = section.pop(key)
        harmless, hint = table[key]
        if harmless(value):
            out.warnings.append(f"{prefix}{key}: {IGNORED}")
        else:
            out.problems.append(f"{prefix}{key}: {REFUSED}" + (f"; {hint}" if hint else ""))


def _translate_optimizations(out: Translation) -> None:
    if "optimizations" not in out.raw:
        return
    section = out.raw.pop("optimizations")
    given = section if isinstance(section, dict) else {}
    refused = [
        f"optimizations.{key}: {REFUSED}; {hint}"
        for key, (harmless, hint) in _OPTIMIZATIONS.items()
        if not harmless(given.get(key))
    ]
    out.problems += refused
    if not refused:
        out.warnings.append(f"optimizations: {IGNORED}")


def _translate_searcher(out: Translation) -> None:
    searcher = out.raw.get("searcher")
    if not isinstance(searcher, dict):
        return
    searcher = out.raw["searcher"] = dict(searcher)
    _apply_table(out, searcher, _SEARCHER, "searcher.")
    name = searcher.get("name")
    if isinstance(name, str) and name in _OLD_SEARCHERS:
        new = _OLD_SEARCHERS[name]
        out.problems.append(f"searcher.name: '{name}' {REFUSED}; use {new}")
        searcher["name"] = new
    length = searcher.get("max_length")
    if isinstance(length, int) and not isinstance(length, bool):
        searcher["max_length"] = {"batches": length}
        out.warnings.append(
            f"searcher.max_length: a bare number is read as {{batches: {length}}}; write the unit"
        )


def _translate_storage(out: Translation) -> None:
    storage = out.raw.get("checkpoint_storage")
    if not isinstance(storage, dict):
        return
    storage = out.raw["checkpoint_storage"] = dict(storage)
    kind = storage.get("type", "shared_fs")
    if kind == "shared_fs":
        _apply_table(out, storage, _SHARED_FS, "checkpoint_storage.")
    elif kind in _BUCKET_SCHEMES:
        _bucket_to_url(out, storage, kind)
    elif kind in ("azure", "hdfs"):
        hint = "use type fsspec with a url, e.g. az://container/prefix"
        out.problems.append(f"checkpoint_storage.type: '{kind}' {REFUSED}; {hint}")
        del out.raw["checkpoint_storage"]


def _bucket_to_url(out: Translation, storage: dict[str, Any], kind: str) -> None:
    for key in _BUCKET_CREDENTIALS:
        if storage.pop(key, None) is not None:
            hint = "give credentials through the environment (e.g. AWS_ACCESS_KEY_ID)"
            out.problems.append(f"checkpoint_storage.{key}: {REFUSED}; {hint}")
    bucket, prefix = storage.pop("bucket", None), storage.pop("prefix", None)
    if not isinstance(bucket, str) or not bucket:
        out.problems.append(f"checkpoint_storage.bucket: required for type {kind}")
        bucket = "bucket"
    url = f"{_BUCKET_SCHEMES[kind]}://{bucket}"
    if isinstance(prefix, str) and prefix.strip("/"):
        url += "/" + prefix.strip("/")
    storage.update(type="fsspec", url=url)
    out.warnings.append(f"checkpoint_storage: type {kind} read as type fsspec, url {url}")


_PYTHON = re.compile(r"^(.*/)?python(3(\.\d+)?)?$")
_TORCH_LAUNCHERS = ("torch_distributed", "deepspeed")


def _translate_entrypoint(out: Translation) -> None:
    """`python3 -m determined.launch.torch_distributed [OVERRIDES --] SCRIPT...` (and
    `...deepspeed`) become `SCRIPT...`: Trainyard's launcher already starts one process per slot
    with torchrun's variables. `--trial module:Class` runs a Determined-style PyTorchTrial with
    `trainyard.determined.pytorch.run`. Other Determined launchers (horovod, tensorflow) are
    refused."""
    entrypoint = out.raw.get("entrypoint")
    if isinstance(entrypoint, str):
        try:
            argv = shlex.split(entrypoint)
        except ValueError:
            return
    elif isinstance(entrypoint, list) and all(isinstance(part, str) for part in entrypoint):
        argv = list(entrypoint)
    else:
        return
    if len(argv) < 3 or not _PYTHON.match(argv[0]) or argv[1] != "-m":
        return
    module = argv[2]
    if not module.startswith("determined.launch."):
        return
    name, rest = module.rsplit(".", 1)[1], argv[3:]
    if name not in _TORCH_LAUNCHERS:
        hint = "use python3 -m determined.launch.torch_distributed python3 train.py"
        out.problems.append(f"entrypoint: {module} {REFUSED}; {hint}")
        return
    if "--" in rest:
        rest = rest[rest.index("--") + 1 :]
    while rest[:1] == ["--trace"]:
        rest = rest[1:]
    if rest[:1] == ["--trial"] and len(rest) == 2:
        rest = ["python3", "-m", "trainyard.determined.pytorch.run", rest[1]]
    if not rest or rest[0].startswith("-"):
        out.problems.append(f"entrypoint: {module} needs a script to run, e.g. python3 train.py")
        return
    out.raw["entrypoint"] = shlex.join(rest)
    out.warnings.append(
        f"entrypoint: {module} dropped; Trainyard's launcher starts one process per slot "
        "(torchrun's variables)"
    )
