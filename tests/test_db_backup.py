"""Crash safety of the store (SIGKILL mid-import), and `maillage backup` / `maillage restore`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text

from maillage import auth, db
from maillage.db import backup
from maillage.registry import csvio, store
from maillage.settings import Settings
from tests.registry_fixtures import row, settings_with_db

FED = auth.Actor("fede", "federation")
#: Rows of the large import killed midway.
LARGE = 20_000


def _big_csv(n: int) -> bytes:
    rows = [row(id=f"gros-{i}", nom=f"Lieu n° {i}", latitude=f"{14.60 + (i % 100) * 1e-4:.4f}",
                longitude=f"{-61.07 + (i // 100 % 100) * 1e-4:.4f}") for i in range(n)]
    return csvio.write_csv(rows, include_local=True, private=True)


def _env(s: Settings) -> dict[str, str]:
    return {**os.environ, "MAILLAGE_DATA_DIR": str(s.data_dir), "MAILLAGE_DATABASE_URL": s.db_url,
            "MAILLAGE_DATA_MIRROR": str(s.data_mirror or "")}


@pytest.fixture()
def s(real_settings: Settings, tmp_path: Path) -> Settings:
    settings = settings_with_db(real_settings, tmp_path)
    db.migrate(settings)
    store.import_csv(FED, csvio.write_csv([row(), row(id="test-2", nom="Deuxième")], True, True),
                     "base.csv", settings)
    yield settings
    db.dispose_all()


def test_sigkill_in_the_middle_of_a_large_import_leaves_the_store_unchanged_and_usable(
        s: Settings, tmp_path: Path) -> None:
    before = db.dump(s)
    big = tmp_path / "gros.csv"
    big.write_bytes(_big_csv(LARGE))
    wal = Path(str(s.db_url.split("///", 1)[1]) + "-wal")
    wal_start = wal.stat().st_size if wal.exists() else 0
    proc = subprocess.Popen([sys.executable, "-m", "maillage.cli", "places", "import", str(big)],
                            env=_env(s), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # The write transaction has begun once the import's pages spill into the WAL.
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if wal.exists() and wal.stat().st_size > wal_start + 2_000_000:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "l'import a fini avant d'être tué : fichier trop petit"
    grown = wal.stat().st_size - wal_start
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    print(f"\nSIGKILL : import de {LARGE} lieux tué après {grown / 1e6:.1f} Mo écrits dans le WAL")
    db.dispose_all()
    assert db.dump(s) == before  # nothing of the killed transaction is visible
    with db.read_session(s) as session:
        assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    assert store.save_place(FED, row(id="apres-1", nom="Après la panne"), None, s) == 1
    assert {r["id"] for r in store.rows(s)} == {"test-1", "test-2", "apres-1"}


def test_backup_while_editors_write_is_a_consistent_snapshot(s: Settings, tmp_path: Path) -> None:
    """Each write adds a place AND a label event: a torn copy would break the pairing."""
    stop = threading.Event()
    written = {"n": 0}

    def writer() -> None:
        k = 0
        while not stop.is_set():
            store.save_place(FED, row(id=f"conc-{k}", label_status="candidat"), None, s)
            written["n"] += 1
            k += 1

    t = threading.Thread(target=writer)
    t.start()
    copies = []
    try:
        while written["n"] < 3:
            time.sleep(0.01)
        for i in range(5):
            out = tmp_path / f"copie-{i}.db"
            copies.append(backup.backup(out, s))
    finally:
        stop.set()
        t.join()
    for info in copies:
        copy = replace(s, database_url=f"sqlite:///{info['file']}")
        with db.read_session(copy) as session:
            places = session.execute(text("SELECT count(*) FROM places WHERE id LIKE 'conc-%'"))
            n_places = places.scalar()
            events = session.execute(text(
                "SELECT count(*) FROM label_events e JOIN places p ON p.pk = e.place_pk "
                "WHERE p.id LIKE 'conc-%'")).scalar()
            assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        assert n_places == events  # never a place without its event (or the reverse)
        assert info["revision"] == db.known_revisions()[-1]
    counts = [c["rows"]["places"] for c in copies]
    assert counts == sorted(counts) and written["n"] >= 3


def test_restore_round_trip_and_refusals(s: Settings, tmp_path: Path) -> None:
    saved = db.dump(s)
    out = tmp_path / "sauvegarde.db"
    backup.backup(out, s)
    store.save_place(FED, row(id="apres-1", nom="Ajouté après la sauvegarde"), None, s)
    store.change_label(FED, "test-1", "candidat", 1, s=s)
    assert db.dump(s) != saved
    result = backup.restore(out, s)
    assert db.dump(s) == saved
    assert Path(result["safety_copy"]).is_file()  # the replaced store is kept
    # refused files leave the store as it is
    junk = tmp_path / "pas-une-base.db"
    junk.write_bytes(b"bonjour")
    other = tmp_path / "autre.db"
    import sqlite3

    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    future = tmp_path / "future.db"
    future.write_bytes(out.read_bytes())
    with sqlite3.connect(future) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_futur'")
    for bad, needle in ((junk, "n'est pas une sauvegarde"), (other, "pas une base Maillage"),
                        (future, "inconnue"), (tmp_path / "absent.db", "introuvable")):
        with pytest.raises(backup.BackupError, match=needle):
            backup.restore(bad, s)
        assert db.dump(s) == saved


def test_backup_and_restore_commands(s: Settings, tmp_path: Path) -> None:
    out = tmp_path / "cli.db"
    env = _env(s)
    cmd = [sys.executable, "-m", "maillage.cli"]
    done = subprocess.run([*cmd, "backup", str(out)], env=env, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0 and "Sauvegarde écrite" in done.stdout, done.stderr
    saved = db.dump(s)
    store.save_place(FED, row(id="apres-1"), None, s)
    done = subprocess.run([*cmd, "restore", str(out)], env=env, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0 and "Base restaurée" in done.stdout, done.stderr
    db.dispose_all()
    assert db.dump(s) == saved
    done = subprocess.run([*cmd, "restore", str(tmp_path / "absent.db")], env=env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "introuvable" in done.stderr


def test_postgresql_backup_and_restore_round_trip(real_settings: Settings, postgres_url: str,
                                                  tmp_path: Path) -> None:
    s = replace(real_settings, database_url=postgres_url)
    db.migrate(s)
    store.import_csv(FED, csvio.write_csv([row()], True, True), "base.csv", s)
    saved = db.dump(s)
    out = tmp_path / "pg.dump"
    assert backup.backup(out, s)["revision"] == db.known_revisions()[-1]
    store.save_place(FED, row(id="apres-1"), None, s)
    backup.restore(out, s)
    assert db.dump(s) == saved
    sqlite_copy = tmp_path / "copie.db"
    sqlite_copy.write_bytes(backup.SQLITE_MAGIC + b"\0" * 100)
    with pytest.raises(backup.BackupError, match="SQLite"):
        backup.restore(sqlite_copy, s)
