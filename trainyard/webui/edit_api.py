"""Write routes only the web UI needs, under `/api/v1/webui` (user identity required).

- `PUT /webui/experiments/{id}/description` with `{"description": "..."}` (at most 10,000
  characters; blank clears it) → `{"id", "description"}`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from trainyard.master.api._types import Id
from trainyard.master.api.deps import Context, current_user
from trainyard.master.db import experiments as experiments_repo

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/webui", tags=["webui"], dependencies=[Depends(current_user)])


class DescriptionIn(BaseModel):
    description: str = Field(max_length=10_000)


@router.put("/experiments/{experiment_id}/description")
def set_description(ctx: Context, experiment_id: Id, body: DescriptionIn) -> dict[str, Any]:
    """Replace the experiment's description (`NotFoundError` → 404 for a missing one)."""
    text = body.description.strip()
    with ctx.db.session() as session:
        row = experiments_repo.update_experiment(session, experiment_id, description=text)
        return {"id": row.id, "description": row.description or None}
