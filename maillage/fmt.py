"""French formatting of travel times and distances, shared by the CLI and the pages."""

from __future__ import annotations


def minutes(value: int | None, *, missing: str = "hors de portée") -> str:
    """« 12 min », « 1 h 05 »; ``missing`` when there is no time (out of reach)."""
    if value is None:
        return missing
    return f"{value} min" if value < 60 else f"{value // 60} h {value % 60:02d}"


def distance(metres: int | None, *, missing: str = "—") -> str:
    """« 850 m », « 1,2 km »; ``missing`` when there is no distance."""
    if metres is None:
        return missing
    return f"{metres} m" if metres < 1000 else f"{metres / 1000:.1f} km".replace(".", ",")
