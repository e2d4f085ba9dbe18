"""`Length`: an amount of training in batches, records or epochs (`{batches: 1000}` in YAML)."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_serializer,
    model_validator,
)

from trainyard.config._problems import (
    Problem,
    is_number,
    problem_details,
    show,
    unknown_field_message,
)

LengthUnit = Literal["batches", "records", "epochs"]
LENGTH_UNITS: tuple[str, ...] = get_args(LengthUnit)


class Length(BaseModel):
    """A positive amount of training. YAML and `config_to_dict` spell it `{batches: 1000}`.

    >>> Length(unit="batches", value=1000).model_dump()
    {'batches': 1000}
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    unit: LengthUnit
    value: int = Field(ge=1)

    @model_validator(mode="before")
    @classmethod
    def _from_unit_map(cls, data: Any) -> Any:
        if isinstance(data, Length) or (isinstance(data, dict) and "unit" in data):
            return data
        if data is None:
            raise _invalid((), "required", data)  # an optional Length never gets here with None
        if not isinstance(data, dict):
            raise _invalid((), f"must be a map like {{batches: 1000}}, got {show(data)}", data)
        problems = [
            Problem((key,), unknown_field_message(key, LENGTH_UNITS), value)
            for key, value in data.items()
            if key not in LENGTH_UNITS
        ]
        units = [key for key in data if key in LENGTH_UNITS]
        if len(units) != 1 and not problems:
            given = ", ".join(units) if units else "none"
            rule = "must have exactly one of batches, records, epochs"
            problems.append(Problem((), f"{rule}, got {given}", data))
        for unit in units:
            value = data[unit]
            if not (_is_whole(value) and value >= 1):
                problems.append(Problem((unit,), f"must be a positive integer, got {show(value)}"))
        if problems:
            raise ValidationError.from_exception_data("Length", problem_details(problems))
        return {"unit": units[0], "value": int(data[units[0]])}

    @model_serializer
    def _to_unit_map(self) -> dict[str, int]:
        return {self.unit: self.value}

    def __str__(self) -> str:
        return f"{self.value} {self.unit}"


def _is_whole(value: object) -> bool:
    if isinstance(value, float):
        return value.is_integer()
    return is_number(value)


def _invalid(loc: tuple[str, ...], message: str, value: object) -> ValidationError:
    return ValidationError.from_exception_data(
        "Length", problem_details([Problem(loc, message, value)])
    )
