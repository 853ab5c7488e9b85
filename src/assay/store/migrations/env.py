"""Alembic's entry point: migrations run on the engine Assay hands over."""

from alembic import context

from assay.store.tables import metadata

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite alters tables by copying them; batch mode does that
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
