"""Files of the van tours: the stops CSV in, the plan out (JSON, CSV, iCalendar, HTML sheets).

The stops file needs ``nom,longitude,latitude``; optional columns are
``frequence`` (hebdomadaire, bimensuelle, mensuelle), ``duree_min`` (workshop
length), ``fenetres`` (e.g. ``sam 07:00-12:00; mer 14:00-17:00``), ``jour_fixe`` (the
same weekday every visit, with an optional time slot: ``sam`` or ``sam 07:00-12:00``),
``adresse`` and ``id``. The template is ``docs/modele-arrets.csv``
(:func:`template_csv`). A file with any bad row is refused as a whole, every problem listed with
its line number (see docs/tournees.md).
"""

from __future__ import annotations

import csv
import html
import io
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from analysis import schedule
from analysis.schedule import Period, ScheduleError, Window, fmt_time
from analysis.tours import Pin, Plan, Problem, Stop, Van, visit_datetimes
from geo.errors import MaillageError
from maillage import fmt

if TYPE_CHECKING:
    from maillage.bounded_csv import Bounds, Progress

REQUIRED = ("nom", "longitude", "latitude")
OPTIONAL = ("frequence", "duree_min", "fenetres", "jour_fixe", "adresse", "id")
#: The stops-file template offered for download (docs/modele-arrets.csv).
TEMPLATE = Path(__file__).resolve().parents[1] / "docs" / "modele-arrets.csv"
#: Longest cell accepted (names, addresses, windows).
MAX_CELL = 500
#: Workshop length bounds (minutes).
MIN_DURATION, MAX_DURATION, DEFAULT_DURATION = 15, 480, 120


class StopsFileError(MaillageError):
    """The stops file is refused; nothing was written."""

    def __init__(self, problems: list[tuple[int | None, str]]) -> None:
        self.problems = problems
        lines = [f"ligne {n} : {m}" if n is not None else m for n, m in problems]
        head = (f"Le fichier des arrêts est refusé ({len(problems)} problème(s)) ; "
                "rien n'a été écrit.")
        super().__init__("\n".join([head, *lines[:100]]))


def _delimiter(first_line: str) -> str:
    """``;`` for a semicolon file, else ``,`` (decided on the header's line)."""
    if first_line.count(";") > first_line.count(",") and "fenetres" not in first_line:
        return ";"
    return ","


def read_stops(source: str | Path | bytes | io.IOBase, default_frequency: str = "hebdomadaire",
               bounds: Bounds | None = None, progress: Progress | None = None) -> list[Stop]:
    """Read and check a stops CSV; refuse it whole on any bad row.

    ``source`` is a path, the file's bytes, or a binary or text stream (an upload). It is
    read within the import bounds (``bounds``, default those of the settings, see
    :mod:`maillage.bounded_csv`): a file breaking one is refused as soon as it does.
    ``progress(done_rows, bytes_read, total_bytes)`` follows the reading.
    """
    from maillage import bounded_csv

    problems: list[tuple[int | None, str]] = []
    stops: list[Stop] = []
    seen: dict[str, int] = {}
    with bounded_csv.open_csv(source, bounds, delimiter=_delimiter, progress=progress,
                              error=StopsFileError) as reader:
        cols = [c.strip().lower() for c in reader.header]
        present = set(cols)
        missing = [c for c in REQUIRED if c not in present]
        if missing:
            raise StopsFileError([(1, f"colonne(s) obligatoire(s) absente(s) : "
                                      f"{', '.join(missing)} (en-tête attendu : "
                                      f"{','.join(REQUIRED)})")])
        unknown = [c for c in cols if c not in REQUIRED + OPTIONAL]
        dupes = bounded_csv.duplicates(cols)
        if unknown or dupes:
            shown = bounded_csv.listing([f"« {c[:40]} »" for c in unknown], width=44)
            raise StopsFileError(
                [(1, f"colonne(s) inconnue(s) : {shown} "
                     f"(colonnes permises : {','.join(REQUIRED + OPTIONAL)})")] * bool(unknown)
                + [(1, f"colonne(s) en double : {bounded_csv.listing(dupes)}")] * bool(dupes))
        for n, cells in reader.rows():
            stop = _stop(n, cells, cols, default_frequency, seen, problems)
            if stop is not None:
                stops.append(stop)
    if reader.problems:
        problems = sorted(problems + reader.problems, key=lambda p: p[0] or 0)
    if not problems and not stops:
        problems.append((None, "aucun arrêt dans le fichier"))
    if problems:
        raise StopsFileError(problems)
    return stops


def _stop(n: int, cells: list[str], cols: list[str], default_frequency: str,
          seen: dict[str, int], problems: list[tuple[int | None, str]]) -> Stop | None:
    """The stop of line ``n``, or None (its problems appended to ``problems``)."""
    from maillage.registry.csvio import unescape_cell
    from maillage.settings import MARTINIQUE_BBOX

    lon_min, lat_min, lon_max, lat_max = MARTINIQUE_BBOX
    if not any(c.strip() for c in cells):
        return None
    if len(cells) != len(cols):
        problems.append((n, f"{len(cells)} cellules au lieu de {len(cols)}"))
        return None
    row = {k: unescape_cell(v.strip()) for k, v in zip(cols, cells, strict=True)}
    long = [k for k, v in row.items() if len(v) > MAX_CELL]
    if long:
        problems.extend((n, f"{k} : {len(row[k])} caractères, {MAX_CELL} au plus")
                        for k in long)
        return None
    errs = []
    name = row.get("nom", "")
    if not name:
        errs.append("nom vide")
    try:
        lon, lat = float(row["longitude"].replace(",", ".")), float(
            row["latitude"].replace(",", "."))
        if not (lon_min <= lon <= lon_max and lat_min <= lat <= lat_max):
            errs.append(f"point ({lon}, {lat}) hors de la Martinique (longitude entre "
                        f"{lon_min} et {lon_max}, latitude entre {lat_min} et {lat_max})")
    except ValueError:
        lon = lat = 0.0
        errs.append(f"coordonnées illisibles : « {row['longitude']} », « {row['latitude']} »")
    freq = default_frequency
    try:
        freq = schedule.frequency(row.get("frequence"), default_frequency)
    except ScheduleError as exc:
        errs.append(str(exc))
    dur_text = row.get("duree_min", "")
    duration = DEFAULT_DURATION
    if dur_text:
        try:
            duration = int(float(dur_text.replace(",", ".")))
            if not MIN_DURATION <= duration <= MAX_DURATION:
                errs.append(f"durée {duration} min hors de {MIN_DURATION} à {MAX_DURATION}")
        except (ValueError, OverflowError):
            errs.append(f"durée « {dur_text} » illisible (minutes)")
    windows: tuple[Window, ...] = ()
    fixed_day = None
    try:
        windows, fixed_day = schedule.stop_schedule(row.get("fenetres"), row.get("jour_fixe"))
    except ScheduleError as exc:
        errs.append(str(exc))
    key = row.get("id") or name
    if key in seen:
        errs.append(f"arrêt en double (même {'id' if row.get('id') else 'nom'} qu'à la "
                    f"ligne {seen[key]})")
    seen.setdefault(key, n)
    problems.extend((n, e) for e in errs)
    if errs:
        return None
    return Stop(name, lon, lat, freq, duration * 60, windows, row.get("adresse", ""),
                row.get("id", ""), fixed_day)


# --------------------------------------------------------------------------- problem and plan


def problem_to_dict(p: Problem) -> dict:
    """JSON-ready description of a problem (to store or reload a plan)."""
    return {
        "period": {"start": p.period.start.isoformat(), "weeks": p.period.weeks,
                   "workdays": list(p.period.workdays),
                   "closed": {d.isoformat(): n for d, n in p.period.closed.items()}},
        "vans": [{"name": v.name, "depot": list(v.depot), "start": v.start, "end": v.end,
                  "lunch_earliest": v.lunch_earliest, "lunch_latest": v.lunch_latest,
                  "lunch": v.lunch} for v in p.vans],
        "stops": [{"name": s.name, "lon": s.lon, "lat": s.lat, "frequency": s.frequency,
                   "duration": s.duration, "address": s.address, "key": s.key,
                   "windows": [[w.weekday, w.start, w.end] for w in s.windows],
                   "fixed_day": s.fixed_day}
                  for s in p.stops],
        "pins": [{"stop": i, "occurrence": k, "day": pin.day.isoformat(), "van": pin.van}
                 for (i, k), pin in p.pins.items()],
    }


def problem_from_dict(d: dict) -> Problem:
    """Inverse of :func:`problem_to_dict`."""
    per = d["period"]
    period = Period(date.fromisoformat(per["start"]), per["weeks"], tuple(per["workdays"]),
                    {date.fromisoformat(k): v for k, v in per["closed"].items()})
    vans = [Van(**{**v, "depot": tuple(v["depot"])}) for v in d["vans"]]
    stops = [Stop(**{**s, "windows": tuple(Window(*w) for w in s["windows"])})
             for s in d["stops"]]
    pins = {(x["stop"], x["occurrence"]): Pin(date.fromisoformat(x["day"]), x["van"])
            for x in d.get("pins", [])}
    return Problem(stops, vans, period, pins)


def plan_json(plan: Plan, problem: Problem) -> dict:
    """The document written by ``maillage tours --out``: problem, plan and summary."""
    return {"problem": problem_to_dict(problem), **plan.to_dict()}


# --------------------------------------------------------------------------- exports

CSV_COLUMNS = ("camion", "date", "jour", "ordre", "arret", "id", "adresse", "longitude",
               "latitude", "arrivee", "debut", "fin", "trajet_min")


def plan_csv(plan: Plan, problem: Problem) -> str:
    """One row per visit, in day, van and visit order (UTF-8 text, formula cells neutralised)."""
    from maillage.csvsafe import cell

    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for t in sorted(plan.tours, key=lambda t: (t.day, t.van)):
        for v in t.visits:
            s = problem.stops[v.stop]
            w.writerow([cell(str(c)) for c in (
                problem.vans[t.van].name, t.day.isoformat(),
                schedule.WEEKDAY_NAMES[t.day.weekday()], v.seq, s.name, s.id, s.address,
                f"{s.lon:.6f}", f"{s.lat:.6f}", fmt_time(v.arrival), fmt_time(v.start),
                fmt_time(v.end), round(v.drive_s / 60, 1))])
    return out.getvalue()


def plan_ics(plan: Plan, problem: Problem, van: int | None = None,
             name: str = "Tournées de l'atelier numérique mobile") -> bytes:
    """An iCalendar file with one event per visit (of one van, or of the whole plan)."""
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//Maillage//Tournées//FR")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name if van is None else f"{name} – {problem.vans[van].name}")
    cal.add("x-wr-timezone", schedule.TIMEZONE)
    stamp = datetime.now().astimezone()
    for t in plan.tours:
        if van is not None and t.van != van:
            continue
        for v in t.visits:
            s = problem.stops[v.stop]
            e = Event()
            e.add("uid", f"{t.day.isoformat()}-{problem.vans[t.van].name}-{s.id}-{v.occurrence}"
                         "@maillage")
            e.add("dtstamp", stamp)
            e.add("dtstart", visit_datetimes(t.day, v.start))
            e.add("dtend", visit_datetimes(t.day, v.end))
            e.add("summary", f"Atelier numérique mobile – {s.name}")
            e.add("location", s.address or s.name)
            e.add("geo", (s.lat, s.lon))
            e.add("description", f"{problem.vans[t.van].name}, arrêt n° {v.seq} de la "
                                 f"journée. Arrivée prévue {fmt_time(v.arrival)}.")
            cal.add_component(e)
    cal.add_missing_timezones()
    return cal.to_ical()


def day_sheet_html(plan: Plan, problem: Problem, van: int, day: date) -> str:
    """A printable HTML sheet of one van's day: stops, times, addresses (all text escaped)."""
    tour = next((t for t in plan.tours if t.van == van and t.day == day), None)
    vname = html.escape(problem.vans[van].name)
    title = f"Tournée – {vname} – {fmt.day_long(day)}"
    rows = []
    if tour is not None:
        rows.append(f"<tr><td></td><td>Départ du dépôt</td><td></td><td>{fmt_time(tour.leave)}"
                    "</td><td></td><td></td></tr>")
        for v in tour.visits:
            s = problem.stops[v.stop]
            rows.append(
                f"<tr><td>{v.seq}</td><td>{html.escape(s.name)}</td>"
                f"<td>{html.escape(s.address or f'{s.lat:.5f}, {s.lon:.5f}')}</td>"
                f"<td>{fmt_time(v.arrival)}</td><td>{fmt_time(v.start)}</td>"
                f"<td>{fmt_time(v.end)}</td></tr>")
        rows.append(f"<tr><td></td><td>Retour au dépôt</td><td></td><td>{fmt_time(tour.back)}"
                    "</td><td></td><td></td></tr>")
    lunch = (f"<p>Pause déjeuner : {fmt_time(tour.lunch)} "
             f"({problem.vans[van].lunch // 60} min).</p>"
             if tour is not None and tour.lunch is not None else "")
    drive = (f"<p>Conduite prévue : {tour.drive_s / 60:.0f} min.</p>" if tour else
             "<p>Aucune visite ce jour.</p>")
    return f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;width:100%}}
td,th{{border:1px solid #888;padding:.4em;text-align:left}}@media print{{body{{margin:0}}}}
</style></head><body>
<h1>{title}</h1>
<table><thead><tr><th>N°</th><th>Arrêt</th><th>Adresse</th><th>Arrivée</th><th>Début atelier</th>
<th>Fin atelier</th></tr></thead><tbody>
{''.join(rows)}
</tbody></table>
{lunch}{drive}
<p>Présents (à remplir) : ______ dont 65 ans et plus : ______</p>
</body></html>
"""


def template_csv() -> bytes:
    """The stops-file template (``docs/modele-arrets.csv``), as offered for download."""
    return TEMPLATE.read_bytes()


# --------------------------------------------------------------------------- real places

#: The default depot: Fort-de-France town hall (INSEE 97209), read from the town-hall layer.
DEFAULT_DEPOT_INSEE = "97209"


def town_halls(s=None) -> list[Stop]:
    """The 34 town halls as stops (real points: a realistic test set), key ``mairie-<insee>``."""
    import json

    from geo import fetch

    data = json.loads(fetch.resolve("mairies", s).path.read_text(encoding="utf-8"))
    out = []
    for f in data["features"]:
        p = f["properties"]
        lon, lat = f["geometry"]["coordinates"][:2]
        out.append(Stop(f"Mairie de {p['commune']}", float(lon), float(lat),
                        address=p.get("mairie_adresse") or "", key=f"mairie-{p['code_insee']}"))
    return out


def default_depot(s=None) -> tuple[float, float]:
    """(lon, lat) of Fort-de-France town hall."""
    stop = next(t for t in town_halls(s) if t.key == f"mairie-{DEFAULT_DEPOT_INSEE}")
    return stop.lon, stop.lat
