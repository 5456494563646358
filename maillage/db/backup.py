"""Backups of the store while the app runs, and restoring one.

SQLite: :func:`backup` uses SQLite's online backup API (one step, so the copy is a
consistent snapshot even while editors write; WAL readers never block writers) and
writes a single self-contained file (journal mode DELETE), renamed into place only
once complete. :func:`restore` checks the file (SQLite, integrity, a Maillage
migration this version knows, not newer than the code), keeps a safety copy of the
current store, then copies the backup into the live store with the same API: one
write transaction, so other connections see either the old store or the restored one,
never a mix, and a kill midway leaves the old store.

PostgreSQL: ``pg_dump --format=custom`` (a consistent snapshot by design) and
``pg_restore --clean --single-transaction`` (all or nothing); when the client tools
are missing the user gets a French message saying what to install.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from datetime import datetime
from glob import glob
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

from geo.errors import MaillageError
from maillage import db
from maillage.settings import Settings

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
#: Folder (next to the SQLite store) of the copies taken before a restore.
SAFETY_DIR = "sauvegardes"


class BackupError(MaillageError):
    """A backup or a restore was refused or failed; the store is unchanged."""


def _url(s: Settings | None):
    return db.engine(s).url


def _sqlite_path(s: Settings | None) -> Path:
    return Path(_url(s).database or "")


def backup(dest: str | Path, s: Settings | None = None) -> dict[str, Any]:
    """Write a consistent copy of the store to ``dest``; return what was saved."""
    dest = Path(dest)
    if not dest.parent.is_dir():
        raise BackupError(f"Dossier introuvable pour la sauvegarde : {dest.parent}")
    db.migrate(s)
    if db.engine(s).dialect.name == "sqlite":
        db.check_store(db.engine(s), "backup")  # never copy a file that replaced the store
        return _sqlite_backup(_sqlite_path(s), dest)
    if db.engine(s).dialect.name == "postgresql":
        return _pg_backup(s, dest)
    raise BackupError(f"Sauvegarde non prévue pour la base « {db.engine(s).dialect.name} ».")


def _sqlite_backup(src_path: Path, dest: Path) -> dict[str, Any]:
    partial = dest.with_name(dest.name + ".partiel")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(src_path, timeout=db.SQLITE_BUSY_TIMEOUT_MS / 1000)
    out = sqlite3.connect(partial)
    try:
        src.backup(out)  # one step: a single read snapshot of the whole store
        out.execute("PRAGMA journal_mode = DELETE")
        out.commit()
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"Sauvegarde impossible : {exc}. Rien n'a été écrit.") from exc
    finally:
        out.close()
        src.close()
    info = inspect_sqlite(partial)
    with open(partial, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(partial, dest)
    return {"file": str(dest), "backend": "sqlite", **info}


def inspect_sqlite(path: Path) -> dict[str, Any]:
    """Revision and row counts of a Maillage SQLite file (French refusal if it is not one)."""
    with open(path, "rb") as fh:
        if fh.read(16) != SQLITE_MAGIC:
            raise BackupError(f"« {path.name} » n'est pas une sauvegarde SQLite de Maillage.")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if ok != "ok":
            raise BackupError(f"« {path.name} » est endommagé (contrôle d'intégrité : {ok}).")
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        if "alembic_version" not in tables or "places" not in tables:
            raise BackupError(f"« {path.name} » n'est pas une base Maillage (tables absentes).")
        rev = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                  for t in sorted(tables)}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"« {path.name} » est illisible : {exc}.") from exc
    finally:
        conn.close()
    return {"revision": _check_revision(rev[0] if rev else None, path.name), "rows": counts}


def _check_revision(rev: str | None, name: str) -> str:
    known = db.known_revisions()
    if rev not in known:
        raise BackupError(f"« {name} » est à la migration « {rev} », inconnue de cette version "
                          f"de Maillage (migrations connues : {', '.join(known)}) : "
                          "restauration refusée.")
    return rev


def restore(src: str | Path, s: Settings | None = None) -> dict[str, Any]:
    """Put a backup back in place of the store (checked first; all or nothing)."""
    src = Path(src)
    if not src.is_file():
        raise BackupError(f"Fichier introuvable : {src}")
    with open(src, "rb") as fh:
        head = fh.read(16)
    dialect = db.engine(s).dialect.name
    if head == SQLITE_MAGIC and dialect != "sqlite":
        raise BackupError("C'est une sauvegarde SQLite, mais la base configurée est "
                          f"{dialect} : restauration refusée.")
    if head.startswith(PGDUMP_MAGIC) and dialect != "postgresql":
        raise BackupError("C'est une sauvegarde PostgreSQL (pg_dump), mais la base configurée "
                          f"est {dialect} : restauration refusée.")
    if dialect == "sqlite":
        result = _sqlite_restore(src, s)
    elif dialect == "postgresql":
        result = _pg_restore(src, s)
    else:
        raise BackupError(f"Restauration non prévue pour la base « {dialect} ».")
    db.dispose_all()
    db.migrate(s)  # an older (known) backup is brought to the current schema
    return result


def _sqlite_restore(src: Path, s: Settings | None) -> dict[str, Any]:
    info = inspect_sqlite(src)
    store_path = _sqlite_path(s)
    safety = None
    if store_path.is_file():
        folder = store_path.parent / SAFETY_DIR
        folder.mkdir(exist_ok=True)
        safety = folder / f"avant-restauration-{datetime.now():%Y%m%d-%H%M%S-%f}.db"
        _sqlite_backup(store_path, safety)
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    target = sqlite3.connect(store_path, timeout=db.SQLITE_BUSY_TIMEOUT_MS / 1000)
    try:
        target.execute(f"PRAGMA busy_timeout = {db.SQLITE_BUSY_TIMEOUT_MS}")
        source.backup(target)  # one write transaction on the live store
    except sqlite3.Error as exc:
        raise BackupError(f"Restauration impossible ({exc}) : la base est restée telle "
                          "qu'elle était. Réessayez quand personne n'enregistre.") from exc
    finally:
        target.close()
        source.close()
    return {"file": str(src), "backend": "sqlite", "safety_copy": str(safety or ""), **info}


# --------------------------------------------------------------------------- PostgreSQL


def pg_tool(name: str) -> str:
    """Path of a PostgreSQL client tool (PATH, then Debian's versioned folders)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(re.search(r"/(\d+)/bin", p)[1]))
    if candidates:
        return candidates[-1]
    raise BackupError(f"{name} est introuvable : installez les outils clients de PostgreSQL "
                      "(apt-get install postgresql-client) pour sauvegarder ou restaurer une "
                      "base PostgreSQL.")


def _libpq_url(s: Settings | None) -> str:
    return make_url(str(_url(s).render_as_string(hide_password=False))).set(
        drivername="postgresql").render_as_string(hide_password=False)


def _run(args: list[str], what: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BackupError(f"{what} a échoué : {proc.stderr.strip()[-500:]}")
    return proc


def _pg_backup(s: Settings | None, dest: Path) -> dict[str, Any]:
    partial = dest.with_name(dest.name + ".partiel")
    _run([pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={partial}",
          f"--dbname={_libpq_url(s)}"], "pg_dump")
    rev = _pg_revision(partial)
    os.replace(partial, dest)
    return {"file": str(dest), "backend": "postgresql", "revision": rev}


def _pg_revision(path: Path) -> str:
    proc = _run([pg_tool("pg_restore"), "--data-only", "--table=alembic_version", "--file=-",
                 str(path)], f"La lecture de « {path.name} »")
    lines = proc.stdout.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("COPY ")
                     and "alembic_version" in line)
        rev = lines[start + 1].strip()
    except (StopIteration, IndexError):
        rev = None
    return _check_revision(rev, path.name)


def _pg_restore(src: Path, s: Settings | None) -> dict[str, Any]:
    with open(src, "rb") as fh:
        if not fh.read(5).startswith(PGDUMP_MAGIC):
            raise BackupError(f"« {src.name} » n'est pas une sauvegarde pg_dump de Maillage.")
    rev = _pg_revision(src)
    db.dispose_all()
    _run([pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
          "--exit-on-error", f"--dbname={_libpq_url(s)}", str(src)], "pg_restore")
    return {"file": str(src), "backend": "postgresql", "revision": rev}
