"""The malformed-input corpus: configs and model directories the master must refuse.

`CASES` lists every case once. A case is YAML text (what the API receives as `config` and the
CLI reads from a file) and, for model-directory cases, the tarball the API receives and a
builder of the directory the CLI packs (None where no directory can produce that tarball, e.g.
a device node). `words` is a fragment of the one line that must come back; `preview` says
whether `POST /preview` and `trainyard preview` refuse it too (a config the master refuses
only for its own reasons, such as an unknown resource pool, previews fine).

Sources: the YAML edge cases are real files under `yaml/` (`YAML_WORDS` names what each must
say); config-field cases are generated from one valid config by changing one field; model
directory cases are built here.
"""

from __future__ import annotations

import copy
import gzip
import io
import os
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent

VALID: dict[str, Any] = {
    "name": "corpus",
    "entrypoint": "python3 train.py",
    "hyperparameters": {"lr": 0.1},
    "searcher": {"name": "single", "metric": "loss", "max_length": {"batches": 2}},
}
VALID_TEXT = yaml.safe_dump(VALID, sort_keys=False)
MODEL_LIMIT = 1_000_000
"""`max_model_dir_bytes` of the corpus master."""


@dataclass(frozen=True)
class Case:
    name: str
    config: str
    words: str
    preview: bool = True
    tarball: bytes | None = None
    model_dir: Callable[[Path], Path] | None = None
    status: int = 400
    model_case: bool = False


# -- YAML edge cases (files) --------------------------------------------------------------------

YAML_WORDS: dict[str, str] = {
    "alias_depth_chain": "nested more than 64 deep once aliases are expanded",
    "anchor_without_node": "invalid YAML at line 2",
    "bad_indent": "mapping values are not allowed",
    "bell_character": "unacceptable character #x0007",
    "billion_laughs": "once its aliases (*name) are expanded",
    "binary_tag": "tag !!binary is not allowed in a config",
    "comment_only": "is empty",
    "deep_block_nesting": "nested more than 64 deep",
    "deep_flow_maps": "nested more than 64 deep",
    "deep_flow_nesting": "nested more than 64 deep",
    "directive_garbage": "found incompatible YAML document",
    "duplicate_flow_key": "duplicate key 'name'",
    "duplicate_hparam": "duplicate key 'lr'",
    "duplicate_nested_key": "duplicate key 'metric'",
    "duplicate_top_key": "duplicate key 'name'",
    "list_document": "must be a map of fields",
    "mapping_in_scalar": "mapping values are not allowed",
    "merge_non_map": "invalid YAML at line 5",
    "multiple_documents": "but found another document",
    "null_document": "is empty",
    "null_key": "a key must be a string, got null",
    "number_as_top_key": "a key must be a string, got 5",
    "path_document": "never a file name",
    "python_module": "could not determine a constructor for the tag",
    "python_name": "could not determine a constructor for the tag",
    "python_object_apply": "could not determine a constructor for the tag",
    "python_object_in_key": "could not determine a constructor for the tag",
    "python_object_new": "could not determine a constructor for the tag",
    "python_tuple": "could not determine a constructor for the tag",
    "quadratic_blowup": "once its aliases (*name) are expanded",
    "recursive_alias": "an alias refers to a map or list that contains it",
    "recursive_list_alias": "an alias refers to a map or list that contains it",
    "scalar_document": "must be a map of fields",
    "tab_indentation": "that cannot start any token",
    "unclosed_flow": "expected ',' or '}'",
    "unclosed_quote": "found unexpected end of stream",
    "undefined_alias": "found undefined alias",
    "unhashable_key": "found unhashable key",
    "unknown_tag": "could not determine a constructor for the tag '!custom'",
}


def _yaml_cases() -> list[Case]:
    files = {p.stem: p for p in (HERE / "yaml").glob("*.yaml")}
    assert set(files) == set(YAML_WORDS), set(files) ^ set(YAML_WORDS)
    return [
        Case(f"yaml/{name}", files[name].read_text(encoding="utf-8"), words)
        for name, words in sorted(YAML_WORDS.items())
    ]


# -- one field changed --------------------------------------------------------------------------

_DROP = object()
_PBT = {
    "name": "pbt",
    "metric": "loss",
    "population_size": 4,
    "num_rounds": 2,
    "length_per_round": {"batches": 1},
    "replace_function": {"truncate_fraction": 0.2},
    "explore_function": {"resample_probability": 0.2, "perturb_factor": 0.2},
}
_LEN = {"metric": "loss", "max_length": {"batches": 100}}

# (name, dotted field, new value or _DROP, words, preview refuses it too)
FIELD_CASES: list[tuple[str, str, Any, str, bool]] = [
    ("no_entrypoint", "entrypoint", _DROP, "entrypoint: required", True),
    ("no_searcher", "searcher", _DROP, "searcher: required", True),
    ("empty_entrypoint", "entrypoint", "", "entrypoint: must not be empty", True),
    ("number_entrypoint", "entrypoint", 5, "entrypoint: must be a string", True),
    ("list_name", "name", ["a"], "name: must be a string", True),
    ("number_name", "name", 5, "name: must be a string", True),
    ("long_name", "name", "n" * 300, "name: is 300 characters; the limit is 255", True),
    ("map_description", "description", {"a": 1}, "description: must be a string", True),
    ("long_description", "description", "d" * 20_000, "description: is 20,000 characters", True),
    ("string_labels", "labels", "x", "labels: must be a list", True),
    ("unknown_field", "unknown_field", 1, "unknown_field: unknown field", True),
    ("typo_field", "max_restart", 3, "max_restart: unknown field (did you mean", True),
    ("searcher_string", "searcher", "single", "searcher: must be a map", True),
    ("searcher_list", "searcher", [1], "searcher: must be a map", True),
    ("searcher_name_unknown", "searcher.name", "nope", "searcher.name: must be one of", True),
    ("searcher_name_number", "searcher.name", 5, "searcher.name: must be one of", True),
    ("no_metric", "searcher.metric", _DROP, "searcher.metric: required", True),
    ("empty_metric", "searcher.metric", "", "searcher.metric: must not be empty", True),
    (
        "max_length_negative",
        "searcher.max_length",
        -1,
        "searcher.max_length.batches: must be",
        True,
    ),
    (
        "max_length_zero",
        "searcher.max_length.batches",
        0,
        "searcher.max_length.batches: must be",
        True,
    ),
    ("max_length_word", "searcher.max_length", "ten", "searcher.max_length: must be a map", True),
    (
        "max_length_1e30",
        "searcher.max_length.batches",
        1e30,
        "searcher.max_length.batches: must be between",
        True,
    ),
    (
        "max_length_2_64",
        "searcher.max_length.batches",
        2**64,
        "searcher.max_length.batches: must be between",
        True,
    ),
    (
        "max_length_unit",
        "searcher.max_length",
        {"bananas": 3},
        "searcher.max_length.bananas: unknown field",
        True,
    ),
    (
        "max_length_two_units",
        "searcher.max_length",
        {"batches": 1, "epochs": 2},
        "searcher.max_length: must have exactly one",
        True,
    ),
    (
        "max_length_fraction",
        "searcher.max_length.batches",
        2.5,
        "searcher.max_length.batches: must be",
        True,
    ),
    (
        "max_length_bool",
        "searcher.max_length.batches",
        True,
        "searcher.max_length.batches: must be",
        True,
    ),
    (
        "smaller_is_better_word",
        "searcher.smaller_is_better",
        "maybe",
        "searcher.smaller_is_better: must be true or false",
        True,
    ),
    (
        "both_lengths",
        "searcher.time_metric",
        "t",
        "searcher.max_length: give either max_length or time_metric",
        True,
    ),
    (
        "source_uuid_number",
        "searcher.source_checkpoint_uuid",
        5,
        "searcher.source_checkpoint_uuid: must be a string",
        True,
    ),
    ("max_restarts_negative", "max_restarts", -1, "max_restarts: must be >= 0", True),
    ("max_restarts_2_64", "max_restarts", 2**64, "max_restarts: must be between", True),
    ("max_restarts_word", "max_restarts", "x", "max_restarts: must be an integer", True),
    ("max_restarts_fraction", "max_restarts", 1.5, "max_restarts: must be an integer", True),
    ("resources_string", "resources", "x", "resources: must be a map", True),
    ("slots_zero", "resources.slots_per_trial", 0, "resources.slots_per_trial: must be >= 1", True),
    (
        "slots_negative",
        "resources.slots_per_trial",
        -1,
        "resources.slots_per_trial: must be >= 1",
        True,
    ),
    (
        "slots_2_70",
        "resources.slots_per_trial",
        2**70,
        "resources.slots_per_trial: must be between",
        True,
    ),
    (
        "slots_over_pool",
        "resources.slots_per_trial",
        99,
        "resources.slots_per_trial is 99 but resource pool",
        False,
    ),
    (
        "unknown_pool",
        "resources.resource_pool",
        "gpus-we-do-not-have",
        "resource pool 'gpus-we-do-not-have' does not exist",
        False,
    ),
    ("priority_zero", "resources.priority", 0, "resources.priority: must be >= 1", True),
    ("priority_1000", "resources.priority", 1000, "resources.priority: must be <= 99", True),
    ("resources_unknown", "resources.unknown", 1, "resources.unknown: unknown field", True),
    (
        "storage_type",
        "checkpoint_storage",
        {"type": "ftp"},
        "checkpoint_storage.type: must be one of",
        True,
    ),
    (
        "storage_relative",
        "checkpoint_storage",
        {"type": "shared_fs", "host_path": "rel/dir"},
        "checkpoint_storage.host_path: must be an absolute path",
        True,
    ),
    (
        "storage_dotdot",
        "checkpoint_storage",
        {"type": "shared_fs", "host_path": "/tmp", "storage_path": "../up"},
        "checkpoint_storage.storage_path: must not contain '..'",
        True,
    ),
    (
        "save_latest_negative",
        "checkpoint_storage.save_trial_latest",
        -1,
        "checkpoint_storage.save_trial_latest: must be >= 0",
        True,
    ),
    (
        "checkpoint_policy",
        "checkpoint_policy",
        "sometimes",
        "checkpoint_policy: must be one of",
        True,
    ),
    ("records_per_epoch", "records_per_epoch", -3, "records_per_epoch: must be >= 1", True),
    (
        "validation_period",
        "min_validation_period",
        {"batches": -1},
        "min_validation_period.batches: must be",
        True,
    ),
    (
        "checkpoint_period",
        "min_checkpoint_period",
        {"bananas": 1},
        "min_checkpoint_period.bananas: unknown field",
        True,
    ),
    (
        "env_no_equals",
        "environment",
        {"environment_variables": ["NOEQUALS"]},
        "environment.environment_variables[0]: must be KEY=VALUE",
        True,
    ),
    (
        "env_number",
        "environment",
        {"environment_variables": 5},
        "environment.environment_variables: must be a map",
        True,
    ),
    (
        "seed_negative",
        "reproducibility",
        {"experiment_seed": -1},
        "reproducibility.experiment_seed: must be >= 0",
        True,
    ),
    (
        "seed_huge",
        "reproducibility",
        {"experiment_seed": 2**65},
        "reproducibility.experiment_seed: must be <=",
        True,
    ),
    (
        "seed_word",
        "reproducibility",
        {"experiment_seed": "x"},
        "reproducibility.experiment_seed: must be an integer",
        True,
    ),
    ("data_string", "data", "notamap", "data: must be a map", True),
    ("hparams_string", "hyperparameters", "x", "hyperparameters: must be a map", True),
    (
        "hparam_type",
        "hyperparameters.lr",
        {"type": "nope"},
        "hyperparameters.lr.type: must be one of",
        True,
    ),
    (
        "hparam_min_over_max",
        "hyperparameters.lr",
        {"type": "int", "minval": 5, "maxval": 1},
        "hyperparameters.lr.minval: must be <= maxval",
        True,
    ),
    (
        "hparam_no_minval",
        "hyperparameters.lr",
        {"type": "double", "maxval": 1},
        "hyperparameters.lr.minval: required",
        True,
    ),
    (
        "hparam_empty_vals",
        "hyperparameters.lr",
        {"type": "categorical", "vals": []},
        "hyperparameters.lr.vals: must not be empty",
        True,
    ),
    (
        "hparam_vals_number",
        "hyperparameters.lr",
        {"type": "categorical", "vals": 3},
        "hyperparameters.lr.vals: must be a list",
        True,
    ),
    (
        "hparam_log_base",
        "hyperparameters.lr",
        {"type": "log", "minval": -3, "maxval": -1, "base": -10},
        "hyperparameters.lr.base: must be > 0",
        True,
    ),
    (
        "hparam_int_2_70",
        "hyperparameters.lr",
        {"type": "int", "minval": 0, "maxval": 2**70},
        "hyperparameters.lr.maxval: must be between",
        True,
    ),
    (
        "hparam_dotted_name",
        "hyperparameters",
        {"a.b": 1},
        "hyperparameters['a.b']: a hyperparameter name",
        True,
    ),
    (
        "hparam_count_zero",
        "hyperparameters.lr",
        {"type": "double", "minval": 0, "maxval": 1, "count": 0},
        "hyperparameters.lr.count: must be >= 1",
        True,
    ),
    (
        "hparam_const_no_val",
        "hyperparameters.lr",
        {"type": "const"},
        "hyperparameters.lr.val: required",
        True,
    ),
    (
        "hparam_min_word",
        "hyperparameters.lr",
        {"type": "double", "minval": "a", "maxval": 1},
        "hyperparameters.lr.minval: must be a number",
        True,
    ),
    (
        "random_no_trials",
        "searcher",
        {"name": "random", **_LEN},
        "searcher.max_trials: required",
        True,
    ),
    (
        "random_zero_trials",
        "searcher",
        {"name": "random", **_LEN, "max_trials": 0},
        "searcher.max_trials: must be >= 1",
        True,
    ),
    (
        "random_10_15_trials",
        "searcher",
        {"name": "random", **_LEN, "max_trials": 10**15},
        "searcher.max_trials: the search plans about 10^15 trials",
        True,
    ),
    (
        "random_concurrency",
        "searcher",
        {"name": "random", **_LEN, "max_trials": 3, "max_concurrent_trials": -1},
        "searcher.max_concurrent_trials: must be >= 0",
        True,
    ),
    (
        "random_all_at_once",
        "searcher",
        {"name": "random", **_LEN, "max_trials": 5000, "max_concurrent_trials": 0},
        "searcher.max_concurrent_trials: the search may create 5,000 trials at once",
        False,
    ),
    (
        "grid_concurrency",
        "searcher",
        {"name": "grid", **_LEN, "max_concurrent_trials": -1},
        "searcher.max_concurrent_trials: must be >= 0",
        True,
    ),
    (
        "asha_no_rungs",
        "searcher",
        {"name": "async_halving", **_LEN, "max_trials": 4},
        "searcher.num_rungs: required",
        True,
    ),
    (
        "asha_zero_rungs",
        "searcher",
        {"name": "async_halving", **_LEN, "max_trials": 4, "num_rungs": 0},
        "searcher.num_rungs: must be >= 1",
        True,
    ),
    (
        "asha_divisor_1",
        "searcher",
        {"name": "async_halving", **_LEN, "max_trials": 4, "num_rungs": 3, "divisor": 1},
        "searcher.divisor: must be > 1",
        True,
    ),
    (
        "adaptive_mode",
        "searcher",
        {"name": "adaptive_asha", **_LEN, "max_trials": 4, "mode": "wild"},
        "searcher.mode: must be one of",
        True,
    ),
    (
        "adaptive_zero_rungs",
        "searcher",
        {"name": "adaptive_asha", **_LEN, "max_trials": 4, "max_rungs": 0},
        "searcher.max_rungs: must be >= 1",
        True,
    ),
    (
        "adaptive_bracket_rungs",
        "searcher",
        {"name": "adaptive_asha", **_LEN, "max_trials": 4, "bracket_rungs": [0]},
        "searcher.bracket_rungs[0]: must be >= 1",
        True,
    ),
    (
        "adaptive_200k_trials",
        "searcher",
        {"name": "adaptive_asha", **_LEN, "max_trials": 200_000},
        "searcher.max_trials: the search plans 200,000 trials",
        True,
    ),
    (
        "sha_divisor_0",
        "searcher",
        {"name": "sync_halving", **_LEN, "max_trials": 4, "num_rungs": 3, "divisor": 0},
        "searcher.divisor: must be > 1",
        True,
    ),
    (
        "pbt_population_0",
        "searcher",
        {**_PBT, "population_size": 0},
        "searcher.population_size: must be >= 1",
        True,
    ),
    (
        "pbt_truncate",
        "searcher",
        {**_PBT, "replace_function": {"truncate_fraction": 0.9}},
        "searcher.replace_function.truncate_fraction: must be <= 0.5",
        True,
    ),
    (
        "pbt_resample",
        "searcher",
        {**_PBT, "explore_function": {"resample_probability": 2, "perturb_factor": 0.2}},
        "searcher.explore_function.resample_probability: must be <= 1",
        True,
    ),
    (
        "pbt_million_trials",
        "searcher",
        {**_PBT, "population_size": 1000, "num_rounds": 1000},
        "searcher.population_size: the search plans 1,000,000 trials",
        True,
    ),
    (
        "grid_10_18_points",
        "hyperparameters",
        {f"x{i}": {"type": "double", "minval": 0, "maxval": 1, "count": 1000} for i in range(6)},
        "",
        True,
    ),
    (
        "custom_no_class",
        "searcher",
        {"name": "custom", "metric": "loss"},
        "searcher.searcher_class: required",
        True,
    ),
    (
        "custom_evilmod",
        "searcher",
        {"name": "custom", "metric": "loss", "searcher_class": "evilmod:X"},
        "searcher.searcher_class: ",
        True,
    ),
    (
        "custom_os_system",
        "searcher",
        {"name": "custom", "metric": "loss", "searcher_class": "os:system"},
        "searcher.searcher_class: ",
        True,
    ),
    (
        "determined_optimizations",
        "optimizations",
        {"aggregation_frequency": 0},
        "optimizations.aggregation_frequency: not supported by Trainyard",
        True,
    ),
    (
        "determined_initial_validation",
        "perform_initial_validation",
        "x",
        "perform_initial_validation: not supported by Trainyard",
        True,
    ),
]


def _changed(field: str, value: Any) -> dict[str, Any]:
    raw = copy.deepcopy(VALID)
    *parents, last = field.split(".")
    node = raw
    for key in parents:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    if value is _DROP:
        node.pop(last, None)
    else:
        node[last] = value
    if field == "hyperparameters" and "x0" in (value or {}):
        raw["searcher"] = {"name": "grid", "metric": "loss", "max_length": {"batches": 2}}
    return raw


def _field_cases() -> list[Case]:
    cases = []
    for name, field, value, words, preview in FIELD_CASES:
        if name == "grid_10_18_points":
            words = "hyperparameters: the grid has about 10^18 trials"
        text = yaml.safe_dump(_changed(field, value), sort_keys=False)
        cases.append(Case(f"field/{name}", text, words, preview))
    big = VALID_TEXT + "data:\n  blob: '" + "x" * 1_000_001 + "'\n"
    cases.append(Case("size/config_over_1_mb", big, "1.0 MB"))
    return cases


# -- model directories --------------------------------------------------------------------------


def _tar(members: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, data in members:
            info.size = len(data) if info.isfile() else 0
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return buffer.getvalue()


def _info(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info


def _train_py() -> tuple[tarfile.TarInfo, bytes]:
    return _info("train.py"), b"print('hi')\n"


def _bomb() -> bytes:
    """A tarball far under the upload limit whose one file unpacks to 64 MB of zeros."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = _info("zeros.bin")
        info.size = 64 * MODEL_LIMIT
        tar.addfile(info, _Zeros(info.size))
    return buffer.getvalue()


class _Zeros(io.RawIOBase):
    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.left)
        buffer[:n] = bytes(n)
        self.left -= n
        return n


def _dir(files: dict[str, bytes], links: dict[str, str] | None = None) -> Callable[[Path], Path]:
    def build(root: Path) -> Path:
        model = root / "model"
        model.mkdir(parents=True)
        for name, data in files.items():
            (model / name).write_bytes(data)
        for name, target in (links or {}).items():
            os.symlink(target, model / name)
        return model

    return build


def _model_cases() -> list[Case]:
    valid = _tar([_train_py()])
    tarballs: list[tuple[str, bytes, str, int]] = [
        ("not_gzip", b"plain text, not a tarball", "model_def: not a gzip tarball", 400),
        (
            "gzip_not_tar",
            gzip.compress(b"hello, not a tar archive" * 40),
            "model_def: not a gzip tarball",
            400,
        ),
        ("truncated", valid[: len(valid) // 2], "model_def: not a gzip tarball", 400),
        ("dotdot_member", _tar([(_info("../evil.py"), b"x")]), "escapes the model directory", 400),
        (
            "absolute_member",
            _tar([(_info("/tmp/evil.py"), b"x")]),
            "escapes the model directory",
            400,
        ),
        (
            "nested_dotdot",
            _tar([(_info("a/../../b.py"), b"x")]),
            "escapes the model directory",
            400,
        ),
        (
            "symlink_absolute",
            _tar([(_info("passwd", tarfile.SYMTYPE, "/etc/passwd"), b"")]),
            "points outside the directory",
            400,
        ),
        (
            "symlink_dotdot",
            _tar([(_info("up", tarfile.SYMTYPE, "../../x"), b"")]),
            "points outside the directory",
            400,
        ),
        (
            "hardlink_dotdot",
            _tar([(_info("hl", tarfile.LNKTYPE, "../x"), b"")]),
            "points outside the directory",
            400,
        ),
        ("char_device", _tar([(_info("dev", tarfile.CHRTYPE), b"")]), "is a device or FIFO", 400),
        ("block_device", _tar([(_info("blk", tarfile.BLKTYPE), b"")]), "is a device or FIFO", 400),
        ("fifo", _tar([(_info("pipe", tarfile.FIFOTYPE), b"")]), "is a device or FIFO", 400),
        (
            "over_limit",
            _tar([(_info("big.bin"), os.urandom(MODEL_LIMIT + 1000))]),
            "MB compressed; the limit is 1.0 MB",
            413,
        ),
        ("gzip_bomb", _bomb(), "model directory unpacks to more than 16.0 MB", 413),
    ]
    cases = [
        Case(f"model/{name}", VALID_TEXT, words, False, data, None, status, True)
        for name, data, words, status in tarballs
    ]
    # Directories the CLI packs itself (the API gets what packing them gives).
    dirs: list[tuple[str, Callable[[Path], Path], str, int]] = [
        (
            "dir_link_to_etc_passwd",
            _dir({"train.py": b"x"}, {"passwd": "/etc/passwd"}),
            "points outside the directory",
            400,
        ),
        (
            "dir_too_big",
            _dir({"big.bin": os.urandom(MODEL_LIMIT + 1000)}),
            "the limit is 1.0 MB",
            413,
        ),
    ]
    for name, build, words, status in dirs:
        cases.append(Case(f"model/{name}", VALID_TEXT, words, False, None, build, status, True))
    return cases


def missing_model_dir(root: Path) -> Path:
    return root / "no-such-model-dir"


def file_as_model_dir(root: Path) -> Path:
    path = root / "model.tar"
    path.write_bytes(b"x")
    return path


def non_utf8_ignore_file(root: Path) -> Path:
    model = _dir({"train.py": b"x"})(root)
    (model / ".trainyardignore").write_bytes(b"caf\xe9\n")
    return model


CLI_ONLY_MODEL_DIRS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "missing": (missing_model_dir, "does not exist or is not a directory"),
    "a_file": (file_as_model_dir, "does not exist or is not a directory"),
    "non_utf8_ignore_file": (non_utf8_ignore_file, ".trainyardignore: is not UTF-8 text"),
}
"""Model directories the CLI refuses before any request (the API has no equivalent input)."""


CASES: list[Case] = [*_yaml_cases(), *_field_cases(), *_model_cases()]
