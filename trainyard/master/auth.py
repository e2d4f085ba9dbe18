"""The admin bootstrap and token lookups the API's identity dependencies use.

Tokens (user API tokens and per-allocation tokens alike) are stored only as
`trainyard.master.db.users.hash_token(token)`. On first start `ensure_admin_token` creates the
user `admin` with a token and writes it to `<data_dir>/admin_token` (mode 0600), so `trainyard` on
the same machine signs in without being told the token.
"""

from __future__ import annotations

import os
from pathlib import Path

from trainyard.master.db import Database
from trainyard.master.db import allocations as allocations_repo
from trainyard.master.db import users as users_repo

__all__ = ["allocation_for_token", "ensure_admin_token", "user_for_token"]

user_for_token = users_repo.user_for_token
allocation_for_token = allocations_repo.allocation_for_token


def ensure_admin_token(db: Database, token_path: Path) -> str | None:
    """Make sure the admin user exists and `token_path` holds a valid admin token.

    Returns the token when one was created now (the caller prints it once), else None. A token
    file that is missing or no longer valid (another data dir, a reset DB) gets a new token.
    """
    existing = _read(token_path)
    with db.session() as session:
        admin, token = users_repo.ensure_admin(session)
        if token is None:
            owner = None if existing is None else users_repo.user_for_token(session, existing)
            if owner is not None and owner.id == admin.id:
                return None
            token = users_repo.create_token(session, admin.id, description="admin token file")
    _write_private(token_path, token)
    return token


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text + "\n")
    os.chmod(path, 0o600)
