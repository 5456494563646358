"""French formatting, the one place for it: numbers, shares, durations, distances, dates.

Everything a user reads (pages, CLI text, exports, reports) goes through these
functions: decimal comma, narrow no-break space (U+202F) between thousands and before
``%``, French month and weekday names. Missing values are worded, never ``nan``/``None``.
"""

from __future__ import annotations

import math
from datetime import date, datetime

#: Narrow no-break space: thousands separator and space before « % ».
NNBSP = "\u202f"
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
WEEKDAYS_SHORT = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")
MONTHS_SHORT = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.",
                "oct.", "nov.", "déc.")
#: What a missing value reads as by default.
MISSING = "n.d."


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return not math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True


def number(value: float | None, decimals: int = 0, unit: str = "", *,
           missing: str = MISSING) -> str:
    """« 12 345 », « 4,5 km/h »: thousands with U+202F, decimal comma, optional unit."""
    if _missing(value):
        return missing
    text = f"{float(value):,.{decimals}f}"  # type: ignore[arg-type]
    if text in ("-0", f"-0.{'0' * decimals}"):
        text = text[1:]
    text = text.replace(",", NNBSP).replace(".", ",")
    return f"{text} {unit}" if unit else text


def percent(value: float | None, decimals: int = 1, *, share: bool = False,
            missing: str = MISSING) -> str:
    """« 42,5 % » from a percentage (or from a 0–1 share with ``share=True``)."""
    if _missing(value):
        return missing
    v = float(value) * (100.0 if share else 1.0)  # type: ignore[arg-type]
    return number(v, decimals) + NNBSP + "%"


def minutes(value: int | None, *, missing: str = "hors de portée") -> str:
    """« 12 min », « 1 h 05 »; ``missing`` when there is no time (out of reach)."""
    if value is None:
        return missing
    return f"{value} min" if value < 60 else f"{value // 60} h {value % 60:02d}"


def minutes_of(seconds: float | None, decimals: int = 0, *,
               missing: str = "inatteignable") -> str:
    """Seconds shown as minutes: « 12 min », « 12,5 min »."""
    if _missing(seconds):
        return missing
    return number(float(seconds) / 60.0, decimals, "min")  # type: ignore[arg-type]


def distance(metres: int | None, *, missing: str = "—") -> str:
    """« 850 m », « 1,2 km »; ``missing`` when there is no distance."""
    if metres is None:
        return missing
    return f"{metres} m" if metres < 1000 else number(metres / 1000, 1, "km")


def size(n_bytes: int) -> str:
    """A file size: « 512 octets », « 4,0 Ko », « 112,0 Mo »."""
    if n_bytes < 1024:
        return f"{n_bytes} octet" + ("s" if n_bytes > 1 else "")
    value, unit = n_bytes / 1024, "Ko"
    for bigger in ("Mo", "Go"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return number(value, 1, unit)


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """« 1 lieu », « 3 lieux », « 0 atelier » (French: 0 and 1 are singular)."""
    word = singular if abs(n) < 2 else (plural_form or singular + "s")
    return f"{number(n)} {word}"


#: Units whose singular is not the plural without its final « s ».
_SINGULAR = {"lieux": "lieu"}


def count(value: float | None, unit: str, decimals: int = 0, *,
          missing: str = MISSING) -> str:
    """« 1 atelier », « 0 personne », « 12 ateliers »: a number and a plural unit, agreed.

    ``unit`` is given in the plural (« ateliers », « lieux »); below 2 it becomes
    singular (French rule). A unit that is not a plural word (« / 5 ») is left as is.
    """
    if _missing(value):
        return missing
    if abs(float(value)) < 2 and unit:  # type: ignore[arg-type]
        words = unit.split(" ")
        last = words[-1]
        if last in _SINGULAR:
            words[-1] = _SINGULAR[last]
        elif len(last) > 1 and last.endswith("s") and last.isalpha():
            words[-1] = last[:-1]
        unit = " ".join(words)
    return number(value, decimals, unit)


def day(d: date) -> str:
    """« 04/05/2026 »."""
    return f"{d:%d/%m/%Y}"


def day_long(d: date) -> str:
    """« lundi 4 mai 2026 »."""
    return f"{WEEKDAYS[d.weekday()]} {d.day} {MONTHS[d.month - 1]} {d.year}"


def day_short(d: date) -> str:
    """« lun. 04/05 »."""
    return f"{WEEKDAYS_SHORT[d.weekday()]} {d:%d/%m}"


def when(d: datetime) -> str:
    """« lundi 4 mai à 9h30 »."""
    return f"{WEEKDAYS[d.weekday()]} {d.day} {MONTHS[d.month - 1]} à {d.hour}h{d.minute:02d}"


def month(d: date) -> str:
    """« mars 2026 »."""
    return f"{MONTHS[d.month - 1]} {d.year}"


def month_short(d: date) -> str:
    """« mars 2026 » with the abbreviated month (« janv. 2026 »)."""
    return f"{MONTHS_SHORT[d.month - 1]} {d.year}"


def text(value: object) -> str:
    """A text value as shown: ``""`` for None, NaN, pandas' NA/NaT and blanks, else the
    text stripped (never « nan » or « None » on screen)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if type(value).__name__ in ("NAType", "NaTType"):
        return ""
    return str(value).strip()


_VOWELS = "aàâeéèêëiîïoôuùûyœAÀÂEÉÈÊËIÎÏOÔUÙÛYŒ"


def de(name: str) -> str:
    """A place name after « de », with the article contracted.

    « Le Prêcheur » → « du Prêcheur », « Les Anses-d'Arlet » → « des Anses-d'Arlet »,
    « La Trinité » → « de La Trinité », « Ajoupa » → « d'Ajoupa », « Ducos » → « de Ducos ».
    """
    name = str(name).strip()
    if name.startswith("Le "):
        return "du " + name[3:]
    if name.startswith("Les "):
        return "des " + name[4:]
    if name[:1] in _VOWELS and not name.startswith(("L'", "L’")):
        return "d'" + name
    return "de " + name


def a(name: str) -> str:
    """A place name after « à », with the article contracted.

    « Le Prêcheur » → « au Prêcheur », « Les Trois-Îlets » → « aux Trois-Îlets »,
    « Sainte-Anne » → « à Sainte-Anne ».
    """
    name = str(name).strip()
    if name.startswith("Le "):
        return "au " + name[3:]
    if name.startswith("Les "):
        return "aux " + name[4:]
    return "à " + name
