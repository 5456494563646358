"""Calendar side of the van tours: frequencies, time windows, working days, holidays.

A stop visited *weekly* needs one visit in every 7-day block of the period, a
*fortnightly* one in every 14-day block and a *monthly* one in every 28-day block
(the last block may be shorter than the others). Each required visit is an
:class:`Occurrence` with the working days on which it may happen; the solver
(:mod:`analysis.tours`) picks one of them.

A stop with a **fixed day** (``jour_fixe``, e.g. ``sam`` or ``sam 07:00-12:00``, like a
market) is visited on that weekday only, the same one in every block: its block's only
possible day is the block's first such weekday, so a weekly stop comes every week on
that day and a fortnightly one every other week (weeks 1, 3, 5… of the period). When
that day is closed (holiday, not a working day), the visit is not moved to another
day: it is left unserved and explained (:func:`analysis.tours.explain`).

Times of day are integer **seconds since midnight**, local time (America/Martinique, no
daylight saving).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from maillage import fmt
from maillage.errors import MaillageError

#: Frequency names (as written in the stops file) and their block length in days.
FREQUENCIES: dict[str, int] = {"hebdomadaire": 7, "bimensuelle": 14, "mensuelle": 28}
#: Accepted spellings of each frequency.
FREQ_ALIASES: dict[str, str] = {
    "hebdomadaire": "hebdomadaire", "hebdo": "hebdomadaire", "semaine": "hebdomadaire",
    "bimensuelle": "bimensuelle", "bimensuel": "bimensuelle", "quinzaine": "bimensuelle",
    "mensuelle": "mensuelle", "mensuel": "mensuelle", "mois": "mensuelle",
}
#: French weekday abbreviations, Monday first (``date.weekday()`` order).
WEEKDAYS = ("lun", "mar", "mer", "jeu", "ven", "sam", "dim")
WEEKDAY_NAMES = fmt.WEEKDAYS
#: Martinique's time zone (UTC-4 all year).
TIMEZONE = "America/Martinique"


class ScheduleError(MaillageError):
    """A frequency, a time or a window that cannot be read."""


def frequency(text: str | None, default: str = "hebdomadaire") -> str:
    """The canonical frequency name of ``text`` (empty: ``default``)."""
    key = (text or "").strip().lower()
    if not key:
        return default
    if key not in FREQ_ALIASES:
        raise ScheduleError(f"fréquence « {text} » inconnue (attendu : "
                            f"{', '.join(FREQUENCIES)})")
    return FREQ_ALIASES[key]


def parse_time(text: str) -> int:
    """``"08:30"`` or ``"8h30"`` to seconds since midnight."""
    m = re.fullmatch(r"\s*(\d{1,2})\s*[:h]\s*(\d{2})?\s*", text or "")
    if not m or int(m.group(1)) > 24 or int(m.group(2) or 0) > 59:
        raise ScheduleError(f"heure « {text} » illisible (attendu HH:MM, par exemple 08:30)")
    seconds = int(m.group(1)) * 3600 + int(m.group(2) or 0) * 60
    if seconds > 24 * 3600:
        raise ScheduleError(f"heure « {text} » au-delà de 24:00")
    return seconds


def fmt_time(seconds: float) -> str:
    """Seconds since midnight as ``HH:MM`` (rounded down to the minute)."""
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}"


@dataclass(frozen=True)
class Window:
    """A time window on one weekday (0 = Monday): a workshop starts and ends inside it."""

    weekday: int
    start: int  # seconds since midnight
    end: int

    def label(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {fmt_time(self.start)}-{fmt_time(self.end)}"


def _weekdays(text: str) -> list[int]:
    """``"sam"``, ``"lun-ven"`` or ``"lun,mer"`` to weekday numbers."""
    out: list[int] = []
    for part in text.split(","):
        part = part.strip().lower()[:]
        ends = [p.strip()[:3] for p in part.split("-")]
        if any(e not in WEEKDAYS for e in ends) or len(ends) > 2:
            raise ScheduleError(f"jour « {part} » inconnu (attendu : {', '.join(WEEKDAYS)})")
        a, b = WEEKDAYS.index(ends[0]), WEEKDAYS.index(ends[-1])
        out.extend(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return out


def parse_windows(text: str | None) -> tuple[Window, ...]:
    """Parse ``"sam 07:00-12:00; lun-ven 14:00-17:00"`` (``;``-separated; no day = every day).

    An empty text means no window: the van's working hours apply.
    """
    text = (text or "").strip()
    if not text:
        return ()
    out: list[Window] = []
    for item in filter(None, (p.strip() for p in text.split(";"))):
        m = re.fullmatch(r"(?:([a-zé,\- ]+?)\s+)?(\d{1,2}[:h]\d{2})\s*-\s*(\d{1,2}[:h]\d{2})",
                         item.lower())
        if not m:
            raise ScheduleError(f"fenêtre « {item} » illisible (exemple : « sam 07:00-12:00 »)")
        start, end = parse_time(m.group(2)), parse_time(m.group(3))
        if end <= start:
            raise ScheduleError(f"fenêtre « {item} » : la fin doit suivre le début")
        days = _weekdays(m.group(1)) if m.group(1) else list(range(7))
        out.extend(Window(d, start, end) for d in days)
    return tuple(sorted(set(out), key=lambda w: (w.weekday, w.start)))


def parse_fixed_day(text: str | None) -> tuple[int | None, tuple[Window, ...]]:
    """``"sam"`` → (5, ()); ``"samedi 07:00-12:00"`` → (5, (sam 07:00-12:00,)); empty → (None, ()).

    One weekday only (the same one every visit); the time slots, when given, are that
    day's windows (several may be given, ``;``-separated, all on that day).
    """
    text = (text or "").strip().lower()
    if not text:
        return None, ()
    if re.fullmatch(r"[a-zéû]+\.?", text):
        day = text.rstrip(".")[:3]
        if day not in WEEKDAYS:
            raise ScheduleError(f"jour fixe « {text} » inconnu (attendu un jour : "
                                f"{', '.join(WEEKDAYS)})")
        return WEEKDAYS.index(day), ()
    if re.fullmatch(r"[a-zéû., \-]+", text):
        raise ScheduleError(f"jour fixe « {text} » : un seul jour de la semaine est attendu "
                            "(exemple : « sam » ou « sam 07:00-12:00 »)")
    for item in filter(None, (p.strip() for p in text.split(";"))):
        if re.match(r"\d", item):
            raise ScheduleError(f"jour fixe « {text} » : indiquez le jour avant l'horaire "
                                "(exemple : « sam 07:00-12:00 »)")
    try:
        slots = parse_windows(text)
    except ScheduleError as exc:
        raise ScheduleError(f"jour fixe : {exc}") from None
    days = {w.weekday for w in slots}
    if len(days) != 1:
        raise ScheduleError(f"jour fixe « {text} » : un seul jour de la semaine est attendu "
                            "(exemple : « sam » ou « sam 07:00-12:00 »)")
    return days.pop(), slots


def fixed_windows(windows: tuple[Window, ...], fixed_day: int | None,
                  slots: tuple[Window, ...] = ()) -> tuple[Window, ...]:
    """The windows of a stop kept to ``fixed_day``: that day's windows, cut to ``slots``.

    Without a fixed day, ``windows`` unchanged. With one: the windows of that weekday
    (all of them when the stop has no window), intersected with the fixed day's time
    slots when some are given; a French :class:`ScheduleError` when nothing is left.
    """
    if fixed_day is None:
        return windows
    name = fmt.WEEKDAYS[fixed_day]
    own = tuple(w for w in windows if w.weekday == fixed_day)
    if windows and not own:
        listed = "; ".join(w.label() for w in windows)
        raise ScheduleError(f"jour fixe le {name} mais aucune fenêtre de l'arrêt ce jour-là "
                            f"(fenêtres : {listed})")
    if not slots:
        return own
    if not own:
        return tuple(slots)
    cut = sorted({Window(fixed_day, max(a.start, b.start), min(a.end, b.end))
                  for a in own for b in slots if max(a.start, b.start) < min(a.end, b.end)},
                 key=lambda w: w.start)
    if not cut:
        raise ScheduleError(f"le créneau du jour fixe ({'; '.join(w.label() for w in slots)}) "
                            f"ne recoupe aucune fenêtre du {name} "
                            f"({'; '.join(w.label() for w in own)})")
    return tuple(cut)


def stop_schedule(windows_text: str | None, fixed_text: str | None
                  ) -> tuple[tuple[Window, ...], int | None]:
    """The windows and fixed weekday of a stop from its ``fenetres`` and ``jour_fixe`` texts."""
    windows = parse_windows(windows_text)
    day, slots = parse_fixed_day(fixed_text)
    return fixed_windows(windows, day, slots), day


def fixed_label(fixed_day: int | None, windows: tuple[Window, ...] = ()) -> str:
    """« samedi », « samedi 07:00-12:00 » (the stop's windows on that day), or ``""``."""
    if fixed_day is None:
        return ""
    hours = [f"{fmt_time(w.start)}-{fmt_time(w.end)}" for w in windows
             if w.weekday == fixed_day]
    return " ".join([fmt.WEEKDAYS[fixed_day], ", ".join(hours)]).strip()


def holidays_972(first: date, last: date) -> dict[date, str]:
    """Public holidays of Martinique between two dates (incl. 22 May, abolition day)."""
    import holidays

    cal = holidays.France(subdiv="972", years=range(first.year, last.year + 1), language="fr")
    return {d: name for d, name in sorted(cal.items()) if first <= d <= last}


@dataclass(frozen=True)
class Period:
    """The planning period: ``weeks`` weeks from ``start``, on ``workdays``, minus closed days."""

    start: date
    weeks: int = 4
    workdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    closed: dict[date, str] = field(default_factory=dict)  # date -> reason (holiday…)

    @classmethod
    def with_holidays(cls, start: date, weeks: int = 4,
                      workdays: tuple[int, ...] = (0, 1, 2, 3, 4),
                      extra_closed: dict[date, str] | None = None) -> Period:
        """A period closed on Martinique's public holidays (and on ``extra_closed``)."""
        if weeks < 1 or weeks > 26:
            raise ScheduleError("La période doit compter de 1 à 26 semaines.")
        last = start + timedelta(days=7 * weeks - 1)
        closed = holidays_972(start, last) | dict(extra_closed or {})
        return cls(start, weeks, tuple(sorted(workdays)), closed)

    @property
    def n_days(self) -> int:
        return 7 * self.weeks

    @property
    def last(self) -> date:
        return self.start + timedelta(days=self.n_days - 1)

    def days(self) -> list[date]:
        """Every working day of the period (open, on a working weekday)."""
        out = []
        for k in range(self.n_days):
            d = self.start + timedelta(days=k)
            if d.weekday() in self.workdays and d not in self.closed:
                out.append(d)
        return out


@dataclass(frozen=True)
class Occurrence:
    """One required visit of a stop: the ``index``-th block ``[first, last]`` of its frequency."""

    stop: int
    index: int
    first: date
    last: date
    days: tuple[date, ...]  # working days of the block on which a window of the stop is open
    fixed: date | None = None  # the day a fixed-day stop asks for in this block


def occurrences(stop: int, freq: str, windows: tuple[Window, ...], period: Period,
                pinned: dict[int, date] | None = None,
                fixed_day: int | None = None) -> list[Occurrence]:
    """The visits a stop needs over the period, each with its possible days.

    ``pinned`` maps an occurrence index to the only day allowed for it (a pin set
    by the planner); a pinned day outside the block is allowed too (a moved visit).
    ``fixed_day`` (0 = Monday): every visit on that weekday, the first one of its block
    (see the module docstring); a pin still wins (the planner moved that visit).
    """
    step = FREQUENCIES[freq]
    open_days = period.days()
    wd = {w.weekday for w in windows} if windows else set(range(7))
    if fixed_day is not None:
        wd &= {fixed_day}
    out = []
    for k, lo in enumerate(range(0, period.n_days, step)):
        first = period.start + timedelta(days=lo)
        last = min(period.last, first + timedelta(days=step - 1))
        fixed = None
        if fixed_day is not None:
            fixed = first + timedelta(days=(fixed_day - first.weekday()) % 7)
            if fixed > last:  # a short last block without that weekday asks for nothing
                continue
        if pinned and k in pinned:
            days = (pinned[k],) if pinned[k] in open_days and pinned[k].weekday() in wd else ()
        elif fixed is not None:
            days = (fixed,) if fixed in open_days and fixed.weekday() in wd else ()
        else:
            days = tuple(d for d in open_days if first <= d <= last and d.weekday() in wd)
        out.append(Occurrence(stop, k, first, last, days, fixed))
    return out
