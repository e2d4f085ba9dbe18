"""Write routes only the web UI needs, under `/api/v1/webui` (user identity required).

- `PUT /webui/experiments/{id}/description` with `{"description": "..."}` (at most 10,000
  characters; blank clears it) → `{"id", "description"}`.
- `POST /webui/experiments/{id}/subspace` with `{"ranges": {"lr": [1e-4, 1e-3], "optimizer":
  ["adam"]}}` → `{"config": YAML}`: the config with those hyperparameters narrowed, for a fork
  (nothing is created; the fork editor previews and creates it).
"""

from __future__ import annotations

import math
from typing import Any

import yaml
from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from trainyard.errors import ConfigError
from trainyard.master.api import _reads
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


class SubspaceIn(BaseModel):
    ranges: dict[str, list[float | str]] = Field(
        description="hparam (dotted) → [low, high] for numbers, the kept values for categories"
    )


@router.post("/experiments/{experiment_id}/subspace")
def subspace(ctx: Context, experiment_id: Id, body: SubspaceIn) -> dict[str, Any]:
    """The experiment's config with the named hyperparameters narrowed to the given ranges
    (what the HPO page's brushes selected), as YAML for the fork editor: `{"config"}`.
    A name that is not a searchable hyperparameter, or a range that leaves nothing, is a
    `ConfigError` naming it."""
    with ctx.db.session(read_only=True) as session:
        row = _reads.get_experiment(session, experiment_id)
        source = row.config_yaml.strip() or yaml.safe_dump(row.config or {}, sort_keys=False)
    config = yaml.safe_load(source) or {}
    for name, wanted in body.ranges.items():
        spec = _spec(config, name)
        _narrow(spec, name, wanted)
    return {"config": yaml.safe_dump(config, sort_keys=False)}


def _spec(config: dict[str, Any], name: str) -> dict[str, Any]:
    node: Any = config.get("hyperparameters") or {}
    for part in name.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    if not isinstance(node, dict) or node.get("type") not in (
        "int",
        "double",
        "log",
        "categorical",
    ):
        raise ConfigError(f"ranges: {name!r} is not a searched hyperparameter of this experiment")
    return node


def _narrow(spec: dict[str, Any], name: str, wanted: list[float | str]) -> None:
    kind = spec["type"]
    if kind == "categorical":
        keep = [v for v in spec.get("vals", []) if str(v) in {str(w) for w in wanted}]
        if not keep:
            raise ConfigError(f"ranges: {name} keeps none of its values {spec.get('vals')}")
        spec["vals"] = keep
        return
    try:
        low, high = sorted(float(v) for v in wanted)
    except (TypeError, ValueError):
        raise ConfigError(f"ranges: {name} needs [low, high] numbers, not {wanted!r}") from None
    if kind == "log":
        if low <= 0:
            raise ConfigError(f"ranges: {name} is log-scaled; its low end must be > 0")
        base = float(spec.get("base", 10))
        low, high = math.log(low, base), math.log(high, base)
    lo = max(float(spec["minval"]), low)
    hi = min(float(spec["maxval"]), high)
    if kind == "int":
        lo, hi = math.ceil(lo), math.floor(hi)
    if lo > hi:
        raise ConfigError(f"ranges: {name} [{low:g}, {high:g}] is outside its search range")
    spec["minval"], spec["maxval"] = (lo, hi) if kind == "int" else (round(lo, 6), round(hi, 6))
