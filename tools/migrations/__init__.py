"""Alembic migrations of the store (see ``tools/migrations/env.py``)."""
