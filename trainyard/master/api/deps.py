"""Request dependencies: the app's shared objects and the caller's identity.

Every user route depends on `current_user` (router-level, see `app.py`); every trial route on
`current_allocation`. Both read the token from `Authorization: Bearer <token>`; `current_user` also
accepts the cookie `trainyard_token` (set by `POST /api/v1/auth/login`, used by the web UI).

Revocation is immediate: a user token is looked up on every request, and every trial route checks
that the token's allocation is still live (the allocation cache only maps token -> ids).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from trainyard.master.api._service import MasterService
from trainyard.master.auth import allocation_for_token, user_for_token
from trainyard.master.db import Database
from trainyard.master.settings import MasterSettings

__all__ = [
    "COOKIE_NAME",
    "AllocationIdentity",
    "ApiContext",
    "CurrentAllocation",
    "CurrentUser",
    "Identity",
    "UserOrTrial",
    "check_same_origin",
    "current_allocation",
    "current_user",
    "current_user_or_trial",
    "get_context",
]

COOKIE_NAME = "trainyard_token"
_CACHE_SECONDS = 5.0
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_CACHE_MAX = 10_000  # entries; unknown tokens are cached too, so a flood of them cannot grow it


@dataclass(frozen=True)
class Identity:
    """A signed-in user."""

    user_id: int
    username: str
    admin: bool


@dataclass(frozen=True)
class AllocationIdentity:
    """A trial process, known by its allocation's token."""

    allocation_id: str
    trial_id: int


@dataclass
class ApiContext:
    """What routes share: settings, the database and the runtime service."""

    settings: MasterSettings
    db: Database
    service: MasterService
    started_at: float = field(default_factory=time.time)
    _alloc_cache: dict[str, tuple[float, AllocationIdentity | None]] = field(default_factory=dict)

    def peek_allocation(self, token: str) -> tuple[bool, AllocationIdentity | None]:
        """(True, the allocation owning `token` or None) if the cache knows; (False, None) if
        not."""
        hit = self._alloc_cache.get(token)
        if hit is not None and hit[0] > time.monotonic():
            return True, hit[1]
        return False, None

    def user(self, token: str) -> Identity | None:
        """The active user owning `token`, read from the database on every call: a revoked
        token or a deactivated user is refused from the next request on."""
        with self.db.session(read_only=True) as session:
            row = user_for_token(session, token)
            return None if row is None else Identity(row.id, row.username, row.admin)

    def allocation(self, token: str) -> AllocationIdentity | None:
        """The allocation owning `token`, cached a few seconds (the metrics ingest is hot).

        Only the token -> (allocation, trial) mapping is cached, which never changes; whether
        the allocation is still live is checked by every trial route on each request
        (`trial_api.require_live`), so an ended allocation's token is refused at once.
        """
        hit = self._alloc_cache.get(token)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        with self.db.session(read_only=True) as session:
            row = allocation_for_token(session, token)
            ident = None if row is None else AllocationIdentity(row.id, row.trial_id)
        if len(self._alloc_cache) > _CACHE_MAX:
            self._alloc_cache.clear()
        self._alloc_cache[token] = (time.monotonic() + _CACHE_SECONDS, ident)
        return ident


# The dependencies below are coroutines: FastAPI runs a plain-def dependency in its thread pool,
# a thread hop per dependency per request that cost the metrics ingest more than its checks.
# Only an allocation token the cache does not know goes to the thread pool for its lookup; user
# tokens are looked up on every request (user routes are not hot), so revoking one is immediate.


async def get_context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.ctx
    return ctx


Context = Annotated[ApiContext, Depends(get_context)]


async def _user(ctx: ApiContext, token: str) -> Identity | None:
    return await run_in_threadpool(ctx.user, token)


async def _allocation(ctx: ApiContext, token: str) -> AllocationIdentity | None:
    known, ident = ctx.peek_allocation(token)
    return ident if known else await run_in_threadpool(ctx.allocation, token)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def check_same_origin(request: Request, settings: MasterSettings) -> None:
    """403 unless a cookie-signed-in request that changes something comes from the master's own
    pages: its `Origin` (or, without one, its `Referer`) must be this server (the `Host` the
    browser used, or `settings.url`). Browsers send `Origin` on every POST/PUT/PATCH/DELETE and a
    page on another site cannot forge it, so a cross-site form or script cannot act with the
    user's cookie. Bearer-token requests never reach this check."""
    if request.method in _SAFE_METHODS:
        return
    claimed = request.headers.get("origin") or request.headers.get("referer") or ""
    origin = _origin_of(claimed)
    host = request.headers.get("host", "").lower()
    allowed = {f"{request.url.scheme}://{host}", _origin_of(settings.url)}
    if origin is None or origin not in allowed:
        shown = claimed[:100] or "none"
        raise HTTPException(
            403,
            f"cross-origin request refused: a {request.method} signed in by cookie must come "
            f"from this master's pages (Origin {shown!r}); scripts send Authorization: Bearer",
        )


async def current_user(request: Request, ctx: Context) -> Identity:
    """The signed-in user; 401 without a valid user token, 403 for an allocation token or a
    cookie-signed-in change from another origin (`check_same_origin`)."""
    bearer = _bearer(request)
    token = bearer or request.cookies.get(COOKIE_NAME)
    if not token:
        raise HTTPException(
            401, "not signed in: pass Authorization: Bearer <token> (see <data_dir>/admin_token)"
        )
    if bearer is None:
        check_same_origin(request, ctx.settings)
    ident = await _user(ctx, token)
    if ident is not None:
        return ident
    if await _allocation(ctx, token) is not None:
        raise HTTPException(403, "an allocation token cannot call user routes")
    raise HTTPException(401, "unknown token: sign in again with a valid token")


async def current_allocation(request: Request, ctx: Context) -> AllocationIdentity:
    """The calling trial's allocation; 401 without a valid allocation token, 403 for a user
    token. Routes then check the allocation or trial in the path against it."""
    token = _bearer(request)
    if not token:
        raise HTTPException(401, "missing Authorization: Bearer <allocation token>")
    ident = await _allocation(ctx, token)
    if ident is not None:
        return ident
    if await _user(ctx, token) is not None:
        raise HTTPException(403, "trial routes take an allocation token, not a user token")
    raise HTTPException(401, "unknown allocation token")


async def current_user_or_trial(request: Request, ctx: Context) -> Identity | AllocationIdentity:
    """A user, or a trial process (for the few reads a trial needs, e.g. its checkpoints);
    the route checks that an allocation only reads its own trial."""
    token = _bearer(request) or request.cookies.get(COOKIE_NAME)
    if token:
        alloc = await _allocation(ctx, token)
        if alloc is not None:
            return alloc
    return await current_user(request, ctx)


CurrentUser = Annotated[Identity, Depends(current_user)]
UserOrTrial = Annotated[Identity | AllocationIdentity, Depends(current_user_or_trial)]
CurrentAllocation = Annotated[AllocationIdentity, Depends(current_allocation)]
