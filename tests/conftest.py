"""Shared fixtures: settings pointing at a temporary data folder, the real mirror when present."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from maillage import settings as settings_mod
from maillage.settings import Settings

ROOT = Path(__file__).resolve().parents[1]

#: Server URL of the PostgreSQL the store tests also run on (``.ci/run`` starts one).
POSTGRES_ENV = "MAILLAGE_TEST_POSTGRES_URL"


@pytest.fixture()
def tmp_settings(tmp_path: Path) -> Settings:
    """Settings with a private data folder and the default mirror."""
    return replace(settings_mod.from_env(), data_dir=tmp_path / "data")


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The local open-data mirror; tests on the real island need it."""
    path = settings_mod.from_env().data_mirror
    if path is None or not path.is_dir():
        pytest.fail("Miroir des données introuvable (réglez MAILLAGE_DATA_MIRROR).")
    return path


@pytest.fixture(scope="session")
def prepared_data_dir(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> Path:
    """A data folder prepared once by the real data step (layers, graphs, registry)."""
    data_dir = tmp_path_factory.mktemp("prepared-data")
    env = {**os.environ, "MAILLAGE_DATA_DIR": str(data_dir)}
    subprocess.run([sys.executable, "-m", "maillage.cli", "data"], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=900)
    return data_dir


@pytest.fixture(scope="session")
def real_settings(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> Settings:
    """Settings on the real mirror with a session-wide private data folder."""
    data_dir = tmp_path_factory.mktemp("real-data")
    return replace(settings_mod.from_env(), data_mirror=mirror, data_dir=data_dir)


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep the test output clean
        pass


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A static HTTP server on 127.0.0.1 serving ``tmp_path/www``."""
    root = tmp_path / "www"
    root.mkdir()

    def handler(*args, **kwargs):
        return _Handler(*args, directory=str(root), **kwargs)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    finally:
        httpd.shutdown()


def postgres_base_url() -> str:
    """The test server's URL; skip (locally) or fail (``CI=true``) when there is none."""
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if not url:
        msg = (f"PostgreSQL NON TESTÉ : {POSTGRES_ENV} n'est pas réglée "
               "(.ci/run démarre un serveur et la règle).")
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(msg)
        pytest.skip(msg)
    return url


@pytest.fixture()
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the test server (dropped afterwards)."""
    from sqlalchemy import create_engine, make_url, text

    from maillage import db

    base = make_url(postgres_base_url())
    name = f"maillage_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        db.dispose_all()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The store tests run on both back-ends: a private SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        from maillage import db

        db.dispose_all()
        return
    yield request.getfixturevalue("postgres_url")


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """Print (and save as JSON under the pytest temp folder) the fuzzed imports' counts."""
    import json
    import sys

    fuzz = sys.modules.get("tests.fuzz_files")
    if fuzz is None or not fuzz.COUNTS:
        return
    counts = {name: dict(c) for name, c in sorted(fuzz.COUNTS.items())}
    terminalreporter.section("imports fuzzés (hypothesis)")
    for name, c in counts.items():
        terminalreporter.write_line(f"{name}: {c.get('générés', 0)} fichiers générés, "
                                    f"{c.get('refusés', 0)} refusés avec un message, "
                                    f"{c.get('plantages', 0)} plantages, "
                                    f"{c.get('écritures partielles', 0)} écritures partielles")
    factory = getattr(config, "_tmp_path_factory", None)
    if factory is not None:
        path = factory.getbasetemp() / "fuzz-counts.json"
        path.write_text(json.dumps(counts, ensure_ascii=False, indent=1), encoding="utf-8")
        terminalreporter.write_line(f"(compteurs écrits dans {path})")
