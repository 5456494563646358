"""The public face of the registry: places of help as anyone may see them.

Only the columns in :data:`PUBLIC_COLUMNS` ever leave this module: never the
internal notes, the origin of merged records, nor anything of the label workflow.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pandas as pd

from maillage.settings import Settings

#: Fields of the national standard shown to the public.
PUBLIC_COLUMNS: tuple[str, ...] = (
    "id", "nom", "commune", "code_postal", "code_insee", "adresse", "complement_adresse",
    "telephone", "courriels", "site_web", "horaires", "presentation_resume", "typologie",
    "services", "publics_specifiquement_adresses", "prise_en_charge_specifique",
    "frais_a_charge", "modalites_acces", "modalites_accompagnement", "fiche_acces_libre",
    "prise_rdv",
)
#: Multi-valued fields (joined with ``|`` in the registry).
LIST_COLUMNS = ("services", "publics_specifiquement_adresses", "prise_en_charge_specifique",
                "frais_a_charge", "modalites_acces", "modalites_accompagnement", "typologie",
                "courriels")
_SEP = "|"


def load(s: Settings | None = None) -> pd.DataFrame:
    """Fixed places of the registry with a position: public columns, ``lon`` and ``lat``."""
    from maillage.registry import store

    frame = store.places_frame(s, public=True)
    if "kind" in frame:
        frame = frame[frame["kind"].fillna("lieu fixe") == "lieu fixe"]
    out = pd.DataFrame({c: frame[c].fillna("").astype(str) if c in frame else ""
                        for c in PUBLIC_COLUMNS})
    out["lon"] = pd.to_numeric(frame.get("longitude"), errors="coerce")
    out["lat"] = pd.to_numeric(frame.get("latitude"), errors="coerce")
    out = out.dropna(subset=["lon", "lat"])
    return out.sort_values(["commune", "nom", "id"]).reset_index(drop=True)


def _one_line(text: str) -> str:
    return " ".join(str(text or "").split())


def split(value: str) -> list[str]:
    """A ``|``-joined field as a list."""
    return [v.strip() for v in str(value or "").split(_SEP) if v.strip()]


def phone_href(phone: str) -> str:
    """A ``tel:`` link target for a phone number (digits and a leading +), '' if none."""
    digits = re.sub(r"[^\d+]", "", str(phone or ""))
    return f"tel:{digits}" if len(digits.lstrip("+")) >= 6 else ""


def phone_display(phone: str) -> str:
    """``+596596675913`` → ``05 96 67 59 13`` (French local form), else as given."""
    digits = re.sub(r"\D", "", str(phone or ""))
    if digits.startswith("596") and len(digits) == 12:
        digits = "0" + digits[3:]
    if len(digits) == 10 and digits.startswith("0"):
        return " ".join(digits[i:i + 2] for i in range(0, 10, 2))
    return str(phone or "")


def safe_url(url: str) -> str:
    """``url`` when it is an http(s) link, else '' (never a ``javascript:`` link)."""
    url = str(url or "").strip()
    return url if re.match(r"^https?://[^\s<>\"']+$", url, re.IGNORECASE) else ""


def details(row: pd.Series | dict[str, Any], when: datetime | None = None) -> dict[str, Any]:
    """Everything the public sees about one place (plain text, not escaped), open now included."""
    from maillage.registry import hours

    r = dict(row)
    address = ", ".join(x for x in (r.get("adresse", ""), r.get("complement_adresse", ""),
                                    f"{r.get('code_postal', '')} {r.get('commune', '')}".strip())
                        if x)
    out: dict[str, Any] = {
        "id": r.get("id", ""), "nom": _one_line(r.get("nom", "")), "adresse": _one_line(address),
        "commune": r.get("commune", ""),
        "horaires": r.get("horaires", ""),
        "ouvert": hours.is_open(r.get("horaires") or None, when),
        "telephone": phone_display(r.get("telephone", "")),
        "tel": phone_href(r.get("telephone", "")),
        "site_web": safe_url(r.get("site_web", "")),
        "prise_rdv": safe_url(r.get("prise_rdv", "")),
        "fiche_acces_libre": safe_url(r.get("fiche_acces_libre", "")),
        "presentation": r.get("presentation_resume", ""),
        "lon": float(r.get("lon", "nan")), "lat": float(r.get("lat", "nan")),
    }
    for c in LIST_COLUMNS:
        out[c] = split(r.get(c, ""))
    return out


_DAYS_FR = {"Mo": "lun.", "Tu": "mar.", "We": "mer.", "Th": "jeu.", "Fr": "ven.", "Sa": "sam.",
            "Su": "dim.", "PH": "jours fériés", "off": "fermé", "closed": "fermé"}


def hours_fr(text: str) -> str:
    """OSM opening hours made readable in French.

    ``"Mo-Fr 08:00-12:00"`` → ``"lun.–ven. 08h00–12h00"``.
    A display aid only: days and separators are translated word by word; anything
    else is kept as written.
    """
    if not text:
        return ""
    out = re.sub(r"\b(Mo|Tu|We|Th|Fr|Sa|Su|PH|off|closed)\b", lambda m: _DAYS_FR[m.group(1)],
                 str(text))
    out = re.sub(r"(\d{2}):(\d{2})", r"\1h\2", out)
    out = re.sub(r"(?<=[.\d])-(?=[a-z\d])", "–", out)
    return out.replace(",", ", ").replace(";", " ;")
