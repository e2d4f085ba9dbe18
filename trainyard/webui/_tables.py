"""The trials table and HPO data of one experiment, read straight from the store.

Every hyperparameter (flattened, `optimizer.lr`) and every validation metric of each trial's
latest validation become columns. `trial_rows` reads one experiment in two queries (trials, then
each trial's last validation row through one index seek per trial), so 10,000 trials cost a few
hundred milliseconds; `select_rows` filters, sorts and pages the result in memory.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trainyard.config import flatten_hparams
from trainyard.errors import ConfigError
from trainyard.master.db import Trial
from trainyard.master.db import metrics as metrics_repo

__all__ = [
    "TrialRow",
    "TrialTable",
    "parse_filter",
    "parse_filters",
    "select_rows",
    "trial_rows",
]

_BASE_COLUMNS = (
    "id",
    "request_id",
    "state",
    "trained_length",
    "restarts",
    "searcher_metric",
    "best_metric",
)
_BEST_FIRST = ("searcher_metric", "best_metric")
"""Columns that sort best first in the searcher's direction."""
_AND = re.compile(r"\s+and\s+|\s*&&\s*", re.IGNORECASE)
_OPS = ("<=", ">=", "!=", "=", "<", ">", "~")


@dataclass
class TrialRow:
    """One trial as the table shows it; `hp` and `m` hold the flattened hparams and metrics."""

    id: int
    request_id: int
    state: str
    trained_length: int
    target_length: int | None
    restarts: int
    searcher_metric: float | None
    """The searcher metric at the trial's latest validation (its final value once ended)."""
    best_metric: float | None
    exit_reason: str | None
    hp: dict[str, Any] = field(default_factory=dict)
    m: dict[str, float | None] = field(default_factory=dict)

    def value(self, column: str) -> Any:
        """The cell of `column`: a base column name, `hp.<name>` or `m.<name>`."""
        if column.startswith("hp."):
            return self.hp.get(column[3:])
        if column.startswith("m."):
            return self.m.get(column[2:])
        return getattr(self, column)


@dataclass
class TrialTable:
    """All trials of an experiment with the union of their hparam and metric names."""

    hparams: list[str]
    metrics: list[str]
    rows: list[TrialRow]

    def columns(self) -> list[str]:
        return [
            *_BASE_COLUMNS,
            *(f"hp.{h}" for h in self.hparams),
            *(f"m.{m}" for m in self.metrics),
        ]


TRIAL_COLUMNS = (
    Trial.id,
    Trial.request_id,
    Trial.state,
    Trial.completed_length,
    Trial.target_length,
    Trial.restarts,
    Trial.latest_validation,
    Trial.best_validation,
    Trial.exited_reason,
    Trial.hparams,
)
"""The trial columns a table row is made of, in the order `trial_row` takes them."""


def trial_row(t: Any, latest: dict[str, Any]) -> TrialRow:
    """A table row from a `TRIAL_COLUMNS` result row and its latest validation metrics."""
    tid, rid, state, length, target, restarts, last, best, reason, hparams = t
    return TrialRow(
        tid,
        rid,
        state,
        max(length, 0),
        target,
        restarts,
        _finite(last),
        _finite(best),
        reason,
        flatten_hparams(hparams or {}),
        {k: _number(v) for k, v in latest.items()},
    )


def trial_rows(session: Session, experiment_id: int) -> TrialTable:
    """Every trial of the experiment, oldest first, with its latest validation metrics."""
    trials = session.execute(
        select(*TRIAL_COLUMNS).where(Trial.experiment_id == experiment_id).order_by(Trial.id)
    ).all()
    latest = metrics_repo.last_validations(session, experiment_id=experiment_id)
    hp_names: set[str] = set()
    metric_names: set[str] = set()
    rows: list[TrialRow] = []
    for t in trials:
        row = trial_row(t, latest.get(t[0]) or {})
        hp_names.update(row.hp)
        metric_names.update(row.m)
        rows.append(row)
    return TrialTable(sorted(hp_names), sorted(metric_names), rows)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return _finite(float(value))
    except ValueError:
        return None


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


@dataclass(frozen=True)
class RowFilter:
    column: str
    op: str
    value: str

    def keeps(self, row: TrialRow) -> bool:
        cell = row.value(self.column)
        if self.op == "~":
            return self.value.lower() in str(cell).lower()
        if cell is None:
            return self.op == "!="
        left, right = _comparable(cell, self.value)
        if self.op == "=":
            return bool(left == right)
        if self.op == "!=":
            return bool(left != right)
        try:
            return bool(
                {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[
                    self.op
                ]
            )
        except TypeError:
            return False


def _comparable(cell: Any, raw: str) -> tuple[Any, Any]:
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        try:
            return float(cell), float(raw)
        except ValueError:
            return str(cell), raw
    return str(cell).lower(), raw.lower()


def _column(name: str, columns: Sequence[str]) -> str:
    """`name` as a column: itself, or the one `hp.<name>`/`m.<name>` column it abbreviates."""
    if name in columns:
        return name
    matches = [c for c in columns if c in (f"hp.{name}", f"m.{name}")]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ConfigError(f"filter: unknown column {name!r}; use one of {', '.join(columns)}")
    raise ConfigError(f"filter: {name!r} is ambiguous; write {' or '.join(matches)}")


def parse_filter(text: str, columns: Sequence[str]) -> RowFilter:
    """One condition: `hp.lr<0.01`, `state=COMPLETED`, `hp.optimizer~ada` (~ is "contains");
    a hyperparameter or metric may be named without its `hp.`/`m.` prefix when unambiguous.

    Raises `ConfigError` naming the column or operator when the text is not understood, and
    when `<`, `>`, `<=`, `>=` compare with something that is not a number.
    """
    for op in _OPS:
        column, found, value = text.partition(op)
        if found:
            name, value = column.strip(), value.strip()
            if not name or not value:
                raise ConfigError(f"filter {text.strip()!r}: write <column>{op}<value>")
            if op in ("<", ">", "<=", ">="):
                try:
                    float(value)
                except ValueError:
                    raise ConfigError(
                        f"filter {text.strip()!r}: {op} needs a number, not {value!r}"
                    ) from None
            return RowFilter(_column(name, columns), op, value)
    raise ConfigError(
        f"filter {text.strip()!r}: write <column><op><value> with op one of {' '.join(_OPS)}"
    )


def parse_filters(text: str, columns: Sequence[str]) -> list[RowFilter]:
    """Conditions joined by `and` (or `&&`), all of which a row must meet."""
    parts = [p for p in _AND.split(text.strip()) if p.strip()]
    return [parse_filter(p, columns) for p in parts]


def select_rows(
    table: TrialTable,
    *,
    state: str | None,
    where: str | None,
    sort: str,
    smaller_is_better: bool,
) -> list[TrialRow]:
    """Rows filtered by state (comma list) and `where`, sorted by `sort` (a column, `-` to
    reverse; metric columns sort best first in the searcher's direction). Empty cells sort last."""
    columns = table.columns()
    rows = table.rows
    if state:
        wanted = {s.strip().upper() for s in state.split(",") if s.strip()}
        rows = [r for r in rows if r.state in wanted]
    if where and where.strip():
        filters = parse_filters(where, columns)
        rows = [r for r in rows if all(f.keeps(r) for f in filters)]
    key = sort.lstrip("-")
    if key not in columns:
        raise ConfigError(f"sort: unknown column {key!r}; use one of {', '.join(columns)}")
    reverse = sort.startswith("-")
    if key in _BEST_FIRST and not smaller_is_better:
        reverse = not reverse
    present = [r for r in rows if r.value(key) is not None]
    missing = [r for r in rows if r.value(key) is None]
    present.sort(key=lambda r: _sort_key(r.value(key)), reverse=reverse)
    return present + missing


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, float(value))
    return (1, str(value))
