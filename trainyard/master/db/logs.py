"""Trial logs: bulk append, paged/follow reads by increasing id.

add_logs(session, trial_id, [{"rank": 0, "stream": "stdout", "timestamp": t, "line": "..."}])
page = trial_logs(session, trial_id, after_id=last_seen_id, limit=1000)  # follow: repeat

A line with a `seq` (the launcher's number within its allocation) is stored at most once per
`(allocation_id, seq)`: resent batches and a replayed on-disk spool add only what is missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
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
    """Append lines ({"rank", "stream", "timestamp", "line", optional "seq"}) in one statement;
    returns how many were new (a numbered line already stored for the allocation is skipped)."""
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
                "seq": _seq(item.get("seq"), allocation_id),
            }
        )
    if not rows:
        return 0
    table = cast(Table, LogLine.__table__)
    if all(row["seq"] is None for row in rows):
        session.connection().execute(insert(table), rows)
        return len(rows)
    dialect = session.get_bind().dialect.name
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    # rowcount of a many-row statement is not reliable across drivers; RETURNING is.
    query = ins.on_conflict_do_nothing().returning(table.c.id)
    return len(session.connection().execute(query, rows).all())


def _seq(value: Any, allocation_id: str | None) -> int | None:
    if value is None:
        return None
    if allocation_id is None:
        raise TrainyardError("a numbered log line (seq) needs its allocation id")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TrainyardError(f"log line seq is {value!r}; it must be an integer >= 0")
    return value


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
