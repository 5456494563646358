"""The store: one SQLAlchemy engine per database URL, sessions, migrations.

SQLite (the default, a file under ``data/``) is opened in WAL mode with a busy
timeout and foreign keys on, so readers never block the writer and a second
writer waits instead of failing. Write sessions start with ``BEGIN IMMEDIATE``
on SQLite so two writers cannot deadlock on a lock upgrade. PostgreSQL
(``MAILLAGE_DATABASE_URL=postgresql+psycopg://…``) uses the same code.

Usage::

    from maillage import db
    with db.write_session() as s:   # commits at the end, rolls back on error
        s.add(...)
    with db.read_session() as s:
        s.scalars(select(Place)).all()
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.orm import Session

from maillage import settings as settings_mod
from maillage.settings import Settings

#: Milliseconds an SQLite writer waits for the lock before failing.
SQLITE_BUSY_TIMEOUT_MS = 15_000
#: Key of the PostgreSQL advisory lock that serialises concurrent migrations.
MIGRATE_LOCK_KEY = 0x4D41494C  # "MAIL"


def _prepare_sqlite(engine: Engine) -> None:
    """Pragmas on every new connection, and explicit BEGIN (deferred or immediate)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # let us emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


_ENGINES: dict[str, Engine] = {}
#: Stores already brought to the head in this process, and the lock around Alembic
#: (its module-level proxies are not thread-safe: Streamlit serves sessions in threads).
_MIGRATED: set[str] = set()
_MIGRATE_LOCK = threading.Lock()


def _build_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _prepare_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def engine(s: Settings | None = None) -> Engine:
    """The engine of the configured store (one per URL and process)."""
    url = (s or settings_mod.get()).db_url
    if url not in _ENGINES:
        _ENGINES[url] = _build_engine(url)
    return _ENGINES[url]


def _is_sqlite(e: Engine) -> bool:
    return e.dialect.name == "sqlite"


@contextmanager
def write_session(s: Settings | None = None) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on any error."""
    e = engine(s)
    bind = e.execution_options(sqlite_begin="IMMEDIATE") if _is_sqlite(e) else e
    with Session(bind=bind, expire_on_commit=False) as session, session.begin():
        yield session


@contextmanager
def read_session(s: Settings | None = None) -> Iterator[Session]:
    """A read-only session (a snapshot that is never committed)."""
    with Session(bind=engine(s), expire_on_commit=False) as session:
        yield session  # closing ends the transaction; loaded objects stay readable


def migrate(s: Settings | None = None) -> None:
    """Bring the schema to the latest migration (idempotent, safe at every start).

    Concurrent starts are serialised: ``BEGIN IMMEDIATE`` on SQLite, a transaction-level
    advisory lock on PostgreSQL (two processes never create the same table twice).
    """
    from alembic import command

    e = engine(s)
    key = str(e.url)
    if key in _MIGRATED:
        return
    with _MIGRATE_LOCK:
        if key in _MIGRATED:
            return
        cfg = alembic_config()
        bind = e.execution_options(sqlite_begin="IMMEDIATE") if _is_sqlite(e) else e
        with bind.connect() as conn:
            if e.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATE_LOCK_KEY})
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            conn.commit()
        _MIGRATED.add(key)


def alembic_config():
    """The Alembic configuration of Maillage's migrations (no ini file)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return cfg


def known_revisions() -> list[str]:
    """Every migration of this version of Maillage, oldest first (the last is the head)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def dump(s: Settings | None = None) -> dict[str, list[tuple]]:
    """Every row of every table, sorted (to compare a store before and after)."""
    with read_session(s) as session:
        names = inspect(session.get_bind()).get_table_names()
        return {n: sorted(map(tuple, session.execute(text(f'SELECT * FROM "{n}"')).all()),
                          key=repr) for n in sorted(names)}


def dispose_all() -> None:
    """Close every pooled connection and forget the engines (tests, forks)."""
    for e in _ENGINES.values():
        e.dispose()
    _ENGINES.clear()
    _MIGRATED.clear()
