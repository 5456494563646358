"""Alembic environment: run the migrations on the connection handed by ``maillage.db``."""

from __future__ import annotations

from alembic import context

from maillage.db import application_models as _application_models  # noqa: F401 (their tables)
from maillage.db import indicator_models as _indicator_models  # noqa: F401 (their tables)
from maillage.db import selection_models as _selection_models  # noqa: F401 (their table)
from maillage.db import session_models as _session_models  # noqa: F401 (their tables)
from maillage.db import tour_models as _tour_models  # noqa: F401 (their tables)
from maillage.db.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when run from the alembic CLI
    from maillage import db

    connection = db.engine().connect()

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
