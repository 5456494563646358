"""Map scripts and stylesheets served by the app itself, never from a CDN.

Leaflet arrives through its PyPI package (``xstatic-leaflet``); :func:`install`
copies its files under ``static/vendor/`` (ignored by git), which Streamlit
serves at ``/app/static/`` (``server.enableStaticServing``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from maillage.settings import ROOT

STATIC_DIR = ROOT / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
#: URL prefix under which Streamlit serves ``static/``.
STATIC_URL = "/app/static"
LEAFLET_JS = f"{STATIC_URL}/vendor/leaflet/leaflet.js"
LEAFLET_CSS = f"{STATIC_URL}/vendor/leaflet/leaflet.css"


def _leaflet_source() -> Path:
    from xstatic.pkg import leaflet

    return Path(leaflet.BASE_DIR)


def install(target: Path | None = None) -> Path:
    """Copy Leaflet's JS, CSS and images into ``static/vendor/leaflet`` (idempotent)."""
    target = target or VENDOR_DIR / "leaflet"
    source = _leaflet_source()
    target.mkdir(parents=True, exist_ok=True)
    for name in ("leaflet.js", "leaflet.css"):
        shutil.copy2(source / name, target / name)
    shutil.copytree(source / "images", target / "images", dirs_exist_ok=True)
    return target


def installed() -> bool:
    """True when the Leaflet files are in place."""
    return (VENDOR_DIR / "leaflet" / "leaflet.js").is_file()
