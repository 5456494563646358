"""The store: one SQLAlchemy engine per database URL, sessions, migrations.

SQLite (the default, a file under ``data/``) is opened in WAL mode with a busy
timeout and foreign keys on, so readers never block the writer and a second
writer waits instead of failing. Write sessions start with ``BEGIN IMMEDIATE``
on SQLite so two writers cannot deadlock on a lock upgrade. PostgreSQL
(``MAILLAGE_DATABASE_URL=postgresql+psycopg://…``) uses the same code.

The SQLite file's identity (device, inode) is recorded when it is first seen; every
session checks the file is still that one (a cheap ``os.stat``), write sessions again
once the write lock is held and just before committing. A store deleted or replaced
while the server runs is refused in French (:class:`StoreGone`) instead of reading a
deleted file or writing into one (those writes would be lost). ``maillage restore``
copies into the live file (same identity) and then disposes the engines, so a new
identity is recorded whenever the file had to be created again. A lost PostgreSQL
connection becomes :class:`StoreUnavailable`.

Usage::

    from maillage import db
    with db.write_session() as s:   # commits at the end, rolls back on error
        s.add(...)
    with db.read_session() as s:
        s.scalars(select(Place)).all()
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, exc, inspect, text
from sqlalchemy.orm import Session

from maillage import settings as settings_mod
from maillage.errors import MaillageError
from maillage.settings import Settings

#: Milliseconds an SQLite writer waits for the lock before failing.
SQLITE_BUSY_TIMEOUT_MS = 15_000
#: Key of the PostgreSQL advisory lock that serialises concurrent migrations.
MIGRATE_LOCK_KEY = 0x4D41494C  # "MAIL"


class StoreGone(MaillageError):
    """The SQLite file of the store vanished or was replaced since this process opened it."""


class StoreUnavailable(MaillageError):
    """The database server cannot be reached (PostgreSQL)."""


#: (st_dev, st_ino) of each SQLite store file, by URL, as first seen by this process.
_IDENTITY: dict[str, tuple[int, int]] = {}


def _sqlite_file(url) -> Path | None:
    """The file of an SQLite URL (None for an in-memory database)."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


def _remember(url: str, path: Path) -> None:
    """Record the file's identity the first time it exists."""
    if url not in _IDENTITY:
        ident = _identity(path)
        if ident is not None:
            _IDENTITY[url] = ident


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def check_store(e: Engine, action: str = "write") -> None:
    """Refuse in French when the SQLite file is not the one this process opened.

    ``action`` is ``"write"`` (nothing was written), ``"read"`` (nothing is shown from
    a file that is gone) or ``"backup"``. No-op for other databases and before the file
    exists.
    """
    if not _is_sqlite(e):
        return
    path = _sqlite_file(e.url)
    key = str(e.url)
    if path is None or key not in _IDENTITY:
        return
    if _identity(path) == _IDENTITY[key]:
        return
    what = {"write": "enregistrement refusé, rien n'a été écrit",
            "read": "lecture refusée (les données affichées seraient périmées)",
            "backup": "sauvegarde refusée (elle copierait une autre base)"}[action]
    raise StoreGone(
        f"La base de données {_shown(path)} a disparu ou a été remplacée pendant que le "
        f"serveur tournait : {what}. Redémarrez le serveur (ou restaurez une sauvegarde "
        "avec `maillage restore`)."
    )


def _lost(e: Engine, error: exc.DBAPIError, connected: bool) -> bool:
    """A PostgreSQL error that means the server is gone (not a problem with the query)."""
    if e.dialect.name != "postgresql":
        return False
    return (error.connection_invalidated or isinstance(error, exc.InterfaceError)
            or (not connected and isinstance(error, exc.OperationalError)))


def _unavailable(e: Engine, error: exc.DBAPIError, action: str) -> StoreUnavailable:
    done = "rien n'a été écrit" if action == "write" else "lecture impossible"
    return StoreUnavailable(
        f"La base de données ({e.dialect.name}) est injoignable ou la connexion a été perdue "
        f"({type(error.orig).__name__}) : {done}. Vérifiez que le serveur de base de données "
        "tourne, puis réessayez."
    )


def _prepare_sqlite(engine: Engine) -> None:
    """Pragmas on every new connection, and explicit BEGIN (deferred or immediate)."""
    path = _sqlite_file(engine.url)
    key = str(engine.url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # let us emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()
        if path is not None:  # a new store file exists from here on
            _remember(key, path)

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
        file = _sqlite_file(engine.url)
        if file is not None:
            _remember(str(engine.url), file)
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
    """A session in one transaction: committed on success, rolled back on any error.

    Refused (:class:`StoreGone`) when the SQLite file vanished or was replaced: checked
    before, once the write lock is held, and again just before the commit.
    """
    e = engine(s)
    check_store(e, "write")
    bind = e.execution_options(sqlite_begin="IMMEDIATE") if _is_sqlite(e) else e
    connected = False
    try:
        with Session(bind=bind, expire_on_commit=False) as session, session.begin():
            session.connection()  # BEGIN (IMMEDIATE on SQLite): the write lock is ours
            connected = True
            check_store(e, "write")
            yield session
            session.flush()
            check_store(e, "write")  # still the same file: commit
    except exc.DBAPIError as error:
        if _lost(e, error, connected):
            raise _unavailable(e, error, "write") from error
        raise


@contextmanager
def read_session(s: Settings | None = None) -> Iterator[Session]:
    """A read-only session (a snapshot that is never committed); refused on a vanished file."""
    e = engine(s)
    check_store(e, "read")
    connected = False
    try:
        with Session(bind=e, expire_on_commit=False) as session:
            session.connection()
            connected = True
            yield session  # closing ends the transaction; loaded objects stay readable
    except exc.DBAPIError as error:
        if _lost(e, error, connected):
            raise _unavailable(e, error, "read") from error
        raise


def migrate(s: Settings | None = None) -> None:
    """Bring the schema to the latest migration (idempotent, safe at every start).

    Concurrent starts are serialised: ``BEGIN IMMEDIATE`` on SQLite, a transaction-level
    advisory lock on PostgreSQL (two processes never create the same table twice).
    """
    from alembic import command

    e = engine(s)
    key = str(e.url)
    if key in _MIGRATED:
        return  # the sessions that follow check the store file themselves
    check_store(e, "write")
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
    _IDENTITY.clear()
