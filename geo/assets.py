"""Map scripts and stylesheets served by the app itself, never from a CDN.

Leaflet and jQuery (which folium's popups use) arrive through their PyPI packages
(``xstatic-leaflet``, ``xstatic-jquery``); :func:`install` copies their files under
``static/vendor/`` (ignored by git), which Streamlit serves at ``/app/static/``
(``server.enableStaticServing``).
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
JQUERY_JS = f"{STATIC_URL}/vendor/jquery/jquery.min.js"


def _leaflet_source() -> Path:
    from xstatic.pkg import leaflet

    return Path(leaflet.BASE_DIR)


def _jquery_source() -> Path:
    from xstatic.pkg import jquery

    return Path(jquery.BASE_DIR)


def install(target: Path | None = None) -> Path:
    """Copy Leaflet (JS, CSS, images) and jQuery into ``static/vendor`` (idempotent)."""
    target = target or VENDOR_DIR
    leaflet = target / "leaflet"
    leaflet.mkdir(parents=True, exist_ok=True)
    source = _leaflet_source()
    for name in ("leaflet.js", "leaflet.css"):
        shutil.copy2(source / name, leaflet / name)
    shutil.copytree(source / "images", leaflet / "images", dirs_exist_ok=True)
    jquery = target / "jquery"
    jquery.mkdir(parents=True, exist_ok=True)
    shutil.copy2(_jquery_source() / "jquery.min.js", jquery / "jquery.min.js")
    return target


def installed() -> bool:
    """True when the map files are in place."""
    return (VENDOR_DIR / "leaflet" / "leaflet.js").is_file() and (
        VENDOR_DIR / "jquery" / "jquery.min.js").is_file()
