"""Reads and writes of the indicators in the database, and the figures other parts supply.

Recorded figures live in ``indicator_values`` (long format) and targets in
``indicator_targets``. Two indicators are read from elsewhere, never stored twice:
« lieux labellisés » from the registry of places (its label statuses and history), and
the mobile workshops from the van tours' visits held (:mod:`maillage.tour_store`), added
to the figures typed by hand (workshops outside the planned tours). Every write runs in
one transaction (all or nothing) and needs a Fédération account
(:data:`maillage.auth.EDITOR_ROLES`).

For pages and commands::

    from maillage.indicators import store
    df = store.frame()          # every figure, long format (analysis.indicators.COLUMNS)
    targets = store.targets()   # indicator, year, scope, value
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from analysis import indicators as ind
from maillage import bounded_csv, db
from maillage.auth import EDITOR_ROLES, Actor, AuthError
from maillage.db.indicator_models import Measurement, Target
from maillage.db.models import LabelEvent, Place
from maillage.indicators import csvio
from maillage.registry.errors import ConflictError, ValidationError
from maillage.settings import Settings

#: Source written on figures typed in the form.
SOURCE_FORM = "saisie"
#: Sources of the figures read from other parts of Maillage.
SOURCE_REGISTRY = "registre des lieux"
SOURCE_TOURS = "tournées"
#: Columns of :func:`recorded` (the long format plus who, when and where from).
RECORD_COLUMNS = [*ind.COLUMNS, "source", "recorded_by", "recorded_at", "version"]


def _now() -> datetime:
    return datetime.now(UTC)


def require_federation(actor: Actor | None) -> Actor:
    """The actor if they may record indicators; else a French refusal."""
    if actor is None:
        raise AuthError("Connectez-vous avec un compte de la Fédération pour saisir des "
                        "indicateurs : la consultation est publique, la saisie ne l'est pas.")
    if actor.role not in EDITOR_ROLES:
        raise AuthError(f"Le compte « {actor.username} » ne peut pas saisir d'indicateurs "
                        "(réservé à la Fédération).")
    return actor


# --------------------------------------------------------------------------- context


def commune_names(s: Settings | None = None) -> dict[str, str]:
    """INSEE code → name of the 34 communes."""
    from geo import communes

    c = communes.load(s)
    return dict(zip(c["code_insee"], c["nom"], strict=True))


def place_communes(s: Settings | None = None) -> dict[str, str]:
    """Place id → INSEE code (``""`` when unknown) of every place of the registry."""
    db.migrate(s)
    with db.read_session(s) as session:
        return {pid: code or "" for pid, code in session.execute(
            select(Place.id, Place.code_insee))}


def labelled_places(s: Settings | None = None) -> dict[str, tuple[str, str]]:
    """Place id → (INSEE code, name) of the labelled places (for templates and forms)."""
    db.migrate(s)
    with db.read_session(s) as session:
        return {pid: (code or "", nom) for pid, code, nom in session.execute(
            select(Place.id, Place.code_insee, Place.nom)
            .where(Place.label_status == "labellisé").order_by(Place.nom))}


def context(s: Settings | None = None, today: date | None = None) -> csvio.Context:
    """What imports and forms are checked against (communes, registry places, today)."""
    return csvio.Context(commune_names(s), place_communes(s), today or date.today())


# --------------------------------------------------------------------------- writes


def _upsert(session: Session, records: list[csvio.Record], source: str, by: str
            ) -> dict[str, int]:
    keys = {r.indicator for r in records}
    existing = {
        (m.indicator, m.period, m.code_insee, m.place_id, m.dimension): m
        for m in session.scalars(select(Measurement).where(Measurement.indicator.in_(keys)))
    }
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    now = _now()
    for r in records:
        m = existing.get(r.key)
        if m is None:
            session.add(Measurement(indicator=r.indicator, period=r.period,
                                    code_insee=r.code_insee, place_id=r.place_id,
                                    dimension=r.dimension, value=r.value, source=source,
                                    recorded_by=by, recorded_at=now, version=1))
            counts["added"] += 1
        elif m.value == r.value:
            counts["unchanged"] += 1
        else:
            m.value, m.source, m.recorded_by, m.recorded_at = r.value, source, by, now
            m.version += 1
            counts["updated"] += 1
    return counts


def import_csv(actor: Actor | None, data: bounded_csv.Source, filename: str = "fichier.csv",
               s: Settings | None = None, today: date | None = None,
               progress: bounded_csv.Progress | None = None) -> dict[str, Any]:
    """Import a file in the indicators' format: every row or none.

    A figure already stored for the same indicator, month, commune, place and
    dimension is replaced (re-importing a corrected file is safe). ``data`` is the
    file's bytes, its path or a binary stream, read within the import bounds of ``s``
    (:mod:`maillage.bounded_csv`); ``progress(done_rows, bytes_read, total_bytes)``
    follows the reading.
    """
    actor = require_federation(actor)
    records = csvio.parse(data, lambda: context(s, today), bounded_csv.of(s), progress)
    with db.write_session(s) as session:
        counts = _upsert(session, records, f"import {filename}"[:200], actor.username)
    return {"rows": len(records), **counts}


def check_chosen(row: dict[str, str | None]) -> None:
    """Refuse a typed figure whose commune (or place) nobody chose.

    The form preselects no commune: ``row["code_insee"]`` is None (or absent) until one
    is picked, ``""`` only when « Toute la Martinique » was picked for an indicator that
    allows it; an indicator by place needs ``row["lieu"]``. Unknown or computed
    indicators are left to :func:`csvio.check`, which words their problem.
    """
    spec = ind.INDICATORS.get(str(row.get("indicateur") or "").strip())
    if spec is None or not spec.recordable:
        return
    if spec.scope == "place":
        if not str(row.get("lieu") or "").strip():
            raise ValidationError([(None, "lieu : choisissez le lieu labellisé du chiffre "
                                          "(aucun n'est choisi d'avance)")], what="Le chiffre")
        return
    code = row.get("code_insee")
    if code is None or (spec.scope == "commune" and not str(code).strip()):
        which = ("une commune" if spec.scope == "commune"
                 else "une commune ou « Toute la Martinique »")
        raise ValidationError([(None, f"commune : choisissez {which} (aucune n'est choisie "
                                      "d'avance)")], what="Le chiffre")


def save(actor: Actor | None, row: dict[str, str | None], expected_version: int | None,
         s: Settings | None = None, today: date | None = None) -> int:
    """Record one figure typed in the form (strings, as in a CSV row); return its version.

    ``expected_version`` is the version the form showed (None: there was no figure).
    If someone saved the same figure in between, the save is refused. The commune (or
    the place) must have been chosen (:func:`check_chosen`): ``code_insee`` None is
    refused, never read as « Toute la Martinique ».
    """
    actor = require_federation(actor)
    check_chosen(row)
    rec = csvio.check([{**row, "_line": "1"}], context(s, today))[0]
    try:
        with db.write_session(s) as session:
            # FOR UPDATE: on PostgreSQL a concurrent save waits, then sees the new version
            current = session.scalar(select(Measurement).where(*_key_filter(rec.key))
                                     .with_for_update())
            found = None if current is None else current.version
            if found != expected_version:
                who = current.recorded_by if current is not None else "quelqu'un"
                raise ConflictError(f"Ce chiffre a été modifié par {who} depuis que vous avez "
                                    "ouvert le formulaire : rechargez la page et vérifiez-le.")
            _upsert(session, [rec], SOURCE_FORM, actor.username)
            session.flush()
            return session.scalar(select(Measurement.version).where(*_key_filter(rec.key)))
    except IntegrityError as exc:  # two first saves of the same figure at the same moment
        raise ConflictError("Ce chiffre a été modifié par quelqu'un d'autre au même moment : "
                            "rechargez la page et vérifiez-le.") from exc


def _key_filter(key: tuple) -> list:
    indicator, period, code, place, dim = key
    return [Measurement.indicator == indicator, Measurement.period == period,
            Measurement.code_insee == code, Measurement.place_id == place,
            Measurement.dimension == dim]


def current_value(key: tuple, s: Settings | None = None) -> tuple[float, int] | None:
    """The stored value and version of one figure (None when absent)."""
    db.migrate(s)
    with db.read_session(s) as session:
        m = session.scalar(select(Measurement).where(*_key_filter(key)))
        return None if m is None else (m.value, m.version)


def delete_value(actor: Actor | None, key: tuple, expected_version: int,
                 s: Settings | None = None) -> None:
    """Remove one figure (refused if it changed since it was shown)."""
    require_federation(actor)
    with db.write_session(s) as session:
        n = session.execute(delete(Measurement).where(
            *_key_filter(key), Measurement.version == expected_version)).rowcount
        if n != 1:
            raise ConflictError("Ce chiffre a changé ou a été supprimé entre-temps : "
                                "rechargez la page.")


def set_target(actor: Actor | None, key: str, year: int, value: float, scope: str = "",
               s: Settings | None = None) -> dict[str, Any]:
    """Set the target of indicator ``key`` for ``year`` (Martinique, or one EPCI)."""
    actor = require_federation(actor)
    problems: list[tuple[int | None, str]] = []
    if key not in ind.INDICATORS:
        problems.append((None, f"indicateur « {key} » inconnu"))
    if not 2000 <= year <= 2100:
        problems.append((None, f"année {year} hors de 2000–2100"))
    if not (value >= 0 and value < 1e9):
        problems.append((None, f"objectif {value} : un nombre positif est attendu"))
    if scope:
        from geo import communes

        epcis = set(communes.load(s)["epci_court"])
        if scope not in epcis:
            problems.append((None, f"EPCI « {scope} » inconnu ({', '.join(sorted(epcis))})"))
    if problems:
        raise ValidationError(problems, what="L'objectif")
    db.migrate(s)
    with db.write_session(s) as session:
        t = session.scalar(select(Target).where(Target.indicator == key, Target.year == year,
                                                Target.scope == scope))
        if t is None:
            session.add(Target(indicator=key, year=year, scope=scope, value=float(value),
                               set_by=actor.username, set_at=_now(), version=1))
        else:
            t.value, t.set_by, t.set_at, t.version = float(value), actor.username, _now(), \
                t.version + 1
    return {"indicator": key, "year": year, "scope": scope, "value": float(value)}


# --------------------------------------------------------------------------- reads


def revision(s: Settings | None = None) -> str:
    """A fingerprint of everything :func:`frame` and :func:`targets` read, that changes with
    every write: the figures and targets (count, latest write, versions), the registry
    (labelled places) and the tours (workshops held). Display caches are keyed on it, so a
    figure saved on one server process shows on every other at its next run."""
    from maillage import tour_store
    from maillage.registry import store as registry

    db.migrate(s)
    with db.read_session(s) as session:
        values = session.execute(select(func.count(Measurement.pk),
                                        func.max(Measurement.recorded_at),
                                        func.sum(Measurement.version))).one()
        goals = session.execute(select(func.count(Target.pk), func.max(Target.set_at),
                                       func.sum(Target.version))).one()
    return "|".join([":".join(str(v) for v in (*values, *goals)), registry.revision(s),
                     tour_store.revision(s)])


def recorded(s: Settings | None = None) -> pd.DataFrame:
    """Every figure typed or imported (:data:`RECORD_COLUMNS`)."""
    db.migrate(s)
    with db.read_session(s) as session:
        rows = session.execute(select(
            Measurement.indicator, Measurement.period, Measurement.code_insee,
            Measurement.place_id, Measurement.dimension, Measurement.value,
            Measurement.source, Measurement.recorded_by, Measurement.recorded_at,
            Measurement.version)).all()
    df = pd.DataFrame([tuple(r) for r in rows], columns=RECORD_COLUMNS)
    return ind.normalise(df)


def from_registry(s: Settings | None = None, today: date | None = None) -> pd.DataFrame:
    """« Lieux labellisés » computed from the registry's statuses and label history."""
    db.migrate(s)
    with db.read_session(s) as session:
        places = pd.DataFrame(
            [tuple(r) for r in session.execute(select(
                Place.id, Place.code_insee, Place.label_status, Place.labelled_on,
                Place.label_since, Place.created_at))],
            columns=["place_id", "code_insee", "label_status", "labelled_on", "label_since",
                     "created_at"])
        events = pd.DataFrame(
            [tuple(r) for r in session.execute(
                select(Place.id, LabelEvent.at, LabelEvent.to_status)
                .join(LabelEvent, LabelEvent.place_pk == Place.pk).order_by(LabelEvent.pk))],
            columns=["place_id", "at", "to_status"])
    since = places["labelled_on"].fillna(places["label_since"])
    places["since"] = since.fillna(places["created_at"].map(
        lambda d: d.date() if isinstance(d, datetime) else d))
    places["code_insee"] = places["code_insee"].fillna("")
    out = ind.labelled_series(places, events, today)
    out["source"] = SOURCE_REGISTRY
    return out


def from_tours(s: Settings | None = None) -> pd.DataFrame:
    """Workshops held and attendance from the van tours' visits held, by month and stop."""
    from maillage import tour_store

    return visits_to_rows(tour_store.attendance_frame(s), place_communes(s))


def visits_to_rows(visits: pd.DataFrame, places: dict[str, str]) -> pd.DataFrame:
    """Long-format rows (workshops held, attendance, seniors) from the visits held.

    ``visits`` has ``visit_date, stop_key, code_insee, attendance, attendance_seniors``
    (one row per visit held, as :func:`maillage.tour_store.attendance_frame` gives);
    a visit without commune takes the one of its stop in the registry.
    """
    if visits.empty:
        return ind.empty()
    v = pd.DataFrame({
        "period": pd.to_datetime(visits["visit_date"]).dt.to_period("M").dt.to_timestamp(),
        "place_id": visits["stop_key"].fillna("").astype(str),
        "code_insee": visits["code_insee"].fillna("").astype(str),
        "dimension": "",
        "_held": 1.0,
        "_people": pd.to_numeric(visits["attendance"], errors="coerce").fillna(0.0),
        "_seniors": pd.to_numeric(visits["attendance_seniors"], errors="coerce").fillna(0.0),
    })
    unknown = v["code_insee"] == ""
    v.loc[unknown, "code_insee"] = v.loc[unknown, "place_id"].map(places).fillna("")
    keys = ["period", "code_insee", "place_id", "dimension"]
    g = v.groupby(keys, as_index=False)[["_held", "_people", "_seniors"]].sum()
    parts = []
    for key, col in (("workshops_held", "_held"), ("workshop_attendance", "_people"),
                     ("workshop_attendance_seniors", "_seniors")):
        part = g[keys].copy()
        part["indicator"], part["value"] = key, g[col]
        parts.append(part)
    out = ind.normalise(pd.concat(parts, ignore_index=True))
    out["source"] = SOURCE_TOURS
    return out


def frame(s: Settings | None = None, today: date | None = None) -> pd.DataFrame:
    """Every figure: recorded, computed from the registry and read from the tours."""
    parts = [recorded(s), from_registry(s, today), from_tours(s)]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return ind.empty().assign(source="")
    return pd.concat(parts, ignore_index=True)


def targets(s: Settings | None = None) -> pd.DataFrame:
    """Every target: ``indicator, year, scope, value, set_by, set_at``."""
    db.migrate(s)
    with db.read_session(s) as session:
        rows = session.execute(select(Target.indicator, Target.year, Target.scope,
                                      Target.value, Target.set_by, Target.set_at)).all()
    return pd.DataFrame([tuple(r) for r in rows],
                        columns=["indicator", "year", "scope", "value", "set_by", "set_at"])


def export_csv(s: Settings | None = None, computed: bool = False) -> bytes:
    """The recorded figures as CSV (with ``computed``: also registry and tours figures)."""
    df = frame(s) if computed else recorded(s)
    return csvio.export(df, commune_names(s))


def dump(s: Settings | None = None) -> dict[str, list[tuple]]:
    """Every row of the indicator tables (to compare the store before and after)."""
    db.migrate(s)
    with db.read_session(s) as session:
        return {t: sorted(map(tuple, session.execute(text(f'SELECT * FROM "{t}"')).all()),
                          key=repr)
                for t in (Measurement.__tablename__, Target.__tablename__)}
