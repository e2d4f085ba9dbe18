"""Turn pydantic's validation errors into our one-line-per-problem messages.

Each line is `<dotted.path>: <rule>[, got <value>]`, for example
`searcher.divisor: must be > 1, got 1` or `environment.environment_variables[2]: must be KEY=VALUE,
got 'FOO'`. Our own rules (type `problem`) already carry their final text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from trainyard.config._problems import PROBLEM, show

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def format_path(loc: Sequence[str | int], root: str = "") -> str:
    """`("searcher", "bracket_rungs", 0)` → `searcher.bracket_rungs[0]`; `()` → `config`.

    A key that is not a plain word is quoted: `hyperparameters['a.b']`.
    """
    text = root
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not _PLAIN_KEY.match(part):
            text += f"[{part!r}]"
        else:
            text += f".{part}" if text else part
    return text or "config"


def _bound(rule: str, key: str) -> Callable[[ErrorDetails], str]:
    return lambda err: f"must be {rule} {_ctx(err, key)}"


def _ctx(err: ErrorDetails, key: str) -> Any:
    value = (err.get("ctx") or {}).get(key)
    # pydantic stores `gt=1` of a float field as 1.0; show the bound as it was written.
    return int(value) if isinstance(value, float) and value.is_integer() else value


_RULES: dict[str, Callable[[ErrorDetails], str]] = {
    "missing": lambda err: "required",
    "extra_forbidden": lambda err: "unknown field",
    "int_type": lambda err: "must be an integer",
    "int_parsing": lambda err: "must be an integer",
    "int_from_float": lambda err: "must be an integer",
    "float_type": lambda err: "must be a number",
    "float_parsing": lambda err: "must be a number",
    "finite_number": lambda err: "must be a finite number",
    "bool_type": lambda err: "must be true or false",
    "bool_parsing": lambda err: "must be true or false",
    "string_type": lambda err: "must be a string",
    "dict_type": lambda err: "must be a map",
    "model_type": lambda err: "must be a map",
    "model_attributes_type": lambda err: "must be a map",
    "list_type": lambda err: "must be a list",
    "literal_error": lambda err: f"must be one of {_choices(err)}",
    "greater_than": _bound(">", "gt"),
    "greater_than_equal": _bound(">=", "ge"),
    "less_than": _bound("<", "lt"),
    "less_than_equal": _bound("<=", "le"),
    "too_short": lambda err: "must not be empty",
    "string_too_short": lambda err: "must not be empty",
}
_NO_VALUE = frozenset({PROBLEM, "missing", "extra_forbidden"})


def _choices(err: ErrorDetails) -> str:
    expected = str(_ctx(err, "expected") or "")
    return expected.replace(" or ", ", ").replace("'", "")


def describe_error(err: ErrorDetails) -> str:
    """One line for one pydantic error."""
    loc, kind = tuple(err["loc"]), err["type"]
    if loc and loc[-1] == "[key]":  # pydantic's marker for a bad map key: name the key instead
        return f"{format_path(loc[:-1])}: a key must be a string, got {show(err['input'])}"
    if kind == "invalid_key":  # a model's field name that is no string: the key is the last loc
        return f"{format_path(loc[:-1])}: a key must be a string, got {show(err['input'])}"
    path = format_path(loc)
    if kind == PROBLEM:
        return f"{path}: {err['msg']}"
    rule = _RULES.get(kind)
    if rule is None:
        text = err["msg"]
        return f"{path}: {text[:1].lower()}{text[1:]}, got {show(err['input'])}"
    if kind in _NO_VALUE:
        return f"{path}: {rule(err)}"
    return f"{path}: {rule(err)}, got {show(err['input'])}"


def describe_validation_error(exc: ValidationError) -> list[str]:
    """Every problem in `exc`, one line each, in order, without repeats."""
    lines: list[str] = []
    for err in exc.errors():
        line = describe_error(err)
        if line not in lines:
            lines.append(line)
    return lines
