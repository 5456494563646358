"""Cold start of the dashboard: server launch → home map drawn with its communes.

Run: ``.venv/bin/python -m benchmarks.cold_start`` (needs Debian's chromium and a prepared
data folder, i.e. `maillage data` done). Prints JSON: server ready, first page interactive.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    from playwright.sync_api import sync_playwright

    port = _port()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "server.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                urllib.request.urlopen(f"{base}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        ready = time.perf_counter() - start
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=shutil.which("chromium"), headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.set_default_timeout(120_000)
            t0 = time.perf_counter()
            page.goto(base)
            page.wait_for_selector("iframe[title*='streamlit_folium']", state="attached")
            frame = page.query_selector("iframe[title*='streamlit_folium']").content_frame()
            frame.wait_for_function(
                "document.querySelectorAll('path.leaflet-interactive').length >= 34")
            first_page = time.perf_counter() - t0
            t1 = time.perf_counter()
            page.reload()
            page.wait_for_selector("iframe[title*='streamlit_folium']", state="attached")
            frame = page.query_selector("iframe[title*='streamlit_folium']").content_frame()
            frame.wait_for_function(
                "document.querySelectorAll('path.leaflet-interactive').length >= 34")
            warm_page = time.perf_counter() - t1
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(json.dumps({"benchmark": "cold_start", "server_ready_s": round(ready, 2),
                      "home_interactive_first_s": round(first_page, 2),
                      "server_launch_to_home_s": round(ready + first_page, 2),
                      "home_interactive_warm_s": round(warm_page, 2)}))


if __name__ == "__main__":
    main()
