"""Identity and master routes: whoami, login/logout (cookie for the web UI), info."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel

import trainyard
from trainyard.master.api.deps import COOKIE_NAME, Context, CurrentUser, check_same_origin

__all__ = ["public_router", "router"]

router = APIRouter(tags=["users"])
public_router = APIRouter(tags=["users"])


@router.get("/me")
def whoami(user: CurrentUser) -> dict[str, Any]:
    return {"username": user.username, "admin": user.admin}


class LoginIn(BaseModel):
    token: str


@public_router.post("/auth/login")
def login(ctx: Context, body: LoginIn, request: Request, response: Response) -> dict[str, Any]:
    """Check a token and set it as the `trainyard_token` cookie (HttpOnly, SameSite=Lax).

    A browser's login must come from this master's pages (403 otherwise, `check_same_origin`),
    so another site cannot sign the user in under a token of its choosing; a caller that sends
    neither `Origin` nor `Referer` (a script) is not a browser and is not checked."""
    if request.headers.get("origin") or request.headers.get("referer"):
        check_same_origin(request, ctx.settings)
    user = ctx.user(body.token.strip())
    if user is None:
        raise HTTPException(401, "unknown token: copy it from <data_dir>/admin_token")
    response.set_cookie(COOKIE_NAME, body.token.strip(), httponly=True, samesite="lax")
    return {"username": user.username, "admin": user.admin}


@router.post("/auth/logout")
def logout(response: Response) -> dict[str, Any]:
    response.delete_cookie(COOKIE_NAME)
    return {}


@router.get("/info")
def info(ctx: Context) -> dict[str, Any]:
    return {
        "version": trainyard.__version__,
        "url": ctx.settings.url,
        "db": ctx.db.dialect,
        "resource_pools": [p.name for p in ctx.settings.resource_pools],
        "started_at": ctx.started_at,
    }
