"""A place as a person types it, made into a row of the standard.

The coordinator of the Fédération fills a form, not a CSV: the identifier is made for
her (:func:`new_id`), a SIRET not known yet becomes the national placeholder
(:data:`standard.PIVOT_UNKNOWN`, shown « SIRET à compléter »), the phone is read as
people write it (« 0596 52 00 00 ») and stored in the international form the standard
asks for (:func:`phone`), the update date defaults to today. :func:`prepare` applies
all of it; :func:`maillage.registry.store.save_entry` then validates and saves.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Container
from datetime import date

import phonenumbers

from maillage.registry import standard
from maillage.registry.dedupe import strip_accents
from maillage.registry.errors import ValidationError

#: Prefix of the identifiers made by the registry (« fed »: typed at the Fédération).
ID_PREFIX = "fed"
#: Longest slug of the name kept in an identifier.
SLUG_MAX = 40
#: Region phones are read in when they carry no country code (Martinique).
PHONE_REGION = "MQ"


def slug(text: str) -> str:
    """Accent-free lower-case words joined by « - » (« Médiathèque du Lamentin » →
    « mediatheque-du-lamentin »), at most :data:`SLUG_MAX` characters."""
    words = re.sub(r"[^a-z0-9]+", " ", strip_accents(text or "").lower()).split()
    out = "-".join(words)[:SLUG_MAX].strip("-")
    return out or "lieu"


def new_id(name: str, taken: Container[str] = ()) -> str:
    """A new identifier ``fed-<slug of name>-<6 hex>``, not in ``taken``."""
    while True:
        candidate = f"{ID_PREFIX}-{slug(name)}-{secrets.token_hex(3)}"
        if candidate not in taken:
            return candidate


def phone(text: str) -> str:
    """The phone in the standard's international form (« +596596520000 »).

    Numbers already in that form are kept as they are; anything else is read as a
    Martinique number (``phonenumbers``, region ``MQ``) and must be a valid one, or a
    French :class:`ValidationError` names it.
    """
    raw = " ".join((text or "").split())
    if not raw:
        return ""
    pattern = standard.field("telephone").get("constraints", {}).get("pattern")
    if pattern and re.fullmatch(pattern, raw):
        return raw
    try:
        number = phonenumbers.parse(raw, PHONE_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError([(None, standard.Problem(
            f"Numéro de téléphone : « {raw} » n'est pas un numéro valide (écrivez-le par "
            "exemple « 0596 52 00 00 », « 0696 12 34 56 » ou « +33 1 80 05 98 80 »)",
            "telephone"))], what="La fiche")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def prepare(row: dict[str, str], taken: Container[str] = (), today: date | None = None
            ) -> dict[str, str]:
    """The typed ``row`` ready for validation: id, pivot, phone and date filled in.

    ``taken``: identifiers already used (a new place without id gets a fresh one).
    """
    out = {k: (v if isinstance(v, str) else "" if v is None else str(v)) for k, v in row.items()}
    if not out.get("id", "").strip():
        out["id"] = new_id(out.get("nom", ""), taken)
    out["pivot"] = re.sub(r"[\s.]", "", out.get("pivot", ""))  # « 219 722 139 00017 »
    if not out["pivot"]:
        out["pivot"] = standard.PIVOT_UNKNOWN
    if out.get("telephone", "").strip():
        out["telephone"] = phone(out["telephone"])
    if not out.get("date_maj", "").strip():
        out["date_maj"] = (today or date.today()).isoformat()
    return out
