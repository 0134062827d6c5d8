"""Alembic environment: migrations run on the connection :func:`tools.store.migrate` hands over.

``support-agent db upgrade`` and every start call :func:`tools.store.migrate`, which holds a
lock (SQLite: a file lock; PostgreSQL: an advisory lock) so that workers starting together
migrate once. Run by hand: ``alembic -c tools/migrations/alembic.ini upgrade head`` with
``SUPPORT_DATABASE_URL`` or ``-x url=…``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from tools.schema import metadata

config = context.config


def run() -> None:
    """Migrate the connection given by the caller, or a URL (``-x url=…`` / ``sqlalchemy.url``)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    engine = create_engine(str(url))
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()


run()
