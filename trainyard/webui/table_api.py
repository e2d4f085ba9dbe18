"""Downloads of the web UI under `/api/v1/webui` (user identity required):

- `GET /webui/experiments/{id}/trial_table.csv`: the trials table as CSV, with the same
  `state`, `where` and `sort` as the page's table (every row, every column: id, request id,
  state, trained length, restarts, the searcher metric's latest and best, each hyperparameter
  as `hp.<name>`, each metric's latest value as `m.<name>`).
- `GET /webui/trials/{id}/logs.txt?rank=&stream=&search=`: the trial's whole log (filtered like
  the log viewer), one line each as `[rank N] <line>`, streamed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from fastapi import APIRouter, Depends
from fastapi.responses import PlainTextResponse, Response, StreamingResponse

from trainyard.master.api import _reads
from trainyard.master.api._openapi import CsvResponse
from trainyard.master.api._types import Id, Rank
from trainyard.master.api.deps import ApiContext, Context, current_user
from trainyard.webui import data_api
from trainyard.webui._tables import select_rows

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/webui", tags=["webui"], dependencies=[Depends(current_user)])


@router.get("/experiments/{experiment_id}/trial_table.csv", response_class=CsvResponse)
def trial_table_csv(
    ctx: Context,
    experiment_id: Id,
    state: str | None = None,
    where: str | None = None,
    sort: str = "id",
) -> Response:
    """The filtered, sorted trials table as a CSV download (empty cells for missing values)."""
    table, smaller = data_api._table(ctx, experiment_id)
    rows = select_rows(table, state=state, where=where, sort=sort, smaller_is_better=smaller)
    columns = table.columns()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if (v := row.value(c)) is None else v for c in columns])
    name = f"experiment-{experiment_id}-trials.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _log_text(
    ctx: ApiContext, trial_id: int, rank: int | None, stream: str | None, search: str | None
) -> Iterator[str]:
    after = 0
    while True:
        with ctx.db.session(read_only=True) as session:
            rows = _reads.read_logs(
                session,
                trial_ids=[trial_id],
                experiment_id=None,
                after_id=after,
                limit=10_000,
                rank=rank,
                stream=stream,
                search=search,
            )
            text = "".join(
                f"{'' if r.rank is None else f'[rank {r.rank}] '}{r.line}\n" for r in rows
            )
            after = rows[-1].id if rows else after
        if not rows:
            return
        yield text


@router.get("/trials/{trial_id}/logs.txt", response_class=PlainTextResponse)
def trial_logs_text(
    ctx: Context,
    trial_id: Id,
    rank: Rank | None = None,
    stream: str | None = None,
    search: str | None = None,
) -> StreamingResponse:
    """The trial's whole log as text (ANSI codes kept, as the trial wrote them)."""
    with ctx.db.session(read_only=True) as session:
        _reads.get_trial(session, trial_id)
    return StreamingResponse(
        _log_text(ctx, trial_id, rank, stream, search),
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="trial-{trial_id}.log"'},
    )
