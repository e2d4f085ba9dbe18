"""Bounded integer types for every integer the API reads (path, query, header or body).

    from trainyard.master.api._types import Id, NonNegInt

    @router.get("/experiments/{experiment_id}")
    def get_experiment(ctx: Context, experiment_id: Id) -> ExperimentOut: ...

Why: an unbounded `int` lets `GET /experiments/99999999999999999999` through to the database,
where SQLite raises `OverflowError` (a 500) and PostgreSQL a range error. With these types pydantic
refuses such a value before the route runs, and the API's handler answers `400` with one line
naming the field (`experiment_id: Input should be less than or equal to 2147483647`).

The bound is `JSON_INT_MAX` = 2^53 - 1, the largest integer every JSON reader (JavaScript's
included, so the web UI) keeps exactly; it is far above any id, step count or byte size the master
stores, and it is also exact as the float FastAPI's OpenAPI model writes `maximum` as (2^63 - 1
would be rounded up to 2^63 there, declaring a value valid that the route refuses).

A caller may rely on: every route parameter or body field typed with these is range-checked before
the route body runs, and the served OpenAPI spec states the same `minimum`/`maximum`
(`tests/integration/api/test_api_bounded_ints.py` fails on any unbounded integer in the spec).
"""

from __future__ import annotations

from typing import Annotated

import annotated_types as at
from pydantic import AllowInfNan, StringConstraints

from trainyard.errors import ConfigError

__all__ = [
    "ID_MAX",
    "JSON_INT_MAX",
    "CheckpointUuid",
    "Id",
    "NonNegInt",
    "Rank",
    "Timestamp",
    "id_list",
]

JSON_INT_MAX = 2**53 - 1
"""The largest integer the API accepts anywhere (I-JSON, RFC 7493: exact in every JSON reader)."""

ID_MAX = 2**31 - 1
"""The largest experiment or trial id: their id columns are 32-bit `INTEGER`s on PostgreSQL."""

Id = Annotated[int, at.Ge(1), at.Le(ID_MAX)]
"""An experiment or trial id: 1 to `ID_MAX`."""

NonNegInt = Annotated[int, at.Ge(0), at.Le(JSON_INT_MAX)]
"""A count, offset, length, step number or byte size: 0 to `JSON_INT_MAX`."""

Rank = Annotated[int, at.Ge(0), at.Le(2**31 - 1)]
"""A process rank (a 32-bit column in the database)."""

Timestamp = Annotated[float, AllowInfNan(False), at.Ge(0)]
"""UNIX seconds: finite and not negative (JSON's `1e400` reads as infinity and was stored)."""

CheckpointUuid = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
"""A checkpoint's name as storage accepts it (`trainyard.storage.check_uuid`: a safe directory
name), at most 64 characters; checked at registration, so no stored checkpoint has a name its
storage later refuses (which made deleting its experiment fail)."""


def id_list(text: str | None, field: str) -> list[int] | None:
    """The ids of a comma list query value (`"3,5,8"`), or None when it is absent or empty.

    Raises `ConfigError` (a 400) naming `field` for anything but integers from 1 to `ID_MAX`:
    `trial_ids: '1,x' is not a comma list of ids (integers 1 to 2147483647)`.
    """
    if not text or not text.strip():
        return None
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not all(
        p.isascii() and p.isdigit() and len(p) <= 10 and 0 < int(p) <= ID_MAX for p in parts
    ):
        raise ConfigError(
            f"{field}: {text[:100]!r} is not a comma list of ids (integers 1 to {ID_MAX})"
        )
    return [int(p) for p in parts]
