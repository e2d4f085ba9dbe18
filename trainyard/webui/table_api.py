"""`GET /api/v1/webui/experiments/{id}/trial_table.csv`: the trials table as CSV, with the same
`state`, `where` and `sort` as the page's table (every row, every column: id, request id,
state, trained length, restarts, the searcher metric's latest and best, each hyperparameter as
`hp.<name>`, each metric's latest value as `m.<name>`). User identity required.
"""

from __future__ import annotations

import csv
import io

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from trainyard.master.api.deps import Context, current_user
from trainyard.webui import data_api
from trainyard.webui._tables import select_rows

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/webui", tags=["webui"], dependencies=[Depends(current_user)])


@router.get("/experiments/{experiment_id}/trial_table.csv")
def trial_table_csv(
    ctx: Context,
    experiment_id: int,
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
