"""Reads and writes of the registry in the database.

Every write runs in one transaction (:func:`maillage.db.write_session`): a failure
leaves the store as it was. Edits check the ``version`` the editor started from and
refuse a stale save (:class:`ConflictError`) instead of overwriting someone else's work.
Editing needs an :class:`maillage.auth.Actor` with an editing role. Places typed in
the page are completed before validation (:mod:`maillage.registry.entry`), and places
without coordinates are placed from their address (:mod:`maillage.registry.geocoding`),
in a form as in an import.

For other features::

    from maillage.registry import store
    gdf = store.places_frame(public=True)   # GeoDataFrame EPSG:4326, one row per place
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import geopandas as gpd
import pandas as pd
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from maillage import bounded_csv, db
from maillage.auth import Actor, require_editor, require_role
from maillage.db.models import LABEL_STATUSES, ImportIssue, ImportRun, LabelEvent, Place
from maillage.registry import csvio, entry, geocoding, hours, initial, location, standard
from maillage.registry.errors import ConflictError, NotFoundError, ValidationError
from maillage.settings import CRS_STORE, Settings

_FLOATS = ("latitude", "longitude")
_DATES = ("date_maj", "label_since", "labelled_on")


def _now() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------- conversions


def to_row(place: Place) -> dict[str, str]:
    """A place as the CSV writes it: every standard and local field as a string."""
    row: dict[str, str] = {}
    for name in standard.fields() + standard.LOCAL_FIELDS:
        value = getattr(place, name)
        if value is None:
            row[name] = ""
        elif isinstance(value, bool):
            row[name] = "oui" if value else "non"
        elif isinstance(value, float):
            row[name] = repr(value)
        elif isinstance(value, date):
            row[name] = value.isoformat()
        else:
            row[name] = str(value)
    return row


def to_values(row: dict[str, str]) -> dict[str, Any]:
    """Typed column values from a (validated) row of strings; absent local columns skipped."""
    values: dict[str, Any] = {}
    for name in standard.fields() + standard.LOCAL_FIELDS:
        if name not in row:
            continue
        text = (row.get(name) or "").strip()
        if name in _FLOATS:
            values[name] = float(text) if text else None
        elif name in _DATES:
            values[name] = date.fromisoformat(text) if text else None
        elif name == "possible_stop":
            values[name] = standard.BOOL_WORDS.get(text.lower(), False)
        elif name in ("kind", "host_type"):
            values[name] = text or ("lieu fixe" if name == "kind" else "autre")
        else:
            values[name] = text or None
    for name in standard.required():
        if name in values and values[name] is None:
            values[name] = ""
    return values


# --------------------------------------------------------------------------- reads


def list_places(session: Session) -> list[Place]:
    """Every place, by name."""
    return list(session.scalars(select(Place).order_by(Place.nom)))


def get_place(session: Session, place_id: str) -> Place:
    """The place with standard id ``place_id`` (or a French NotFoundError)."""
    place = session.scalar(select(Place).where(Place.id == place_id))
    if place is None:
        raise NotFoundError(f"Aucun lieu n'a l'identifiant « {place_id} ».")
    return place


def revision(s: Settings | None = None) -> str:
    """A fingerprint of the registry that changes with every write (for display caches).

    Pages key their cached copy of the places on it, so an edit made anywhere (page,
    command line, another editor) shows at the next rerun, never a stale list.
    """
    db.migrate(s)
    with db.read_session(s) as session:
        count, latest, versions = session.execute(
            select(func.count(Place.pk), func.max(Place.updated_at), func.sum(Place.version))
        ).one()
    return f"{count}:{latest}:{versions}"


def rows(s: Settings | None = None) -> list[dict[str, str]]:
    """Every place as a row of strings (what the CSV export writes)."""
    db.migrate(s)
    with db.read_session(s) as session:
        return [to_row(p) for p in session.scalars(select(Place).order_by(Place.id))]


def places_frame(s: Settings | None = None, public: bool = True,
                 when: datetime | None = None) -> gpd.GeoDataFrame:
    """All places as a GeoDataFrame (EPSG:4326) for maps, filters and the coverage engine.

    Columns: the 32 standard fields (strings, ``|`` lists), the local fields
    (``label_status``, ``kind``, ``host_type``, ``possible_stop``, ``coord_source`` …),
    ``version``, ``epci_court``, ``open_now`` (True/False/None at ``when``, default now)
    and ``siret_a_completer`` (the pivot is empty or the national placeholder). With
    ``public=True`` the internal notes and origin are left out.
    """
    data = rows(s)
    df = pd.DataFrame(data, columns=list(standard.fields() + standard.LOCAL_FIELDS))
    if public:
        df = df.drop(columns=list(standard.PRIVATE_FIELDS))
    with db.read_session(s) as session:
        versions = dict(session.execute(select(Place.id, Place.version)).all())
    df["version"] = df["id"].map(versions).astype("Int64")
    df["possible_stop"] = df["possible_stop"] == "oui"
    df["open_now"] = [hours.is_open(h, when) for h in df["horaires"]]
    df["siret_a_completer"] = df["pivot"].map(standard.pivot_missing).astype(bool)
    lon = pd.to_numeric(df["longitude"], errors="coerce")
    lat = pd.to_numeric(df["latitude"], errors="coerce")
    epci = _epci_by_commune(s)
    df["epci_court"] = df["code_insee"].map(epci).fillna("")
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(lon, lat), crs=CRS_STORE)


def _epci_by_commune(s: Settings | None) -> dict[str, str]:
    isl = location.island(s)
    return dict(zip(isl.communes["code_insee"], isl.communes["epci_court"], strict=True))


def count_labelled(s: Settings | None = None) -> int:
    """Places whose label status is « labellisé » (the indicator of points numériques)."""
    db.migrate(s)
    with db.read_session(s) as session:
        return session.scalar(select(func.count()).select_from(Place)
                              .where(Place.label_status == "labellisé")) or 0


def label_history(place_id: str, s: Settings | None = None) -> list[dict[str, str]]:
    """Label changes of a place, oldest first."""
    with db.read_session(s) as session:
        place = get_place(session, place_id)
        return [{"at": e.at.isoformat(timespec="seconds"), "by": e.by,
                 "from": e.from_status or "", "to": e.to_status or "",
                 "comment": e.comment or ""} for e in place.label_events]


# --------------------------------------------------------------------------- writes


def _validate_one(row: dict[str, str], s: Settings | None) -> tuple[list[str], list[str]]:
    """Errors and warnings of one typed row (the import's rules)."""
    errors, warnings = csvio.check_rows([{**row, "_line": "1"}], location.island(s))
    return [m for _, m in errors], [m for _, m in warnings]


def prepare_entry(row: dict[str, str], taken: Container[str] = (), s: Settings | None = None
                  ) -> tuple[dict[str, str], list[str], list[str]]:
    """A place typed by a person, completed and checked as a save does it; nothing written.

    The row is completed as :func:`maillage.registry.entry.prepare` says (id, pivot,
    phone, date), placed from its address when it has no coordinates
    (:mod:`maillage.registry.geocoding`), then validated with the import rules. Returns
    the row, what was filled in (French notes) and the validation's warnings; a row that
    breaks a rule raises :class:`ValidationError` with every problem. ``taken``: the
    identifiers already used (a new place without id gets a fresh one).
    """
    typed = {k: ("" if v is None else str(v)) for k, v in row.items()}
    row = entry.prepare(typed, taken)
    notes: list[str] = []
    if not typed.get("id", "").strip():
        notes.append(f"Identifiant créé : « {row['id']} ».")
    if standard.pivot_missing(row["pivot"]):
        notes.append("SIRET à compléter : le lieu est enregistré sans SIRET ni RNA pour "
                     "l'instant.")
    if typed.get("telephone", "").strip() and row["telephone"] != " ".join(
            typed["telephone"].split()):
        notes.append(f"Téléphone enregistré au format international : {row['telephone']}.")
    if geocoding.needs_position(row):
        for placed in geocoding.fill([row], s):
            notes.append(f"Position trouvée d'après l'adresse : {placed['adresse']} "
                         "(approximative, à vérifier sur la carte).")
    problems, warnings = _validate_one(row, s)
    warnings = [w for w in warnings if getattr(w, "field", "") != "latitude"
                or not row.get("_geocoded")]  # the geocoding is already in the notes
    if problems:
        raise ValidationError([(None, m) for m in problems], what="La fiche")
    return row, notes, [str(w) for w in warnings]


@dataclass(frozen=True)
class Saved:
    """What a save did: the place's id and new version, and what to tell the editor."""

    id: str
    version: int
    created: bool
    #: French sentences: identifier made, phone rewritten, position from the address…
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: French warnings of the validation (kept, not refused: e.g. an unknown typology).
    warnings: tuple[str, ...] = field(default_factory=tuple)


def save_place(actor: Actor | None, row: dict[str, str], expected_version: int | None,
               s: Settings | None = None, comment: str = "") -> int:
    """Create (``expected_version=None``) or update a place; return its new version.

    See :func:`save_entry`, which also says what it filled in.
    """
    return save_entry(actor, row, expected_version, s, comment).version


def save_entry(actor: Actor | None, row: dict[str, str], expected_version: int | None,
               s: Settings | None = None, comment: str = "") -> Saved:
    """Create (``expected_version=None``) or update a place typed by a person.

    The row is completed as :func:`maillage.registry.entry.prepare` says (a new place
    without id gets one, an unknown SIRET the national placeholder, the phone its
    international form, the update date today's), placed from its address when it has
    no coordinates (:mod:`maillage.registry.geocoding`), then validated with the import
    rules. An update whose ``expected_version`` is not the stored one is refused:
    someone saved the place in between.
    """
    actor = require_editor(actor)
    db.migrate(s)
    # A write refused on a replaced store says so, even though it reads the ids first.
    db.check_store(db.engine(s), "write")
    taken: set[str] = set()
    if expected_version is None:
        with db.read_session(s) as session:
            taken = set(session.scalars(select(Place.id)))
    row, notes, warnings = prepare_entry(row, taken, s)
    values = to_values(row)
    with db.write_session(s) as session:
        current = session.scalar(select(Place).where(Place.id == values["id"]))
        if expected_version is None:
            if current is not None:
                raise ConflictError(f"Un lieu porte déjà l'identifiant « {values['id']} » : "
                                    "choisissez-en un autre.")
            place = Place(**values, version=1, created_at=_now(), updated_at=_now(),
                          updated_by=actor.username)
            session.add(place)
            try:
                with session.begin_nested():  # two creations of one id at the same moment
                    session.flush()
            except IntegrityError:
                raise ConflictError(f"Un lieu porte déjà l'identifiant « {values['id']} » "
                                    "(créé à l'instant par quelqu'un d'autre).") from None
            if place.label_status:
                _add_event(session, place, None, place.label_status, actor.username,
                           comment or "création")
            return Saved(values["id"], 1, True, tuple(notes), tuple(map(str, warnings)))
        if current is None:
            raise NotFoundError(f"Le lieu « {values['id']} » n'existe plus.")
        old_status = current.label_status
        _update_versioned(session, current.pk, expected_version, values, actor.username)
        new_status = values.get("label_status", old_status)
        if new_status != old_status:
            _add_event(session, current, old_status, new_status, actor.username, comment)
        return Saved(values["id"], expected_version + 1, False, tuple(notes),
                     tuple(map(str, warnings)))


def _update_versioned(session: Session, pk: int, expected: int, values: dict[str, Any],
                      by: str) -> None:
    result = session.execute(
        update(Place).where(Place.pk == pk, Place.version == expected)
        .values(**values, version=expected + 1, updated_at=_now(), updated_by=by)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        who = session.scalar(select(Place.updated_by).where(Place.pk == pk)) or "quelqu'un"
        raise ConflictError(
            f"Ce lieu a été modifié par {who} depuis que vous l'avez ouvert : votre "
            "enregistrement est refusé pour ne pas effacer ses changements. Rechargez la "
            "fiche, puis refaites vos modifications."
        )


def _add_event(session: Session, place: Place, old: str | None, new: str | None, by: str,
               comment: str) -> None:
    session.add(LabelEvent(place_pk=place.pk, at=_now(), by=by, from_status=old,
                           to_status=new, comment=comment or None))


def change_label(actor: Actor | None, place_id: str, status: str | None, expected_version: int,
                 comment: str = "", s: Settings | None = None, on: date | None = None) -> int:
    """Move a place to a label status (history kept); return the new version."""
    actor = require_editor(actor)
    if status is not None and status not in LABEL_STATUSES:
        raise ValidationError([(None, f"statut « {status} » inconnu (statuts : "
                                      f"{', '.join(LABEL_STATUSES)})")], what="Le changement")
    on = on or date.today()
    db.migrate(s)
    with db.write_session(s) as session:
        place = get_place(session, place_id)
        old = place.label_status
        values: dict[str, Any] = {"label_status": status, "label_since": on}
        if status == "labellisé" and place.labelled_on is None:
            values["labelled_on"] = on
        _update_versioned(session, place.pk, expected_version, values, actor.username)
        _add_event(session, place, old, status, actor.username, comment)
        return expected_version + 1


def import_csv(actor: Actor | None, data: bounded_csv.Source, filename: str = "fichier.csv",
               s: Settings | None = None, progress: bounded_csv.Progress | None = None
               ) -> dict[str, Any]:
    """Import a standard CSV: all rows or nothing. Existing ids are updated, new ones added.

    ``data`` is the file's bytes, its path or a binary stream (an upload); it is read
    within the import bounds of ``s`` (:mod:`maillage.bounded_csv`) and refused, with
    nothing written, as soon as it breaks one. ``progress(done_rows, bytes_read,
    total_bytes)`` follows the reading.
    """
    actor = require_editor(actor)
    parsed, warnings = csvio.parse(data, lambda: location.island(s), bounded_csv.of(s),
                                   progress,
                                   place=lambda rows, isl: geocoding.fill(rows, s, isl))
    db.migrate(s)
    with db.write_session(s) as session:
        existing = {p.id: p for p in session.scalars(select(Place))}
        run = ImportRun(kind="csv", at=_now(), by=actor.username, n_input=len(parsed),
                        summary=filename)
        session.add(run)
        session.flush()
        for row in parsed:
            values = to_values(row)
            place = existing.get(values["id"])
            if place is None:
                new = Place(**values, version=1, created_at=_now(), updated_at=_now(),
                            updated_by=actor.username)
                session.add(new)
                session.flush()
                if new.label_status:
                    _add_event(session, new, None, new.label_status, actor.username,
                               f"import {filename}")
                run.n_imported += 1
                continue
            if to_values(to_row(place)) == {**to_values(to_row(place)), **values}:
                continue  # unchanged row: no new version
            old = place.label_status
            _update_versioned(session, place.pk, place.version, values, actor.username)
            if "label_status" in values and values["label_status"] != old:
                _add_event(session, place, old, values["label_status"], actor.username,
                           f"import {filename}")
            run.n_updated += 1
        for seq, (line, msg) in enumerate(warnings, start=1):
            session.add(ImportIssue(run_pk=run.pk, seq=seq, action=initial.WARNED,
                                    source=filename, record_id=f"ligne {line}",
                                    field=getattr(msg, "field", "") or "commune",
                                    original="", kept="", reason=str(msg)))
        geocoded = [{"ligne": int(r["_line"]), "id": r["id"], "adresse": r["_geocoded"]}
                    for r in parsed if r.get("_geocoded")]
        return {"imported": run.n_imported, "updated": run.n_updated,
                "unchanged": len(parsed) - run.n_imported - run.n_updated,
                "warnings": [f"ligne {n} : {m}" for n, m in warnings],
                "geocoded": geocoded}


def apply_initial(load: initial.Load, s: Settings | None = None, force: bool = False
                  ) -> dict[str, Any]:
    """Write the initial load in one transaction (idempotent: same inputs → nothing to do).

    Places already in the store (same id) are left as they are, so edits survive a
    re-run; the report of the run replaces nothing and is kept with the others.
    """
    db.migrate(s)
    with db.write_session(s) as session:
        done = session.scalar(select(ImportRun).where(ImportRun.kind == "initial",
                                                      ImportRun.fingerprint == load.fingerprint))
        if done is not None and not force:
            return {"skipped": True, **_run_counts(done)}
        existing = set(session.scalars(select(Place.id)))
        added = 0
        for row in load.rows:
            if row["id"] in existing:
                continue
            session.add(Place(**to_values(row), version=1, created_at=_now(),
                              updated_at=_now(), updated_by=initial.LOADER))
            added += 1
        run = ImportRun(kind="initial", at=_now(), by=initial.LOADER,
                        fingerprint=load.fingerprint, n_input=load.n_input,
                        n_imported=load.n_imported, n_merged=load.n_merged,
                        n_rejected=load.n_rejected, n_corrected=load.n_corrected,
                        summary=", ".join(initial.SOURCES))
        session.add(run)
        session.flush()
        for seq, i in enumerate(load.issues, start=1):
            session.add(ImportIssue(run_pk=run.pk, seq=seq, action=i.action, source=i.source,
                                    record_id=i.record_id, field=i.field or None,
                                    original=i.original, kept=i.kept, reason=i.reason))
        return {"skipped": False, "added": added, **_run_counts(run)}


def _run_counts(run: ImportRun) -> dict[str, Any]:
    return {"run": run.pk, "at": run.at.isoformat(timespec="seconds"), "kind": run.kind,
            "by": run.by, "input": run.n_input, "imported": run.n_imported,
            "updated": run.n_updated, "merged": run.n_merged, "rejected": run.n_rejected,
            "corrected": run.n_corrected, "sources": run.summary}


def report(s: Settings | None = None, kind: str = "initial") -> dict[str, Any]:
    """The latest import report of ``kind``: counts and every issue line."""
    db.migrate(s)
    with db.read_session(s) as session:
        run = session.scalar(select(ImportRun).where(ImportRun.kind == kind)
                             .order_by(ImportRun.pk.desc()).limit(1))
        if run is None:
            return {}
        issues = [{"action": i.action, "source": i.source, "record_id": i.record_id,
                   "field": i.field or "", "original": i.original or "", "kept": i.kept or "",
                   "reason": i.reason} for i in run.issues]
        return {**_run_counts(run), "issues": issues}


def delete_all_places(actor: Actor | None, s: Settings | None = None) -> int:
    """Remove every place (admin only; used to reload from scratch)."""
    require_role(actor, {"admin"}, "supprimer tous les lieux du registre")
    db.migrate(s)
    with db.write_session(s) as session:
        return session.execute(delete(Place)).rowcount
