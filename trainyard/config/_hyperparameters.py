"""Hyperparameter spaces: const, int, double, log, categorical, nested in maps of any depth.

In YAML a map with a `type` key is one hyperparameter; a map without one is a nested group; any
other value (a number, a string, a list) is a constant. A constant map is written
`{type: const, val: {...}}`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import Field, ValidationError, ValidatorFunctionWrapHandler
from typing_extensions import TypeAliasType

from trainyard.config._problems import (
    Problem,
    Section,
    error_details,
    is_number,
    problem_details,
    raise_details,
    show,
)


class ConstHyperparameter(Section):
    """Always `val` (any YAML value)."""

    type: Literal["const"] = "const"
    val: Any


class IntHyperparameter(Section):
    """An integer in [minval, maxval], both included; `count` grid points for the grid searcher."""

    type: Literal["int"] = "int"
    minval: int
    maxval: int
    count: int | None = Field(default=None, ge=1)

    @classmethod
    def _prepare(cls, data: Any) -> tuple[Any, list[Problem]]:
        return data, _order_problems(data, strict=False)


class DoubleHyperparameter(Section):
    """A float uniform in [minval, maxval); `count` grid points for the grid searcher."""

    type: Literal["double"] = "double"
    minval: float = Field(allow_inf_nan=False)
    maxval: float = Field(allow_inf_nan=False)
    count: int | None = Field(default=None, ge=1)

    @classmethod
    def _prepare(cls, data: Any) -> tuple[Any, list[Problem]]:
        return data, _order_problems(data, strict=True)


class LogHyperparameter(Section):
    """`base ** x` with the exponent x uniform in [minval, maxval): -4, -1 gives 1e-4 .. 1e-1."""

    type: Literal["log"] = "log"
    minval: float = Field(allow_inf_nan=False)
    maxval: float = Field(allow_inf_nan=False)
    base: float = Field(default=10.0, gt=0, allow_inf_nan=False)
    count: int | None = Field(default=None, ge=1)

    @classmethod
    def _prepare(cls, data: Any) -> tuple[Any, list[Problem]]:
        problems = _order_problems(data, strict=True)
        if isinstance(data, dict) and is_number(data.get("base")) and data["base"] == 1:
            problems.append(Problem(("base",), "must not be 1", data["base"]))
        return data, problems


class CategoricalHyperparameter(Section):
    """One of `vals` (any YAML values), chosen uniformly; every one of them on a grid."""

    type: Literal["categorical"] = "categorical"
    vals: list[Any] = Field(min_length=1)


Hyperparameter = Annotated[
    ConstHyperparameter
    | IntHyperparameter
    | DoubleHyperparameter
    | LogHyperparameter
    | CategoricalHyperparameter,
    Field(discriminator="type"),
]
"""One hyperparameter's space, told apart by `.type`."""

HyperparameterNode = TypeAliasType(
    "HyperparameterNode", "Hyperparameter | dict[str, HyperparameterNode]"
)
"""A hyperparameter or a nested group of them."""

_KINDS: dict[str, type[Hyperparameter]] = {
    "const": ConstHyperparameter,
    "int": IntHyperparameter,
    "double": DoubleHyperparameter,
    "log": LogHyperparameter,
    "categorical": CategoricalHyperparameter,
}
_SPEC_CLASSES = (
    ConstHyperparameter,
    IntHyperparameter,
    DoubleHyperparameter,
    LogHyperparameter,
    CategoricalHyperparameter,
)
_GRID_NEEDS_COUNT = ("int", "double", "log")


class HyperparameterLeaf(NamedTuple):
    """One hyperparameter of a (possibly nested) space and its dotted path, e.g. `optimizer.lr`."""

    path: str
    spec: Hyperparameter


def _order_problems(data: Any, *, strict: bool) -> list[Problem]:
    if not isinstance(data, dict):
        return []
    low, high = data.get("minval"), data.get("maxval")
    if not (isinstance(low, int | float) and isinstance(high, int | float)):
        return []  # wrong types are reported by field validation
    if strict and not low < high:
        return [Problem(("minval",), f"must be < maxval ({high}), got {low}", low)]
    if not strict and not low <= high:
        return [Problem(("minval",), f"must be <= maxval ({high}), got {low}", low)]
    return []


def _node_kind(node: Any) -> Literal["spec", "group", "bare"]:
    if isinstance(node, _SPEC_CLASSES):
        return "spec"
    if isinstance(node, dict):
        return "spec" if "type" in node else "group"
    return "bare"


def validate_hyperparameter_tree(
    value: Any, handler: ValidatorFunctionWrapHandler
) -> dict[str, HyperparameterNode]:
    """Parse a raw hyperparameter map (YAML form or models) into specs and nested dicts.

    The wrap validator of `ExperimentConfig.hyperparameters` (pydantic's own `handler` is not used:
    dispatching by hand keeps union tags out of error paths). Every problem in the tree is reported
    at once, each at its own path.
    """
    return _parse_tree(value)


def _parse_tree(value: Any) -> dict[str, HyperparameterNode]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problem = Problem((), f"must be a map of name: hyperparameter, got {show(value)}", value)
        raise ValidationError.from_exception_data("hyperparameters", problem_details([problem]))
    result: dict[str, HyperparameterNode] = {}
    details = []
    for key, node in value.items():
        if not isinstance(key, str) or not key or "." in key:
            rule = "a hyperparameter name must be a non-empty string without '.'"
            details += problem_details([Problem((key,), rule, key)])
            continue
        try:
            result[key] = _validate_node(node)
        except ValidationError as exc:
            details += error_details(exc, (key,))
    raise_details("hyperparameters", details)
    return result


def _validate_node(node: Any) -> HyperparameterNode:
    kind = _node_kind(node)
    if kind == "group":
        return _parse_tree(node)
    if kind == "bare":
        return ConstHyperparameter(val=node)
    if isinstance(node, _SPEC_CLASSES):
        return node
    type_name = node["type"]
    spec_class = _KINDS.get(type_name) if isinstance(type_name, str) else None
    if spec_class is None:
        rule = f"must be one of {', '.join(_KINDS)}, got {show(type_name)}"
        problem = Problem(("type",), rule, type_name)
        raise ValidationError.from_exception_data("hyperparameter", problem_details([problem]))
    return spec_class.model_validate(node)


def grid_count_problems(tree: Any) -> list[Problem]:
    """Problems for int/double/log hyperparameters without `count` (the grid searcher needs one).

    `tree` is raw input (dicts or models); shapes that are invalid anyway are skipped here and
    reported by validation.
    """
    if not isinstance(tree, dict):
        return []
    problems = []
    for key, node in tree.items():
        kind = _node_kind(node)
        if kind == "group":
            problems += [Problem((key, *p.loc), p.message) for p in grid_count_problems(node)]
        elif kind == "spec":
            fields = node if isinstance(node, dict) else dict(node)
            if fields.get("type") in _GRID_NEEDS_COUNT and fields.get("count") is None:
                problems.append(Problem((key, "count"), "required by the grid searcher"))
    return problems


def hyperparameter_leaves(tree: Mapping[str, HyperparameterNode]) -> list[HyperparameterLeaf]:
    """Every hyperparameter of a validated space with its dotted path, depth first in YAML order.

    >>> [leaf.path for leaf in hyperparameter_leaves(config.hyperparameters)]
    ['lr', 'optimizer.momentum', 'optimizer.name']
    """
    return [HyperparameterLeaf(path, spec) for path, spec in _iter_leaves(tree, "")]


def _iter_leaves(tree: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, Hyperparameter]]:
    for key, node in tree.items():
        if isinstance(node, Mapping):
            yield from _iter_leaves(node, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", node


def flatten_hparams(nested: Mapping[str, Any]) -> dict[str, Any]:
    """`{"optimizer": {"lr": 0.1}}` → `{"optimizer.lr": 0.1}`.

    Every non-empty mapping is a group; an empty mapping is kept as a value, so
    `unflatten_hparams(flatten_hparams(x)) == x` for any nested dict whose keys hold no '.'.
    """
    flat: dict[str, Any] = {}
    for key, value in nested.items():
        if isinstance(value, Mapping) and value:
            for sub_key, sub_value in flatten_hparams(value).items():
                flat[f"{key}.{sub_key}"] = sub_value
        else:
            flat[key] = value
    return flat


def unflatten_hparams(flat: Mapping[str, Any]) -> dict[str, Any]:
    """`{"optimizer.lr": 0.1}` → `{"optimizer": {"lr": 0.1}}`; the inverse of `flatten_hparams`.

    Raises ValueError when two keys collide (`"a": 1` and `"a.b": 2`).
    """
    nested: dict[str, Any] = {}
    made_here: set[int] = set()  # ids of the group dicts built here, to tell them from values
    for dotted, value in flat.items():
        *groups, leaf = dotted.split(".")
        node = nested
        for depth, group in enumerate(groups):
            if group not in node:
                node[group] = {}
                made_here.add(id(node[group]))
            if id(node[group]) not in made_here:
                clash = ".".join(groups[: depth + 1])
                raise ValueError(f"hyperparameter {clash!r} is both a value and a group")
            node = node[group]
        if leaf in node:
            raise ValueError(f"hyperparameter {dotted!r} is both a value and a group")
        node[leaf] = value
    return nested
