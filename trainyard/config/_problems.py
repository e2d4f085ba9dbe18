"""Problems found while validating, carried through pydantic as line errors with clean paths.

Our validators never let pydantic put union tags into an error's location: unions are dispatched by
hand (see `_hyperparameters.py`, `_searcher.py`), so every location is a plain path of field names,
map keys and list indexes. Our own rules travel as errors of type `problem` whose message is final.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Self, get_args

from pydantic import BaseModel, ConfigDict, ModelWrapValidatorHandler, ValidationError
from pydantic import model_validator as _model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_core.core_schema import ErrorType

_BUILT_IN_TYPES = frozenset(get_args(ErrorType))

Loc = tuple[str | int, ...]

PROBLEM = "problem"
"""Error type of our own rules; its message is already the text the user sees."""


@dataclass(frozen=True)
class Problem:
    """One broken rule: where (a path relative to the model being validated) and what."""

    loc: Loc
    message: str
    value: Any = None


def problem_details(problems: Iterable[Problem], prefix: Loc = ()) -> list[InitErrorDetails]:
    """Turn problems into pydantic line errors, their paths put under `prefix`."""
    return [
        InitErrorDetails(
            type=PydanticCustomError(PROBLEM, p.message), loc=prefix + p.loc, input=p.value
        )
        for p in problems
    ]


def error_details(exc: ValidationError, prefix: Loc = ()) -> list[InitErrorDetails]:
    """The line errors of `exc`, their paths put under `prefix`, ready to be raised again."""
    details: list[InitErrorDetails] = []
    for err in exc.errors():
        loc = prefix + tuple(err["loc"])
        if err["type"] in _BUILT_IN_TYPES:
            ctx = err.get("ctx") or {}
            details.append(InitErrorDetails(type=err["type"], loc=loc, input=err["input"], ctx=ctx))
        else:
            # Ours (or another custom type): its message is final, keep it as it is.
            custom = PydanticCustomError(err["type"], err["msg"])
            details.append(InitErrorDetails(type=custom, loc=loc, input=err["input"]))
    return details


def raise_details(title: str, details: Sequence[InitErrorDetails]) -> None:
    """Raise one `ValidationError` holding every line error in `details`; do nothing if empty."""
    if details:
        raise ValidationError.from_exception_data(title, list(details))


def is_number(value: object) -> bool:
    """True for ints and floats, not for bools (YAML `true` is not a number to us)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def show(value: object) -> str:
    """A value the way the user wrote it in YAML, short enough for one line."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    if isinstance(value, str) and len(text) <= 80:
        return text
    if isinstance(value, str):
        return f"{text[:60]}... ({len(value):,} characters)"
    return text if len(text) <= 60 else text[:57] + "..."


def unknown_field_message(name: object, known: Iterable[str]) -> str:
    """`unknown field`, with the closest known name as a suggestion when one is close."""
    if isinstance(name, str):
        close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.7)
        if close:
            return f"unknown field (did you mean '{close[0]}'?)"
    return "unknown field"


class Section(BaseModel):
    """Base of every config model: strict types, unknown fields refused, all problems at once.

    Subclasses override `_prepare` to normalise raw input (Determined's alternative spellings) and
    to report rules that relate several fields. Those problems are reported together with pydantic's
    own field errors, so one pass lists everything. An explicit `null` for an optional field
    with a non-null default means "the default", as in Determined.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    @classmethod
    def _prepare(cls, data: Any) -> tuple[Any, list[Problem]]:
        return data, []

    @_model_validator(mode="wrap")
    @classmethod
    def _validate_section(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        if isinstance(data, cls):
            return handler(data)
        if isinstance(data, dict):
            data = cls._drop_null_defaults(data)
        data, problems = cls._prepare(data)
        try:
            model = handler(data)
        except ValidationError as exc:
            details = cls._explain_unknown_fields(exc) + problem_details(problems)
            raise ValidationError.from_exception_data(cls.__name__, details) from None
        raise_details(cls.__name__, problem_details(problems))
        return model

    @classmethod
    def _drop_null_defaults(cls, data: dict[Any, Any]) -> dict[Any, Any]:
        fields = cls.model_fields
        return {
            key: value
            for key, value in data.items()
            if not (
                value is None
                and key in fields
                and not fields[key].is_required()
                and fields[key].get_default(call_default_factory=True) is not None
            )
        }

    @classmethod
    def _unknown_field_message(cls, name: str | int) -> str:
        return unknown_field_message(name, cls.model_fields)

    @classmethod
    def _explain_unknown_fields(cls, exc: ValidationError) -> list[InitErrorDetails]:
        details = error_details(exc)
        for i, err in enumerate(exc.errors()):
            if err["type"] == "extra_forbidden" and len(err["loc"]) == 1:
                name = err["loc"][0]
                message = cls._unknown_field_message(name)
                details[i] = problem_details([Problem((name,), message, err["input"])])[0]
        return details
