"""Fixtures of the API tests; the helpers live in `api_support.py`."""

from api_support import api, migrated_db

__all__ = ["api", "migrated_db"]
