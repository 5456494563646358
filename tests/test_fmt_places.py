"""French place names after « de » and « à », and text cells that never read « nan »."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from maillage import fmt


@pytest.mark.parametrize(("name", "de", "a"), [
    ("Le Prêcheur", "du Prêcheur", "au Prêcheur"),
    ("Les Anses-d'Arlet", "des Anses-d'Arlet", "aux Anses-d'Arlet"),
    ("La Trinité", "de La Trinité", "à La Trinité"),
    ("L'Ajoupa-Bouillon", "de L'Ajoupa-Bouillon", "à L'Ajoupa-Bouillon"),
    ("Sainte-Anne", "de Sainte-Anne", "à Sainte-Anne"),
    ("Ajoupa", "d'Ajoupa", "à Ajoupa"),
])
def test_articles_contract(name: str, de: str, a: str) -> None:
    assert fmt.de(name) == de
    assert fmt.a(name) == a


@pytest.mark.parametrize("value", [None, math.nan, float("nan"), pd.NA, pd.NaT, "  "])
def test_missing_text_is_empty(value) -> None:
    assert fmt.text(value) == ""


def test_text_is_kept() -> None:
    assert fmt.text(" Bourg ") == "Bourg"
    assert fmt.text(12) == "12"
