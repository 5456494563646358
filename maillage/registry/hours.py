"""Opening hours in OpenStreetMap ``opening_hours`` syntax: check, and "open now".

Parsing is done by the ``opening_hours`` library (opening-hours-py), never by hand.
Times are Martinique local time (UTC−4, no daylight saving).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import opening_hours

#: Local time zone of the places.
TZ = ZoneInfo("America/Martinique")


def check(text: str) -> str | None:
    """None when ``text`` parses, else a short French reason."""
    try:
        opening_hours.OpeningHours(text)
    except Exception as exc:  # the library raises ParserError and friends
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"« {text} » n'est pas au format OpenStreetMap opening_hours ({first})"
    return None


def is_valid(text: str | None) -> bool:
    """True for a non-empty, parsable expression."""
    return bool(text) and check(text) is None


def now_local() -> datetime:
    """Current Martinique time, naive (as the library expects)."""
    return datetime.now(TZ).replace(tzinfo=None)


def is_open(text: str | None, when: datetime | None = None) -> bool | None:
    """Open at ``when`` (default now); None when the hours are unknown or unreadable."""
    if not text:
        return None
    try:
        oh = opening_hours.OpeningHours(text)
    except Exception:
        return None
    when = when or now_local()
    if when.tzinfo is not None:
        when = when.astimezone(TZ).replace(tzinfo=None)
    return bool(oh.is_open(when))


#: OSM day codes, Monday first.
DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")


def from_day_ranges(by_day: dict[str, list[tuple[str, str]]]) -> str:
    """Build an expression from ``{"Mo": [("08:00", "12:00"), …]}``, grouping equal days.

    Consecutive days with the same slots become ranges (``Mo-We``); others are listed
    (``Mo,Th``). The result is checked by the library before being returned.
    """
    groups: dict[tuple[tuple[str, str], ...], list[int]] = {}
    for i, day in enumerate(DAYS):
        slots = tuple(by_day.get(day, []))
        if slots:
            groups.setdefault(slots, []).append(i)
    rules = []
    for slots, idx in sorted(groups.items(), key=lambda kv: kv[1][0]):
        rules.append(f"{_day_list(idx)} {','.join(f'{a}-{b}' for a, b in slots)}")
    return "; ".join(rules)


def _day_list(idx: list[int]) -> str:
    runs: list[list[int]] = []
    for i in idx:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{DAYS[run[0]]}-{DAYS[run[-1]]}")
        else:
            parts.extend(DAYS[i] for i in run)
    return ",".join(parts)
