"""Tiny place rows built by the tests (never copied from the mirror)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from maillage.registry import standard
from maillage.settings import Settings


def settings_with_db(base: Settings, tmp_path: Path) -> Settings:
    """``base`` (its data folder keeps the commune layer) with a private SQLite file."""
    return replace(base, database_url=f"sqlite:///{tmp_path / 'test.db'}")


def row(**values: str) -> dict[str, str]:
    """A valid place in Fort-de-France; override any field."""
    r = dict.fromkeys(standard.fields() + standard.LOCAL_FIELDS, "")
    r.update(
        id="test-1", pivot="21972213900017", nom="Cyber-base de test",
        commune="Fort-de-France", code_postal="97200", code_insee="97209",
        adresse="1 rue Victor Hugo", latitude="14.6065", longitude="-61.0695",
        typologie="EPN|MUNI", telephone="+596596000000", date_maj="2025-01-15",
        services="Aide aux démarches administratives|Maîtrise des outils numériques du quotidien",
        publics_specifiquement_adresses="Seniors", frais_a_charge="Gratuit",
        horaires="Mo-Fr 08:00-12:00", itinerance="Fixe", kind="lieu fixe",
        host_type="service public", possible_stop="non",
    )
    r.update(values)
    return r
