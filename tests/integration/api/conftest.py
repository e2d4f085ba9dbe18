"""Fixtures of the API tests; the helpers live in `api_support.py`."""

from api_support import api, api_any_db, migrated_db

__all__ = ["api", "api_any_db", "migrated_db"]
