"""Every knob of Maillage in one place, each overridable by an environment variable.

Read once per process with :func:`get`; tests build their own :class:`Settings`
with :func:`dataclasses.replace` or by setting ``MAILLAGE_*`` variables.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path

#: Root of the repository (the folder holding ``app.py``).
ROOT = Path(__file__).resolve().parent.parent

#: CRS in which geometries are stored and shown.
CRS_STORE = "EPSG:4326"
#: CRS in which distances and areas are measured (RGAF09 / UTM zone 20N).
CRS_MEASURE = "EPSG:5490"

#: Bounding box of Martinique with a small margin (lon_min, lat_min, lon_max, lat_max).
MARTINIQUE_BBOX = (-61.26, 14.36, -60.78, 14.90)

#: Drive speeds in km/h by road class, used when a way carries no ``maxspeed``.
#: Keys are OSM ``highway`` values and the three classes of the offline mirror
#: (``highway``/``major``/``minor``). Calibrated on town-hall to town-hall trips,
#: see docs/calibration.md.
DRIVE_SPEEDS_KMH: dict[str, float] = {
    "motorway": 90.0,
    "motorway_link": 50.0,
    "trunk": 70.0,
    "trunk_link": 45.0,
    "primary": 55.0,
    "primary_link": 40.0,
    "secondary": 45.0,
    "secondary_link": 35.0,
    "tertiary": 38.0,
    "tertiary_link": 30.0,
    "unclassified": 30.0,
    "residential": 25.0,
    "living_street": 10.0,
    "service": 15.0,
    "track": 12.0,
    "road": 25.0,
    # Classes of the offline road mirror (no maxspeed there).
    "highway": 65.0,
    "major": 46.0,
    "minor": 27.0,
}


def _env_path(name: str, default: Path | None) -> Path | None:
    value = os.environ.get(name)
    if value is None:
        return default
    return Path(value).expanduser() if value.strip() else None


def _default_mirror() -> Path | None:
    candidate = ROOT.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        return float(value)
    except ValueError as exc:  # a typo in a setting fails loudly
        raise ValueError(f"Réglage {name} invalide : {value!r} n'est pas un nombre.") from exc


def _env_positive_float(name: str, default: float) -> float:
    """A number setting that must be above zero (a typo or a zero fails loudly)."""
    number = _env_float(name, default)
    if not number > 0:
        raise ValueError(f"Réglage {name} invalide : {number!r} (un nombre positif est "
                         "attendu).")
    return number


# --- import bounds (security issue #13): integer helper --------------------------------
def _env_int(name: str, default: int) -> int:
    """A positive integer setting (``20_000`` accepted); a typo fails loudly."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        number = int(value.strip())
    except ValueError as exc:
        raise ValueError(f"Réglage {name} invalide : {value!r} n'est pas un nombre "
                         "entier.") from exc
    if number < 1:
        raise ValueError(f"Réglage {name} invalide : {value!r} (un entier positif est "
                         "attendu).")
    return number
# --- end of import bounds helper -------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Runtime settings; see README "Réglages" for the matching variables."""

    #: Local mirror of the open data (``MAILLAGE_DATA_MIRROR``; empty string = none).
    data_mirror: Path | None = field(default_factory=_default_mirror)
    #: Where downloaded sources and built layers go (``MAILLAGE_DATA_DIR``).
    data_dir: Path = ROOT / "data"
    #: SQLAlchemy URL of the store (``MAILLAGE_DATABASE_URL``); SQLite by default.
    database_url: str = ""
    #: Walking pace in km/h (``MAILLAGE_WALK_KMH``).
    walk_kmh: float = 4.5
    #: Points farther than this from any road are flagged (``MAILLAGE_MAX_SNAP_M``).
    max_snap_m: float = 500.0
    #: HTTP timeout for downloads in seconds (``MAILLAGE_HTTP_TIMEOUT``).
    http_timeout: float = 60.0
    #: The server runs behind our own reverse proxy, which appends the visitor's address
    #: to ``X-Forwarded-For`` (``MAILLAGE_TRUST_PROXY=1``; never set it without a proxy:
    #: a visitor could then forge the address the sign-in throttle counts).
    trust_proxy: bool = False
    #: Longest life of a sign-in, in hours, counted from the sign-in itself: a reload keeps
    #: the account signed in until then, never longer (``MAILLAGE_SESSION_HOURS``; see
    #: :mod:`maillage.sessions`).
    session_hours: float = 12.0
    # --- import bounds (security issue #13): every CSV import (places, indicators,
    # tour stops, pages and CLI) reads through maillage.bounded_csv with these limits.
    #: Largest file accepted, in bytes (``MAILLAGE_IMPORT_MAX_BYTES``; 20 Mo).
    import_max_bytes: int = 20 * 1024 * 1024
    #: Most lines after the header (``MAILLAGE_IMPORT_MAX_ROWS``).
    import_max_rows: int = 20_000
    #: Most columns of the header and cells of a row (``MAILLAGE_IMPORT_MAX_COLUMNS``).
    import_max_columns: int = 100
    #: Longest cell, in characters (``MAILLAGE_IMPORT_MAX_CELL``).
    import_max_cell: int = 5_000
    # --- end of import bounds
    # --- candidate stops from the road network (issue #18): geo/candidates.py
    #: Least distance between two candidate stops; closer ones are merged, and roadside
    #: points are generated this far apart (``MAILLAGE_CANDIDATE_SPACING_M``).
    candidate_spacing_m: float = 200.0
    #: Farthest a populated cell may be from a drivable road to get a roadside candidate
    #: (``MAILLAGE_CANDIDATE_ROAD_MAX_M``).
    candidate_road_max_m: float = 250.0
    # --- end of candidate stops
    #: Address of the public dashboard, printed in the documents' QR codes and links
    #: (``MAILLAGE_PUBLIC_URL``, no trailing slash).
    public_url: str = "http://localhost:8501"
    # --- label applications (issue #16): maillage/registry/applications.py
    #: Most applications one client (IP address) may file in an hour
    #: (``MAILLAGE_APPLICATIONS_PER_CLIENT``).
    applications_per_client: int = 3
    #: Most applications filed by everyone together in an hour
    #: (``MAILLAGE_APPLICATIONS_PER_HOUR``).
    applications_per_hour: int = 30
    # --- end of label applications

    @property
    def cache_dir(self) -> Path:
        """Downloaded raw sources (when no mirror holds them)."""
        return self.data_dir / "sources"

    @property
    def build_dir(self) -> Path:
        """Layers and graphs built from the sources."""
        return self.data_dir / "build"

    @property
    def communes_dir(self) -> Path:
        """The built commune layer (kept apart, as the brief asks)."""
        return self.data_dir / "communes"

    @property
    def db_url(self) -> str:
        """Database URL, defaulting to an SQLite file under ``data/``."""
        return self.database_url or f"sqlite:///{self.data_dir / 'maillage.db'}"


def from_env() -> Settings:
    """Build settings from ``MAILLAGE_*`` environment variables."""
    base = Settings()
    data_dir = _env_path("MAILLAGE_DATA_DIR", base.data_dir) or base.data_dir
    return Settings(
        data_mirror=_env_path("MAILLAGE_DATA_MIRROR", base.data_mirror),
        data_dir=data_dir,
        database_url=os.environ.get("MAILLAGE_DATABASE_URL", ""),
        walk_kmh=_env_float("MAILLAGE_WALK_KMH", base.walk_kmh),
        max_snap_m=_env_float("MAILLAGE_MAX_SNAP_M", base.max_snap_m),
        http_timeout=_env_float("MAILLAGE_HTTP_TIMEOUT", base.http_timeout),
        trust_proxy=os.environ.get("MAILLAGE_TRUST_PROXY", "").strip().lower()
        in ("1", "oui", "true", "yes"),
        session_hours=_env_positive_float("MAILLAGE_SESSION_HOURS", base.session_hours),
        # import bounds (security issue #13)
        import_max_bytes=_env_int("MAILLAGE_IMPORT_MAX_BYTES", base.import_max_bytes),
        import_max_rows=_env_int("MAILLAGE_IMPORT_MAX_ROWS", base.import_max_rows),
        import_max_columns=_env_int("MAILLAGE_IMPORT_MAX_COLUMNS", base.import_max_columns),
        import_max_cell=_env_int("MAILLAGE_IMPORT_MAX_CELL", base.import_max_cell),
        # candidate stops from the road network (issue #18)
        candidate_spacing_m=_env_float("MAILLAGE_CANDIDATE_SPACING_M",
                                       base.candidate_spacing_m),
        candidate_road_max_m=_env_float("MAILLAGE_CANDIDATE_ROAD_MAX_M",
                                        base.candidate_road_max_m),
        public_url=(os.environ.get("MAILLAGE_PUBLIC_URL", "").strip().rstrip("/")
                    or base.public_url),
        # label applications (issue #16)
        applications_per_client=_env_int("MAILLAGE_APPLICATIONS_PER_CLIENT",
                                         base.applications_per_client),
        applications_per_hour=_env_int("MAILLAGE_APPLICATIONS_PER_HOUR",
                                       base.applications_per_hour),
    )


@lru_cache(maxsize=1)
def get() -> Settings:
    """The process-wide settings (read from the environment once)."""
    return from_env()


def names() -> list[str]:
    """Names of the settings fields (for documentation and validation)."""
    return [f.name for f in fields(Settings)]
