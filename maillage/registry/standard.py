"""The national standard "lieux de médiation numérique" v1.0.2, read from its schema file.

Field order, required fields, patterns and the closed vocabularies all come from the
Table Schema JSON (``geo.fetch.resolve("schema")``) and the data·inclusion typologies,
so a new version of the standard changes the data, not this code. :func:`check_row`
validates one CSV row (all values as strings) and returns French messages; each is a
:class:`Problem` (a ``str``) naming its field, for the ``details`` of JSON refusals.
"""

from __future__ import annotations

import json
import re
from datetime import date
from functools import lru_cache

from geo import fetch
from maillage.db.models import COORD_SOURCES, HOST_TYPES, KINDS, LABEL_STATUSES

#: Separator of multiple values inside one cell.
SEP = "|"
#: Local columns that may follow the 32 standard columns in our CSV files.
LOCAL_FIELDS = (
    "label_status", "label_since", "labelled_on", "kind", "host_type", "possible_stop",
    "notes", "origin", "coord_source",
)
#: Local columns never shown to the public.
PRIVATE_FIELDS = ("notes", "origin")
#: Fields holding several values separated by ``|`` without a closed vocabulary.
OPEN_MULTI = ("typologie", "courriels", "site_web")
#: Martinique postal codes and INSEE codes.
POSTCODE_972 = re.compile(r"^972\d{2}$")
INSEE_972 = re.compile(r"^972(0[1-9]|[12]\d|3[0-4])$")
#: Longest cell accepted in any column (the longest real description is about 400).
MAX_CELL = 2000
#: The conventional "unknown" pivot of the national map (producers put it when a
#: place's SIRET or RNA is not known yet; the registry shows « SIRET à compléter »).
PIVOT_UNKNOWN = "00000000000000"


class Problem(str):
    """A French message about one row, naming the ``field`` it is about ('' for none)."""

    field: str

    def __new__(cls, message: str, field: str = "") -> Problem:
        obj = super().__new__(cls, message)
        obj.field = field
        return obj


def pivot_missing(pivot: str | None) -> bool:
    """Whether a place's SIRET/RNA is still to be found (empty or the placeholder)."""
    text = (pivot or "").strip()
    return not text or text == PIVOT_UNKNOWN

_VOCAB = re.compile(r"^\(\?:\(\?:\^\|\\\|\)\((?P<body>.*)\)\)\+\$$")


def schema_text() -> str:
    """The schema file as published (for validators such as frictionless)."""
    return fetch.text("schema")


@lru_cache(maxsize=1)
def schema() -> dict:
    """The Table Schema of the standard (parsed once)."""
    return json.loads(schema_text())


@lru_cache(maxsize=1)
def fields() -> tuple[str, ...]:
    """The 32 field names in schema order."""
    return tuple(f["name"] for f in schema()["fields"])


def field(name: str) -> dict:
    """The schema entry of one field."""
    return next(f for f in schema()["fields"] if f["name"] == name)


@lru_cache(maxsize=1)
def required() -> frozenset[str]:
    """Fields the standard requires."""
    return frozenset(
        f["name"] for f in schema()["fields"] if f.get("constraints", {}).get("required")
    )


def _vocabulary_of(pattern: str) -> tuple[str, ...] | None:
    match = _VOCAB.match(pattern)
    if not match:
        return None
    return tuple(v.replace("\\(", "(").replace("\\)", ")") for v in match["body"].split("|"))


@lru_cache(maxsize=1)
def vocabularies() -> dict[str, tuple[str, ...]]:
    """Closed vocabularies by field, read from the schema's patterns."""
    out: dict[str, tuple[str, ...]] = {}
    for f in schema()["fields"]:
        vocab = _vocabulary_of(f.get("constraints", {}).get("pattern", ""))
        if vocab:
            out[f["name"]] = vocab
    return out


@lru_cache(maxsize=1)
def typologies() -> dict[str, str]:
    """data·inclusion structure types: code → French label."""
    return {t["value"]: t["label"] for t in json.loads(fetch.text("typologies"))}


def multi_valued() -> tuple[str, ...]:
    """Every field whose cell may hold several ``|``-separated values."""
    return OPEN_MULTI + tuple(vocabularies())


def split(value: str | None) -> list[str]:
    """The values of a multi-valued cell (empty list for an empty cell)."""
    return [v.strip() for v in (value or "").split(SEP) if v.strip()]


def join(values: list[str] | tuple[str, ...]) -> str:
    """Join values in the standard's way, dropping duplicates and keeping order."""
    return SEP.join(dict.fromkeys(v for v in values if v))


def luhn_ok(digits: str) -> bool:
    """Luhn checksum of a SIREN/SIRET (La Poste's SIRETs are an allowed exception)."""
    if digits.startswith("356000000"):
        return True
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _check_vocab(name: str, value: str) -> list[str]:
    vocab = vocabularies()[name]
    bad = [v for v in split(value) if v not in vocab]
    if not bad:
        return []
    title = field(name)["title"]
    return [Problem(f"{title} : valeur inconnue « {b} » (valeurs permises : {', '.join(vocab)})",
                    name) for b in bad]


def _check_standard_field(name: str, value: str) -> list[str]:
    return [Problem(m, name) for m in _standard_field_messages(name, value)]


def _standard_field_messages(name: str, value: str) -> list[str]:
    spec = field(name)
    title = spec["title"]
    cons = spec.get("constraints", {})
    if not value:
        return [f"{title} ({name}) : champ obligatoire vide"] if cons.get("required") else []
    if name in vocabularies():
        return _check_vocab(name, value)
    errors: list[str] = []
    if spec["type"] == "number":
        try:
            float(value)
        except ValueError:
            errors.append(f"{title} : « {value} » n'est pas un nombre (séparateur décimal « . »)")
    if spec["type"] == "date":
        try:
            date.fromisoformat(value)
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError
        except ValueError:
            errors.append(f"{title} : « {value} » n'est pas une date AAAA-MM-JJ")
    pattern = cons.get("pattern")
    if pattern and not re.fullmatch(pattern, value):
        errors.append(f"{title} : « {value} » n'a pas le format attendu ({_hint(name)})")
    max_len = cons.get("maxLength")
    if max_len and len(value) > max_len:
        errors.append(f"{title} : {len(value)} caractères, {max_len} au plus")
    return errors


def _hint(name: str) -> str:
    return {
        "pivot": "SIRET à 14 chiffres, SIREN à 9 chiffres ou RNA",
        "code_postal": "5 chiffres",
        "code_insee": "code commune INSEE à 5 caractères",
        "telephone": "format international sans espace, par exemple +596596123456",
    }.get(name, "voir le schéma national")


def check_standard(row: dict[str, str]) -> list[str]:
    """French messages for every breach of the standard in one row (strings in)."""
    errors: list[str] = []
    for name in fields():
        errors += _check_standard_field(name, (row.get(name) or "").strip())
    return errors


def check_local_rules(row: dict[str, str]) -> list[str]:
    """Our rules on top of the standard: Martinique codes, SIRET checksum, hours, local fields.

    The typology is not among them: the schema puts no constraint on it, so its unknown
    codes are warnings (:func:`check_warnings`), never a refusal.
    """
    from maillage.registry import hours

    errors: list[str] = []
    get = lambda k: (row.get(k) or "").strip()  # noqa: E731

    def err(name: str, message: str) -> None:
        errors.append(Problem(message, name))

    if get("code_postal") and not POSTCODE_972.match(get("code_postal")):
        err("code_postal", f"Code postal : « {get('code_postal')} » n'est pas un code de "
                           "Martinique (972xx)")
    if get("code_insee") and not INSEE_972.match(get("code_insee")):
        err("code_insee", f"Code INSEE : « {get('code_insee')} » n'est pas une commune de "
                          "Martinique")
    pivot = get("pivot")
    if re.fullmatch(r"\d{14}", pivot) and not luhn_ok(pivot):
        err("pivot", f"SIRET : « {pivot} » a une clé de contrôle fausse (vérifiez les "
                     "chiffres, ou laissez le champ vide s'il n'est pas connu)")
    if get("horaires"):
        problem = hours.check(get("horaires"))
        if problem:
            err("horaires", f"Horaires : {problem}")
    if not get("latitude") or not get("longitude"):
        why = (row.get("_unplaced") or "").strip()  # set when the address was looked up
        err("latitude", "Coordonnées : latitude et longitude sont nécessaires pour placer le "
                        "lieu" + (f" ; {why}" if why else ""))
    for name, allowed, title in (
        ("label_status", LABEL_STATUSES, "Statut du label"),
        ("kind", KINDS, "Nature"),
        ("host_type", HOST_TYPES, "Type d'accueil"),
        ("coord_source", COORD_SOURCES, "Origine des coordonnées"),
    ):
        if get(name) and get(name) not in allowed:
            err(name, f"{title} : « {get(name)} » inconnu (valeurs permises : "
                      f"{', '.join(allowed)})")
    for name, title in (("label_since", "Date du statut"),
                        ("labelled_on", "Date de labellisation")):
        if get(name) and not _iso_date(get(name)):
            err(name, f"{title} : « {get(name)} » n'est pas une date AAAA-MM-JJ")
    if get("possible_stop") and get("possible_stop").lower() not in BOOL_WORDS:
        err("possible_stop", f"Arrêt possible : « {get('possible_stop')} » (attendu : oui ou "
                             "non)")
    for name, value in row.items():
        if not name.startswith("_") and len(value or "") > MAX_CELL:
            err(name, f"{name} : cellule de {len(value)} caractères, {MAX_CELL} au plus")
    return errors


#: Separators people use between typology codes instead of the standard's ``|``.
_OTHER_SEPARATORS = re.compile(r"\s*[,;]\s*")


def check_warnings(row: dict[str, str]) -> list[str]:
    """What the standard allows but a reader should look at: the typology's codes.

    The schema declares ``typologie`` a free string (no pattern) whose values should
    come from the data·inclusion typologies, several joined with ``|``: codes outside
    that list, or joined with ``,``/``;``, are accepted and worded here.
    """
    value = (row.get("typologie") or "").strip()
    if not value:
        return []
    out: list[str] = []
    parts = split(value)
    joined = [p for p in parts if _OTHER_SEPARATORS.search(p)]
    if joined:
        codes = [c for p in parts for c in _OTHER_SEPARATORS.split(p) if c]
        out.append(Problem(f"Typologie : « {value} » : le standard sépare les codes par « | » "
                           f"(par exemple « {join(codes)} »)", "typologie"))
    codes = [c for p in parts for c in _OTHER_SEPARATORS.split(p) if c]
    unknown = [c for c in codes if c not in typologies()]
    if unknown:
        out.append(Problem("Typologie : code(s) absent(s) des typologies data·inclusion "
                           + ", ".join(f"« {c} »" for c in unknown)
                           + " (par exemple CCAS, ASSO, MUNI) : enregistré(s) tel(s) quel(s)",
                           "typologie"))
    return out


def _iso_date(text: str) -> bool:
    """True for a real calendar date written AAAA-MM-JJ."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


#: Accepted spellings of booleans in local columns.
BOOL_WORDS = {"oui": True, "non": False, "true": True, "false": False, "1": True, "0": False}
