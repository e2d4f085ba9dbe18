"""Helpers shared by the repository modules."""

from __future__ import annotations

import time
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from trainyard.errors import NotFoundError

RowT = TypeVar("RowT")


def now() -> float:
    """Current UTC time in epoch seconds, the unit of every time column."""
    return time.time()


def get_or_raise(
    session: Session, model: type[RowT], key: Any, what: str, *, for_update: bool = False
) -> RowT:
    """The row of `model` with primary key `key`, or `NotFoundError("<what> <key> does not exist")`.

    `for_update` locks the row until the transaction ends (PostgreSQL; SQLite write units of work
    already hold the database write lock).
    """
    row = session.get(model, key, with_for_update=for_update or None)
    if row is None:
        raise NotFoundError(f"{what} {key} does not exist")
    return row
