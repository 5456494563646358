"""Initial load of the registry from the mirrored inventories, with an ETL report.

Sources (read through ``geo.fetch``): the Mednum Hub Antilles inventory
(``hub_antilles``), the France services list (``france_services``) and the
conseillers numériques permanences (``cnfs_lieux``). Each record is mapped to the
national standard; every change, rejection and merge is written down as an
:class:`Issue` (source, record id, field, original value, value kept, reason).

:func:`build` is pure with respect to the database: it returns a :class:`Load`;
:func:`maillage.registry.store.apply_initial` writes it in one transaction.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process

from geo import fetch
from maillage.registry import dedupe, hours, location, mapping, standard
from maillage.settings import Settings

#: Bump when the mapping rules change, so that ``maillage data`` reloads.
ETL_VERSION = "1"
#: Sources of the initial load, best first (the first wins a merge).
SOURCES = ("france_services", "cnfs_lieux", "hub_antilles")
#: Short prefixes of the registry ids by source.
ID_PREFIX = {"france_services": "fs", "cnfs_lieux": "cnfs", "hub_antilles": "hub"}
#: Date of the France services list (it has no per-record update date).
FS_DATE = "2024-08-01"
#: Commit date of the Hub Antilles file, for its records without a date.
HUB_DATE = "2023-05-18"
#: Who wrote the places of the initial load.
LOADER = "chargement initial"

REJECTED, CORRECTED, MERGED, WARNED = "rejeté", "corrigé", "fusionné", "averti"


@dataclass(frozen=True)
class Issue:
    """One line of the import report."""

    action: str
    source: str
    record_id: str
    field: str
    original: str
    kept: str
    reason: str


@dataclass
class Record:
    """One source record on its way to the standard."""

    source: str
    record_id: str
    row: dict[str, str]
    issues: list[Issue] = field(default_factory=list)
    link_to: tuple[str, str] | None = None  # (source, record id) of a record it copies

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.record_id)

    def fix(self, name: str, original: object, kept: str, reason: str) -> None:
        """Record a correction of ``name`` and keep ``kept``."""
        self.issues.append(Issue(CORRECTED, self.source, self.record_id, name,
                                 _s(original), kept, reason))
        self.row[name] = kept


@dataclass
class Load:
    """The outcome of the initial load, before it is written."""

    rows: list[dict[str, str]]
    issues: list[Issue]
    n_input: int
    n_rejected: int
    n_merged: int
    fingerprint: str

    @property
    def n_imported(self) -> int:
        return len(self.rows)

    @property
    def n_corrected(self) -> int:
        return len({(i.source, i.record_id) for i in self.issues if i.action == CORRECTED})


def _s(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _empty_row() -> dict[str, str]:
    return dict.fromkeys(standard.fields() + standard.LOCAL_FIELDS, "")


# --------------------------------------------------------------------------- mapping


def _map_vocab(rec: Record, name: str, raw: str, table: tuple[tuple[str, str], ...],
               reason: str) -> None:
    """Map free text ``raw`` to field ``name`` and report the change."""
    raw = _s(raw)
    if not raw:
        return
    vocab = standard.vocabularies()[name]
    kept = standard.join(mapping.by_keywords(raw, table, vocab))
    if kept == raw:
        rec.row[name] = kept
        return
    rec.fix(name, raw, kept, reason if kept else
            "texte sans équivalent dans le vocabulaire du standard : non repris")


def _common(rec: Record, raw: dict, *, services: str, fees: str, programmes: str) -> None:
    """Mappings shared by every source: services, fees, programmes, phone, typology, host."""
    _map_vocab(rec, "services", services, mapping.SERVICE_KEYWORDS,
               "texte libre ramené au vocabulaire du standard par mots-clés")
    _map_vocab(rec, "frais_a_charge", fees, mapping.FEE_KEYWORDS,
               "conditions d'accès ramenées au vocabulaire « frais à charge »")
    progs = standard.join(mapping.by_keywords(programmes, mapping.PROGRAMME_KEYWORDS,
                                              standard.vocabularies()[
                                                  "dispositif_programmes_nationaux"]))
    others = standard.join(mapping.by_keywords(programmes, mapping.OTHER_LABEL_KEYWORDS))
    if _s(programmes) and _s(programmes) != progs:
        rec.fix("dispositif_programmes_nationaux", programmes, progs,
                "labels nationaux ramenés au vocabulaire des dispositifs"
                + (f" ; hors liste reportés en autres labels : {others}" if others else ""))
    else:
        rec.row["dispositif_programmes_nationaux"] = progs
    if others:
        rec.row["autres_formations_labels"] = standard.join(
            standard.split(rec.row["autres_formations_labels"]) + standard.split(others))
    tel = _s(raw.get("telephone"))
    if tel:
        kept = mapping.phone(tel) or ""
        if kept != tel:
            rec.fix("telephone", tel, kept, "mis au format international (+596…)" if kept
                    else "numéro illisible : non repris")
    if not rec.row["typologie"]:
        guess = mapping.typology(rec.row["nom"])
        if guess:
            rec.fix("typologie", "", standard.join(guess), "typologie déduite du nom du lieu")
    rec.row["host_type"] = mapping.host_type(rec.row["nom"], standard.split(rec.row["typologie"]))
    rec.row["kind"] = "lieu fixe"
    rec.row["possible_stop"] = "non"
    if not _s(rec.row["pivot"]):
        rec.fix("pivot", "", standard.PIVOT_UNKNOWN,
                "SIRET inconnu : valeur conventionnelle de la cartographie nationale")
    resume = rec.row["presentation_resume"]
    limit = standard.field("presentation_resume")["constraints"].get("maxLength", 280)
    if len(resume) > limit:
        if not rec.row["presentation_detail"]:
            rec.row["presentation_detail"] = resume
        rec.fix("presentation_resume", resume, resume[: limit - 1].rstrip() + "…",
                f"résumé de plus de {limit} caractères : abrégé, texte complet en présentation "
                "détaillée")
    if rec.row["horaires"]:
        problem = hours.check(rec.row["horaires"])
        if problem:
            rec.fix("horaires", rec.row["horaires"], "", problem + " : non repris")


def read_france_services(s: Settings) -> list[Record]:
    """France services list (CSV, one row per structure)."""
    text = fetch.text("france_services", s)
    out = []
    for raw in csv.DictReader(io.StringIO(text)):
        rec = Record("france_services", _s(raw["id_fs"]), _empty_row())
        r = rec.row
        r.update(
            nom=_s(raw["lib_fs"]), commune=_s(raw["lib_com"]), code_postal=_s(raw["code_postal"]),
            code_insee=_s(raw["insee_com"]), adresse=_s(raw["adresse"]),
            complement_adresse=_s(raw["complement_adresse"]), latitude=_s(raw["latitude"]),
            longitude=_s(raw["longitude"]), courriels=_s(raw["mail"]),
            source="ANCT – France services", typologie="MSAP",
            itinerance="Itinérant" if "bus" in raw["format_fs"].lower() else "Fixe",
            date_maj=FS_DATE,
            presentation_detail=_s(raw["commentaire"]), telephone=_s(raw["telephone"]),
        )
        _fs_hours(rec, raw)
        _common(rec, raw, services="", fees="Gratuit", programmes="France Services")
        out.append(rec)
    return out


def _fs_hours(rec: Record, raw: dict) -> None:
    days = {"Mo": "h_lundi", "Tu": "h_mardi", "We": "h_mercredi", "Th": "h_jeudi",
            "Fr": "h_vendredi", "Sa": "h_samedi"}
    by_day: dict[str, list[tuple[str, str]]] = {}
    original = []
    for day, col in days.items():
        text = _s(raw.get(col))
        if text:
            original.append(f"{col}={text}")
            by_day[day] = re.findall(r"(\d{2}:\d{2})\s*-\s*(\d{2}:\d{2})", text)
    if by_day:
        expr = hours.from_day_ranges(by_day)
        if hours.check(expr) is None:
            rec.fix("horaires", "; ".join(original), expr,
                    "horaires par jour convertis au format OpenStreetMap")


def read_cnfs(s: Settings) -> list[Record]:
    """Conseillers numériques permanences (JSON, national map format of 2022)."""
    out = []
    for raw in json.loads(fetch.text("cnfs_lieux", s)):
        rec = Record("cnfs_lieux", _s(raw["id"]), _empty_row())
        rec.row.update(
            nom=_s(raw["nom"]), commune=_s(raw["commune"]), code_postal=_s(raw["code_postal"]),
            adresse=_s(raw["adresse"]), latitude=_s(raw["latitude"]),
            longitude=_s(raw["longitude"]), courriels=_s(raw.get("courriel")),
            site_web=_s(raw.get("site_web")), horaires=_s(raw.get("horaires")),
            source=_s(raw.get("source")), date_maj=_s(raw.get("date_maj")),
            pivot=_s(raw.get("pivot")), telephone=_s(raw.get("telephone")),
        )
        _common(rec, raw, services=raw.get("services", ""), fees=raw.get("conditions_access", ""),
                programmes=raw.get("labels_nationaux", ""))
        out.append(rec)
    return out


_HUB_COPY = re.compile(
    r"^(?P<ref>[0-9a-f]{24}|\d+)-mediation-numerique-(?P<kind>conseiller-numerique|france-services)$"
)


def read_hub(s: Settings) -> list[Record]:
    """Mednum Hub Antilles inventory (JSON, raw input of the national standardiser)."""
    out = []
    for raw in json.loads(fetch.text("hub_antilles", s)):
        rec = Record("hub_antilles", _s(raw["id"]), _empty_row())
        pivot = _s(raw.get("pivot")) or _s(raw.get("pivot (siret ou rna)"))
        rec.row.update(
            nom=_s(raw["nom"]), commune=_s(raw["commune"]), code_postal=_s(raw["code_postal"]),
            code_insee=_s(raw.get("code_insee")), adresse=_s(raw["adresse"]),
            complement_adresse=_s(raw.get("complement_adresse")), latitude=_s(raw["latitude"]),
            longitude=_s(raw["longitude"]), courriels=_s(raw.get("courriel")),
            site_web=_s(raw.get("site_web")), horaires=_s(raw.get("horaires")),
            typologie=_s(raw.get("typologie")), source=_s(raw.get("source")) or "Hub Antilles",
            presentation_resume=_s(raw.get("presentation_resume")),
            presentation_detail=_s(raw.get("presentation_detail")),
            structure_parente=_s(raw.get("structure_parente")),
            fiche_acces_libre=_s(raw.get("accessibilite")), prise_rdv=_s(raw.get("prise_rdv")),
            date_maj=_s(raw.get("date_maj")), pivot=pivot, telephone=_s(raw.get("telephone")),
        )
        if len(rec.row["code_postal"]) == 4:
            rec.fix("code_postal", raw["code_postal"], "0" + rec.row["code_postal"],
                    "zéro initial perdu")
        if not rec.row["date_maj"]:
            rec.fix("date_maj", "", HUB_DATE, "date absente : date de publication du fichier")
        match = _HUB_COPY.match(rec.record_id)
        if match:
            src = "cnfs_lieux" if match["kind"] == "conseiller-numerique" else "france_services"
            rec.link_to = (src, match["ref"])
        publics = _s(raw.get("publics_accueillis"))
        _map_vocab(rec, "publics_specifiquement_adresses", publics, mapping.PUBLIC_KEYWORDS,
                   "publics accueillis ramenés au vocabulaire du standard")
        _map_vocab(rec, "prise_en_charge_specifique", publics, mapping.SUPPORT_KEYWORDS,
                   "besoins particuliers ramenés au vocabulaire du standard")
        _map_vocab(rec, "modalites_accompagnement", raw.get("modalites_accompagnement", ""),
                   mapping.MODALITY_KEYWORDS,
                   "modalités ramenées au vocabulaire du standard (« À ma place » sans équivalent)")
        programmes = ";".join(x for x in (_s(raw.get("labels_nationaux")),
                                          _s(raw.get("labels_autres"))) if x)
        _common(rec, raw, services=raw.get("services", ""), fees=raw.get("conditions_acces", ""),
                programmes=programmes)
        out.append(rec)
    return out


# --------------------------------------------------------------------------- geography


def _place(records: list[Record], isl: location.Island) -> tuple[list[Record], list[Issue]]:
    """Reject records without usable coordinates; fix commune names and INSEE codes."""
    names = location.commune_names(isl)
    kept: list[Record] = []
    rejected: list[Issue] = []
    lon = np.array([float(r.row["longitude"] or "nan") for r in records])
    lat = np.array([float(r.row["latitude"] or "nan") for r in records])
    valid = ~(np.isnan(lon) | np.isnan(lat))
    inside = np.zeros(len(records), dtype=bool)
    codes: list[str | None] = [None] * len(records)
    if valid.any():
        ins, cods = location.locate(lon[valid], lat[valid], isl)
        for k, i in enumerate(np.flatnonzero(valid)):
            inside[i], codes[i] = ins[k], cods[k]
    for i, rec in enumerate(records):
        if not valid[i]:
            rejected.append(Issue(REJECTED, rec.source, rec.record_id, "latitude/longitude", "",
                                  "", "ni adresse géocodée ni coordonnées : lieu impossible à "
                                  "placer (à géolocaliser à la main)"))
            continue
        if not inside[i]:
            rejected.append(Issue(
                REJECTED, rec.source, rec.record_id, "latitude/longitude",
                f"{lat[i]}, {lon[i]}", "", "coordonnées hors de la Martinique (géocodage "
                "erroné vers une commune homonyme) : à géolocaliser à la main"))
            continue
        _fix_commune(rec, codes[i], names)
        kept.append(rec)
    return kept, rejected


def _fix_commune(rec: Record, located: str | None, names: dict[str, str]) -> None:
    stated = rec.row["commune"]
    code = rec.row["code_insee"] if rec.row["code_insee"] in names else None
    if code is None and stated:
        choices = {c: dedupe.normalise_name(n) for c, n in names.items()}
        best = process.extractOne(dedupe.normalise_name(stated), choices, scorer=fuzz.ratio)
        if best and best[1] >= 80:
            code = best[2]
    code = code or located
    if code is None:
        return
    if names[code] != stated:
        rec.fix("commune", stated, names[code], "nom officiel de la commune (COG)")
    if rec.row["code_insee"] != code:
        rec.fix("code_insee", rec.row["code_insee"], code, "code INSEE de la commune déclarée")
    if located and located != code:
        rec.issues.append(Issue(WARNED, rec.source, rec.record_id, "commune", names[code],
                                names[code], f"le point est situé à {names[located]}, pas dans "
                                f"la commune déclarée {names[code]}"))


# --------------------------------------------------------------------------- merge


def _merge_rows(group: list[Record]) -> tuple[dict[str, str], list[Issue]]:
    """Fields of the best record; empty fields filled and vocabularies united from the others."""
    best = group[0]
    row = dict(best.row)
    issues: list[Issue] = []
    multi = set(standard.vocabularies())
    for other in group[1:]:
        for name, value in other.row.items():
            if not value or name in standard.LOCAL_FIELDS:
                continue
            if name == "pivot" and row["pivot"] == standard.PIVOT_UNKNOWN \
                    and value != standard.PIVOT_UNKNOWN:
                row["pivot"] = value
            elif name in multi:
                row[name] = standard.join(standard.split(row[name]) + standard.split(value))
            elif not row.get(name):
                row[name] = value
    if row["pivot"] != standard.PIVOT_UNKNOWN:
        for rec in group:
            if rec.row["pivot"] == standard.PIVOT_UNKNOWN:
                issues.append(Issue(CORRECTED, rec.source, rec.record_id, "pivot",
                                    _s(rec.issues and _original_pivot(rec)), row["pivot"],
                                    "SIRET repris de la fiche du même lieu "
                                    "(permanence conseiller numérique)"))
    row["origin"] = standard.join([f"{r.source}:{r.record_id}" for r in group])
    return row, issues


def _original_pivot(rec: Record) -> str:
    for i in rec.issues:
        if i.field == "pivot":
            return i.original
    return rec.row["pivot"]


def fingerprint(s: Settings) -> str:
    """Identity of the inputs and rules: unchanged fingerprint → nothing to reload."""
    parts = [ETL_VERSION] + [fetch.resolve(n, s).sha256 for n in SOURCES]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def build(s: Settings) -> Load:
    """Read, map, place, deduplicate and merge the three sources (no database access)."""
    records = read_france_services(s) + read_cnfs(s) + read_hub(s)
    n_input = len(records)
    isl = location.island(s)
    kept, rejected = _place(records, isl)
    rank = {src: k for k, src in enumerate(SOURCES)}
    by_key = {r.key: i for i, r in enumerate(kept)}
    names = [dedupe.normalise_name(r.row["nom"], r.row["commune"]) for r in kept]
    x, y = location.to_measure(np.array([float(r.row["longitude"]) for r in kept]),
                               np.array([float(r.row["latitude"]) for r in kept]))
    links, far = dedupe.candidate_links(names, [r.row["pivot"] for r in kept], x, y,
                                        standard.PIVOT_UNKNOWN)
    for i, r in enumerate(kept):
        if r.link_to and r.link_to in by_key:
            links.append(dedupe.Link(i, by_key[r.link_to],
                                     f"copie de la fiche {r.link_to[1]} de {r.link_to[0]}"))
    best_of = dedupe.groups(len(kept), links, [rank[r.source] for r in kept])
    reason_of = {lk.member: lk.reason for lk in links} | {lk.other: lk.reason for lk in links
                                                         if lk.other not in
                                                         {m.member for m in links}}
    issues: list[Issue] = list(rejected)
    rejected_keys = {(i.source, i.record_id) for i in rejected}
    for rec in records:
        if rec.key not in rejected_keys:  # a rejected record gets its rejection only
            issues.extend(rec.issues)
    for lk in far:
        a, b = kept[lk.member], kept[lk.other]
        issues.append(Issue(WARNED, a.source, a.record_id, "pivot", a.row["pivot"], a.row["pivot"],
                            f"{lk.reason} de {b.source}:{b.record_id} : lieux distincts conservés"))
    rows: list[dict[str, str]] = []
    n_merged = n_rejected_late = 0
    for head in sorted(set(best_of.values())):
        members = [head] + [i for i, b in best_of.items() if b == head and i != head]
        group = [kept[i] for i in members]
        row, merge_issues = _merge_rows(group)
        row["id"] = f"{ID_PREFIX[group[0].source]}-{group[0].record_id}"
        issues.extend(merge_issues)
        for i in members[1:]:
            n_merged += 1
            rec = kept[i]
            issues.append(Issue(MERGED, rec.source, rec.record_id, "id", rec.record_id, row["id"],
                                f"doublon fusionné dans {row['id']} : "
                                f"{reason_of.get(i, 'même groupe')}"))
        problems = standard.check_standard(row) + standard.check_local_rules(row)
        if problems:  # safety net: never store a row the import would refuse
            n_rejected_late += 1
            issues.append(Issue(REJECTED, group[0].source, group[0].record_id, "",
                                "", "", " ; ".join(problems)))
            continue
        rows.append(row)
    return Load(rows, issues, n_input, len(rejected) + n_rejected_late, n_merged,
                fingerprint(s))


def step(s: Settings, report: Callable[[str], None]) -> None:
    """``maillage data`` step: migrate the store and load the registry (idempotent)."""
    from sqlalchemy import make_url

    from maillage import db
    from maillage.registry import store

    db.migrate(s)
    r = store.apply_initial(build(s), s)
    state = "déjà à jour" if r["skipped"] else f"{r['added']} lieux ajoutés"
    where = make_url(s.db_url).render_as_string(hide_password=True)  # never the password
    report(f"Registre des lieux : {state} ({r['input']} fiches lues, {r['imported']} lieux, "
           f"{r['merged']} doublons fusionnés, {r['rejected']} rejetées) dans {where}")
