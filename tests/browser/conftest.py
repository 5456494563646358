"""Real-browser fixtures: a Streamlit server on 127.0.0.1 and Playwright driving Debian chromium.

Without Chromium the browser tests are skipped with a clear reason in the summary;
with ``MAILLAGE_REQUIRE_BROWSER=1`` (set by CI) a missing browser fails them instead.
The server runs on a temporary data folder prepared once per session by the data
step, so tests never touch the developer's database.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import copy_data_dir

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run",
               "--disable-quic"]


def _require_browser() -> None:
    if CHROMIUM:
        return
    message = ("Chromium introuvable : installez le paquet Debian « chromium » "
               "pour exécuter les tests dans un vrai navigateur.")
    if os.environ.get("MAILLAGE_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def browser_data_dir(prepared_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data folder the server runs on: a private copy of the prepared one.

    Browser journeys write (places, tours, selections); on a copy, the tests that read
    the prepared folder afterwards still see it as the data step left it.
    """
    _require_browser()
    return copy_data_dir(prepared_data_dir, tmp_path_factory.mktemp("browser-data") / "data")


def _wait_http(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Streamlit s'est arrêté (code {proc.returncode}).")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"Streamlit ne répond pas sur {url}")


@pytest.fixture(scope="session")
def app_server(browser_data_dir: Path) -> Iterator[str]:
    """Base URL of a Streamlit server running ``server.py`` on the prepared data: ``app.py``
    and the routes of the session cookie, as ``make run`` and ``deploy/up.sh`` serve it."""
    port = _free_port()
    env = {**os.environ, "MAILLAGE_DATA_DIR": str(browser_data_dir)}
    log = open(browser_data_dir / "streamlit.log", "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "server.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_http(f"{base}/_stcore/health", proc)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="package")
def browser() -> Iterator:
    """Headless Debian chromium driven by Playwright (never a downloaded browser).

    Package scope: Playwright's sync API runs an event loop in the main thread while it
    is open, so it must close when the browser tests end, before tests that use asyncio.
    """
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser, app_server: str) -> Iterator:
    """A fresh desktop-size page; requests to other hosts are blocked (no internet)."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="fr-FR")
    context.route("**/*", _local_only)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    context.close()


@pytest.fixture()
def phone_page(browser, app_server: str) -> Iterator:
    """A fresh phone-size page (375 × 812, touch)."""
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="fr-FR",
                                  is_mobile=True, has_touch=True, device_scale_factor=2)
    context.route("**/*", _local_only)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    context.close()


def _local_only(route) -> None:
    url = route.request.url
    if url.startswith(("http://127.0.0.1", "http://localhost", "data:", "blob:")):
        route.continue_()
    else:
        route.abort()


def map_frame(pg, index: int = 0):
    """The Playwright frame of the ``index``-th streamlit-folium map on the page."""
    pg.wait_for_selector("iframe[title*='streamlit_folium']", state="attached")
    handle = pg.query_selector_all("iframe[title*='streamlit_folium']")[index]
    frame = handle.content_frame()
    frame.wait_for_selector(".leaflet-container")
    return frame
