"""Users and API tokens. Tokens are random strings shown once; only their sha256 is stored.

user, token = ensure_admin(session)      # first start: ("admin", token); later: (admin, None)
user_for_token(session, token)           # -> User, or None for unknown/revoked/inactive
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from trainyard.errors import NotFoundError, TrainyardError
from trainyard.master.db._common import get_or_raise, now
from trainyard.master.db.models import ApiToken, User

__all__ = [
    "create_token",
    "create_user",
    "ensure_admin",
    "get_user",
    "get_user_by_name",
    "hash_token",
    "list_tokens",
    "list_users",
    "new_token",
    "revoke_token",
    "set_user_active",
    "user_for_token",
]


def new_token() -> str:
    """A fresh random token (URL-safe, 256 bits)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The sha256 hex digest under which a token is stored and looked up."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(session: Session, username: str, *, admin: bool = False) -> User:
    """Add a user; `TrainyardError` if the name is taken or empty."""
    if not username or len(username) > 128:
        raise TrainyardError(f"username {username!r} must be 1 to 128 characters")
    if get_user_by_name(session, username) is not None:
        raise TrainyardError(f"user {username!r} already exists; pick another name")
    user = User(username=username, admin=admin, active=True, created_at=now())
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, user_id: int) -> User:
    return get_or_raise(session, User, user_id, "user")


def get_user_by_name(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def set_user_active(session: Session, user_id: int, active: bool) -> User:
    user = get_user(session, user_id)
    user.active = active
    return user


def create_token(session: Session, user_id: int, *, description: str = "") -> str:
    """Create an API token for `user_id` and return it in clear (the only time it is known)."""
    get_user(session, user_id)
    token = new_token()
    session.add(
        ApiToken(
            user_id=user_id,
            token_hash=hash_token(token),
            description=description,
            created_at=now(),
        )
    )
    session.flush()
    return token


def list_tokens(session: Session, user_id: int) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user_id)))


def revoke_token(session: Session, token_id: int) -> None:
    """Delete a token by id; `NotFoundError` if there is none."""
    result = session.execute(delete(ApiToken).where(ApiToken.id == token_id))
    if not result.rowcount:  # type: ignore[attr-defined]  # CursorResult of a DELETE
        raise NotFoundError(f"token {token_id} does not exist")


def user_for_token(session: Session, token: str) -> User | None:
    """The active user owning `token`, or None."""
    query = (
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == hash_token(token), User.active.is_(True))
    )
    return session.scalar(query)


def ensure_admin(session: Session, username: str = "admin") -> tuple[User, str | None]:
    """The admin user, created with a token on first call: (user, token) then; later (user, None).

    Idempotent: the token is only ever returned by the call that created the user.
    """
    existing = session.scalar(select(User).where(User.admin.is_(True)).order_by(User.id))
    if existing is not None:
        return existing, None
    user = create_user(session, username, admin=True)
    return user, create_token(session, user.id, description="created on first start")
