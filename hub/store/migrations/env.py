"""Alembic environment for the hub's tables. Used by ``hub.store.db.migrate`` and by
``alembic -c alembic.ini ...`` for developers writing a new migration."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from hub.store.tables import metadata

config = context.config


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = engine_from_config(
        config.get_section(config.config_ini_section) or {},
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as conn:
        _run(conn)
