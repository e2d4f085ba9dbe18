"""Cluster view (pools, slots, running allocations, queue) and the search preview."""

from __future__ import annotations

import dataclasses
import enum
import importlib
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from trainyard.config import load_config_text
from trainyard.master.api.deps import Context

__all__ = ["jsonable", "router", "run_preview"]

router = APIRouter(tags=["cluster"])


@router.get("/cluster")
def cluster(ctx: Context) -> dict[str, Any]:
    """Pools with their slots, what runs where, and the queue in start order (position 1 next)."""
    return jsonable(ctx.service.cluster_state())  # type: ignore[no-any-return]


class PreviewIn(BaseModel):
    config: str


@router.post("/preview")
def preview(body: PreviewIn) -> Any:
    """What the searcher of this config will do: trials and lengths per rung/bracket."""
    return jsonable(run_preview(body.config))


def run_preview(config_yaml: str) -> Any:
    """`trainyard.searcher.preview_search` of YAML config text (never a path; bounded YAML);
    `ConfigError` for a bad config."""
    loaded = load_config_text(config_yaml)
    preview_search = importlib.import_module("trainyard.searcher").preview_search
    return preview_search(loaded)


def jsonable(value: Any) -> Any:
    """Dataclasses, pydantic models, enums, tuples and mappings as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and value != value:
        return "NaN"
    return value
