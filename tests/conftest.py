"""Shared fixtures: settings pointing at a temporary data folder, the real mirror when present."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from maillage import settings as settings_mod
from maillage.settings import Settings


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
