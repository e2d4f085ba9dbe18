"""Trial logs: bulk append, paged/follow reads by increasing id.

add_logs(session, trial_id, [{"rank": 0, "stream": "stdout", "timestamp": t, "line": "..."}])
page = trial_logs(session, trial_id, after_id=last_seen_id, limit=1000)  # follow: repeat
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from trainyard.errors import TrainyardError
from trainyard.master.db._common import now
from trainyard.master.db.models import LogLine

__all__ = ["add_logs", "count_logs", "trial_logs"]

_STREAMS = ("stdout", "stderr")


def add_logs(
    session: Session,
    trial_id: int,
    lines: Iterable[Mapping[str, Any]],
    *,
    allocation_id: str | None = None,
) -> int:
    """Append lines ({"rank", "stream", "timestamp", "line"}) in one statement; returns count."""
    rows: list[dict[str, Any]] = []
    for item in lines:
        stream = item.get("stream", "stdout")
        if stream not in _STREAMS:
            raise TrainyardError(f"log stream {stream!r} must be 'stdout' or 'stderr'")
        rank = item.get("rank")
        rows.append(
            {
                "trial_id": trial_id,
                "allocation_id": allocation_id,
                "rank": None if rank is None else int(rank),
                "stream": stream,
                "timestamp": float(item.get("timestamp") or now()),
                "line": str(item.get("line", "")),
            }
        )
    if rows:
        session.connection().execute(insert(cast(Table, LogLine.__table__)), rows)
    return len(rows)


def trial_logs(
    session: Session,
    trial_id: int,
    *,
    after_id: int = 0,
    limit: int = 1000,
    search: str | None = None,
    rank: int | None = None,
    stream: str | None = None,
    tail: bool = False,
) -> list[LogLine]:
    """Lines of the trial with id > `after_id`, in id order, at most `limit`.

    `search` keeps lines containing it (case-insensitive); `tail=True` returns the *last*
    `limit` lines instead of the first (still in id order). Follow by passing the last id seen.
    """
    if limit < 1:
        raise TrainyardError(f"limit is {limit}; it must be >= 1")
    query = select(LogLine).where(LogLine.trial_id == trial_id, LogLine.id > after_id)
    if search:
        query = query.where(LogLine.line.icontains(search, autoescape=True))
    if rank is not None:
        query = query.where(LogLine.rank == rank)
    if stream is not None:
        query = query.where(LogLine.stream == stream)
    if tail:
        rows = list(session.scalars(query.order_by(LogLine.id.desc()).limit(limit)))
        return rows[::-1]
    return list(session.scalars(query.order_by(LogLine.id).limit(limit)))


def count_logs(session: Session, trial_id: int) -> int:
    query = select(func.count()).select_from(LogLine).where(LogLine.trial_id == trial_id)
    return session.scalar(query) or 0
