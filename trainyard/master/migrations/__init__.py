"""Alembic migrations of the master's schema; run through `Database.migrate()`."""
