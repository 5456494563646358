"""Shared fixtures: settings pointing at a temporary data folder, the real mirror when present."""

from __future__ import annotations

import fcntl
import http.server
import json
import os
import shutil
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


def _run_root(factory: pytest.TempPathFactory) -> Path:
    """The temporary folder of the whole test run: under pytest-xdist, the parent of the
    workers' own folders, so that what is prepared once is shared by every worker."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _prepared_once(root: Path) -> Path:
    """Run the real data step once per test run (workers wait on a file lock)."""
    master = root / "prepared-master"
    with open(root / "prepared-master.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (master / ".prepared").exists():
            shutil.rmtree(master, ignore_errors=True)
            master.mkdir()
            env = {**os.environ, "MAILLAGE_DATA_DIR": str(master)}
            subprocess.run([sys.executable, "-m", "maillage.cli", "data"], cwd=ROOT, env=env,
                           check=True, capture_output=True, timeout=900)
            (master / ".prepared").touch()
    return master


def copy_data_dir(src: Path, dst: Path) -> Path:
    """A private copy of a prepared data folder: the database is copied, the caches under
    ``build/`` are hard links (they are only ever replaced whole, by ``os.replace`` in
    :func:`geo.cache.write`, so a test that rebuilds one never changes the original)."""
    def link_or_copy(a: str, b: str) -> str:
        if Path(a).resolve().is_relative_to((src / "build").resolve()):
            os.link(a, b)
            return b
        return shutil.copy2(a, b)

    shutil.copytree(src, dst, copy_function=link_or_copy, dirs_exist_ok=True)
    (dst / ".prepared").unlink(missing_ok=True)
    return dst


@pytest.fixture(scope="session")
def prepared_data_dir(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> Path:
    """A data folder prepared by the real data step (layers, graphs, registry): the step
    runs once per test run, and each test process works on its own copy of it."""
    master = _prepared_once(_run_root(tmp_path_factory))
    return copy_data_dir(master, tmp_path_factory.mktemp("prepared-data"))


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


def _fuzz_counts() -> dict[str, dict[str, int]]:
    """The fuzzed imports' counts of this process."""
    fuzz = sys.modules.get("tests.fuzz_files")
    if fuzz is None:
        return {}
    return {name: dict(c) for name, c in sorted(fuzz.COUNTS.items())}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under pytest-xdist, each worker leaves its fuzz counts for the controller's summary."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    factory = getattr(session.config, "_tmp_path_factory", None)
    counts = _fuzz_counts()
    if worker and factory is not None and counts:
        path = factory.getbasetemp().parent / f"fuzz-counts-{worker}.json"
        path.write_text(json.dumps(counts, ensure_ascii=False), encoding="utf-8")


def _all_fuzz_counts(config: pytest.Config) -> dict[str, dict[str, int]]:
    """This process's counts plus those the xdist workers left (see above)."""
    from collections import Counter

    total: dict[str, Counter] = {k: Counter(v) for k, v in _fuzz_counts().items()}
    factory = getattr(config, "_tmp_path_factory", None)
    if factory is not None and not os.environ.get("PYTEST_XDIST_WORKER"):
        for path in sorted(factory.getbasetemp().glob("fuzz-counts-*.json")):
            for name, c in json.loads(path.read_text(encoding="utf-8")).items():
                total.setdefault(name, Counter()).update(c)
    return {name: dict(c) for name, c in sorted(total.items())}


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """Print (and save as JSON under the pytest temp folder) the fuzzed imports' counts."""
    counts = _all_fuzz_counts(config)
    if not counts:
        return
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
