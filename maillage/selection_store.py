"""Stop selections in the database: the stops chosen on « Arrêts proposés », for the tours.

Saving a selection needs a signed-in account with a planning role (:data:`SAVE_ROLES`:
administrator, Fédération, EPCI): the check is made here, whatever the page shows, so an
anonymous visitor writes nothing. Everything is checked before it is written (names and
texts bounded, no control character, points on the island, frequency, length, time
windows and fixed day as the tours' stops file requires them) and checked again when
read back; a refused selection is refused whole, with every problem in French, and
nothing is written. Each save is one transaction.

For pages and commands::

    from maillage import selection_store
    sel = selection_store.save_selection(actor, "CACEM 15 min", stops_df, params)
    selection_store.list_selections()            # newest first (DataFrame)
    selection_store.get_selection(pk).stops      # list of analysis.tours.Stop
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from analysis import schedule
from analysis.schedule import ScheduleError
from analysis.tours import Stop
from geo.errors import MaillageError
from geo.tours_io import MAX_CELL, MAX_DURATION, MIN_DURATION
from maillage import db
from maillage.auth import Actor, require_role
from maillage.db.selection_models import StopSelection
from maillage.settings import MARTINIQUE_BBOX, Settings

#: Roles that may save a selection: the Fédération plans the tours, EPCI planners propose
#: stops for their territory, administrators do everything.
SAVE_ROLES = frozenset({"admin", "federation", "epci"})
#: Longest selection name.
MAX_NAME = 200
#: Most stops in one selection (the command line proposes 500 at most).
MAX_STOPS = 500
#: Longest stop name, commune and time windows (the same bound as the stops file).
MAX_TEXT = MAX_CELL
#: Longest source code and stop identifier.
MAX_SOURCE, MAX_ID = 40, 200
#: Longest trip of a proposal (minutes), as ``maillage propose-stops``.
MAX_MINUTES = 60.0
#: Keys of the proposal parameters kept with a selection.
PARAM_KEYS = ("mode", "minutes", "weights", "scope", "p", "method")
_MODES = ("walk", "drive")
_INSEE = re.compile(r"^972\d\d$")


class SelectionError(MaillageError):
    """A selection is refused (rights aside); nothing was written."""

    def __init__(self, problems: list[str], head: str | None = None) -> None:
        self.problems = problems
        head = head or (f"La sélection d'arrêts est refusée ({len(problems)} problème(s)) ; "
                        "rien n'a été enregistré.")
        super().__init__("\n".join([head, *problems[:100]]))


class SelectionConflictError(SelectionError):
    """Another selection already has this name."""


@dataclass(frozen=True)
class Selection:
    """A stored selection: its stops as checked rows, and as the tours planner's stops."""

    pk: int
    name: str
    created_by: str
    created_at: datetime
    params: dict[str, Any]
    rows: list[dict[str, Any]]
    version: int

    @property
    def stops(self) -> list[Stop]:
        """The stops as :class:`analysis.tours.Stop` (what the tours planner reads)."""
        out = []
        for r in self.rows:
            windows, fixed = schedule.stop_schedule(r["fenetres"], r.get("jour_fixe", ""))
            out.append(Stop(r["nom"], r["lon"], r["lat"], r["frequence"], r["duree_min"] * 60,
                            windows, "", r["id"], fixed))
        return out


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# --------------------------------------------------------------------------- checks


def _text(value: Any, what: str, limit: int, problems: list[str], *,
          required: bool = False) -> str:
    """``value`` as a stripped text, or ``""`` with its problem appended."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        value = ""
    if not isinstance(value, str):
        problems.append(f"{what} : un texte est attendu")
        return ""
    text = value.strip()
    if required and not text:
        problems.append(f"{what} vide")
        return ""
    if len(text) > limit:
        problems.append(f"{what} : {len(text)} caractères, {limit} au plus")
        return ""
    if any(unicodedata.category(c) == "Cc" for c in text):
        problems.append(f"{what} : caractères de contrôle refusés")
        return ""
    return text


def _number(value: Any, what: str, problems: list[str]) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        problems.append(f"{what} : nombre illisible")
        return None
    if not math.isfinite(x):
        problems.append(f"{what} : nombre illisible")
        return None
    return x


def _stop_row(n: int, rec: Mapping[str, Any], seen: dict[str, int],
              problems: list[str]) -> dict[str, Any] | None:
    """The checked row of stop ``n`` (1-based), or None (its problems appended)."""
    lon_min, lat_min, lon_max, lat_max = MARTINIQUE_BBOX
    errs: list[str] = []
    where = f"arrêt {n}"
    nom = _text(rec.get("nom"), f"{where} : nom", MAX_TEXT, errs, required=True)
    commune = _text(rec.get("commune"), f"{where} : commune", MAX_TEXT, errs)
    source = _text(rec.get("source"), f"{where} : source", MAX_SOURCE, errs)
    key = _text(rec.get("id", rec.get("cand_id")), f"{where} : identifiant", MAX_ID, errs)
    lon = _number(rec.get("lon"), f"{where} : longitude", errs)
    lat = _number(rec.get("lat"), f"{where} : latitude", errs)
    if lon is not None and lat is not None and not (
            lon_min <= lon <= lon_max and lat_min <= lat <= lat_max):
        errs.append(f"{where} : point ({lon:g}, {lat:g}) hors de la Martinique (longitude "
                    f"entre {lon_min} et {lon_max}, latitude entre {lat_min} et {lat_max})")
    freq = "hebdomadaire"
    try:
        freq = schedule.frequency(_text(rec.get("frequence"), f"{where} : fréquence", 40,
                                        errs))
    except ScheduleError as exc:
        errs.append(f"{where} : {exc}")
    duration = rec.get("duree_min")
    minutes = 120 if duration is None else _number(duration, f"{where} : durée", errs)
    if minutes is not None and (minutes != int(minutes)
                                or not MIN_DURATION <= minutes <= MAX_DURATION):
        errs.append(f"{where} : durée {minutes:g} min (un nombre entier de {MIN_DURATION} à "
                    f"{MAX_DURATION} minutes est attendu)")
    windows = _text(rec.get("fenetres"), f"{where} : créneaux", MAX_TEXT, errs)
    fixed = _text(rec.get("jour_fixe"), f"{where} : jour fixe", MAX_TEXT, errs)
    try:
        schedule.stop_schedule(windows, fixed)
    except ScheduleError as exc:
        errs.append(f"{where} : {exc}")
    ident = key or nom
    if ident and ident in seen:
        errs.append(f"{where} : en double (même {'identifiant' if key else 'nom'} que l'arrêt "
                    f"{seen[ident]})")
    seen.setdefault(ident, n)
    if errs:
        problems.extend(errs)
        return None
    return {"nom": nom, "commune": commune, "lon": round(float(lon), 6),
            "lat": round(float(lat), 6), "frequence": freq, "duree_min": int(minutes),
            "fenetres": windows, "jour_fixe": fixed, "source": source, "id": key}


def check_stops(stops: pd.DataFrame | Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The checked rows of ``stops`` (columns ``nom, lon, lat`` and optionally ``commune,
    frequence, duree_min, fenetres, jour_fixe, source, id``), or a French
    :class:`SelectionError`."""
    records = (stops.to_dict(orient="records") if isinstance(stops, pd.DataFrame)
               else list(stops))
    problems: list[str] = []
    if not records:
        raise SelectionError(["aucun arrêt choisi"])
    if len(records) > MAX_STOPS:
        raise SelectionError([f"{len(records)} arrêts, {MAX_STOPS} au plus"])
    seen: dict[str, int] = {}
    rows = []
    for n, rec in enumerate(records, start=1):
        if not isinstance(rec, Mapping):
            problems.append(f"arrêt {n} : illisible")
            continue
        row = _stop_row(n, rec, seen, problems)
        if row is not None:
            rows.append(row)
    if problems:
        raise SelectionError(problems)
    return rows


def check_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The proposal parameters kept with a selection (:data:`PARAM_KEYS`), checked."""
    from analysis import siting

    params = dict(params or {})
    problems: list[str] = []
    unknown = sorted(str(k)[:40] for k in params if k not in PARAM_KEYS)
    if unknown:
        problems.append(f"paramètres inconnus : {', '.join(unknown)} (permis : "
                        f"{', '.join(PARAM_KEYS)})")
    out: dict[str, Any] = {}
    if "mode" in params:
        if params["mode"] not in _MODES:
            problems.append(f"mode « {str(params['mode'])[:40]} » inconnu (walk ou drive)")
        else:
            out["mode"] = params["mode"]
    if "minutes" in params:
        m = _number(params["minutes"], "minutes", problems)
        if m is not None and not 0 < m <= MAX_MINUTES:
            problems.append(f"temps de trajet {m:g} min hors de 0 à {MAX_MINUTES:g}")
        elif m is not None:
            out["minutes"] = m
    if "weights" in params:
        try:
            out["weights"] = siting.parse_weight(dict(params["weights"]))
        except (MaillageError, TypeError, ValueError) as exc:
            problems.append(f"pondération : {exc}")
    if "scope" in params:
        scope = params["scope"]
        if scope is None:
            out["scope"] = None
        elif (isinstance(scope, list | tuple) and len(scope) <= 34
              and all(isinstance(c, str) and _INSEE.match(c) for c in scope)):
            out["scope"] = sorted(set(scope))
        else:
            problems.append("territoire : une liste de codes INSEE de Martinique (972xx) "
                            "est attendue")
    if "p" in params:
        p = _number(params["p"], "nombre d'arrêts", problems)
        if p is not None and (p != int(p) or not 1 <= p <= MAX_STOPS):
            problems.append(f"nombre d'arrêts {p:g} hors de 1 à {MAX_STOPS}")
        elif p is not None:
            out["p"] = int(p)
    if "method" in params:
        out["method"] = _text(params["method"], "méthode", 40, problems)
    if problems:
        raise SelectionError(problems)
    return out


def check_name(name: Any) -> str:
    """The selection's name (stripped), or a French :class:`SelectionError`."""
    problems: list[str] = []
    text = _text(name, "nom de la sélection", MAX_NAME, problems, required=True)
    if problems:
        raise SelectionError(problems)
    return text


# --------------------------------------------------------------------------- store


def _selection(row: StopSelection) -> Selection:
    """The stored row, checked again on the way out (a damaged row is refused)."""
    try:
        params = json.loads(row.params_json)
        rows = json.loads(row.stops_json)
        checked = check_stops(rows)
        params = check_params(params)
    except (ValueError, TypeError, SelectionError) as exc:
        raise SelectionError([str(exc)], head=f"La sélection n° {row.pk} est illisible : "
                                              "enregistrez-la à nouveau.") from exc
    return Selection(row.pk, row.name, row.created_by, _aware(row.created_at), params,
                     checked, row.version)


def save_selection(actor: Actor | None, name: str, stops_df: pd.DataFrame,
                   params: Mapping[str, Any] | None = None,
                   s: Settings | None = None) -> Selection:
    """Save ``stops_df`` as a new selection named ``name``; return it as stored.

    Refused (French :class:`maillage.auth.AuthError`) for the public and for roles outside
    :data:`SAVE_ROLES`; refused whole (:class:`SelectionError`) when a stop or a parameter
    is wrong or when the name is taken. Nothing is written on a refusal or a failure.
    """
    actor = require_role(actor, SAVE_ROLES, "enregistrer une sélection d'arrêts")
    name = check_name(name)
    rows = check_stops(stops_df)
    checked = check_params(params)
    taken = SelectionConflictError(
        [f"une sélection s'appelle déjà « {name} » : choisissez un autre nom"])
    db.migrate(s)
    try:
        with db.write_session(s) as session:
            if session.scalar(select(StopSelection.pk).where(StopSelection.name == name)):
                raise taken
            row = StopSelection(name=name, created_by=actor.username, created_at=_now(),
                                params_json=json.dumps(checked, ensure_ascii=False),
                                stops_json=json.dumps(rows, ensure_ascii=False), version=1)
            session.add(row)
            session.flush()
            return _selection(row)  # what a reader will get, checked before the commit
    except IntegrityError:  # the same name saved by someone else at the same moment
        raise taken from None


def list_selections(s: Settings | None = None) -> pd.DataFrame:
    """Every selection, newest first: ``pk, name, created_by, created_at, n_stops, version``
    (``created_at`` aware, in UTC)."""
    db.migrate(s)
    with db.read_session(s) as session:
        rows = session.execute(
            select(StopSelection.pk, StopSelection.name, StopSelection.created_by,
                   StopSelection.created_at, StopSelection.stops_json, StopSelection.version)
            .order_by(StopSelection.created_at.desc(), StopSelection.pk.desc())).all()
    out = []
    for pk, name, by, at, stops_json, version in rows:
        try:
            n = len(json.loads(stops_json))
        except (ValueError, TypeError):
            n = 0
        out.append({"pk": pk, "name": name, "created_by": by, "created_at": _aware(at),
                    "n_stops": n, "version": version})
    return pd.DataFrame(out, columns=["pk", "name", "created_by", "created_at", "n_stops",
                                      "version"])


def get_selection(pk: int, s: Settings | None = None) -> Selection:
    """The selection ``pk`` with its checked stops (French error if absent or damaged)."""
    db.migrate(s)
    with db.read_session(s) as session:
        row = session.get(StopSelection, int(pk))
        if row is None:
            raise SelectionError([], head=f"Sélection d'arrêts n° {pk} introuvable.")
        return _selection(row)


def label(row: Mapping[str, Any]) -> str:
    """« name — author, dd/mm/yyyy (n arrêts) » of a row of :func:`list_selections`, with the
    date in Martinique's time."""
    from zoneinfo import ZoneInfo

    when = pd.Timestamp(row["created_at"]).tz_convert(ZoneInfo(schedule.TIMEZONE))
    return (f"{row['name']} — {row['created_by']}, {when:%d/%m/%Y} "
            f"({row['n_stops']} arrêt{'s' if row['n_stops'] > 1 else ''})")
