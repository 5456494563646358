"""The standard read from its schema, cell escaping, opening hours, deduplication rules."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from geo import fetch
from maillage.registry import csvio, dedupe, hours, mapping, standard


def test_fields_and_vocabularies_come_from_the_schema() -> None:
    schema = json.loads(fetch.text("schema"))
    assert list(standard.fields()) == [f["name"] for f in schema["fields"]]
    for name, vocab in standard.vocabularies().items():
        pattern = next(f for f in schema["fields"] if f["name"] == name)["constraints"]["pattern"]
        for value in vocab:  # every value matches the schema's own pattern, alone and joined
            assert re.fullmatch(pattern, value)
        assert re.fullmatch(pattern, standard.join(vocab))


def test_the_official_example_passes_the_standard_checks() -> None:
    row = next(csv.DictReader(io.StringIO(fetch.text("schema_example"))))
    assert standard.check_standard(row) == []


def test_a_bad_value_is_named_in_french() -> None:
    row = next(csv.DictReader(io.StringIO(fetch.text("schema_example"))))
    row["services"] = "Réparer des vélos"
    row["code_postal"] = "9720"
    messages = " ".join(standard.check_standard(row))
    assert "Réparer des vélos" in messages and "Code postal" in messages


@given(st.text(max_size=30))
def test_formula_escaping_is_lossless(value: str) -> None:
    assert csvio.unescape_cell(csvio.escape_cell(value)) == value


def test_formula_cells_are_neutralised_but_numbers_are_not() -> None:
    for bad in ("=cmd|' /C calc'!A0", "+HYPERLINK(1)", "-2+3", "@SUM(A1)", "\tx", "'=x"):
        assert csvio.escape_cell(bad).startswith("'")
    for fine in ("-61.0695", "+596596000000", "Mairie", ""):
        assert csvio.escape_cell(fine) == fine


def test_opening_hours_are_parsed_by_the_library() -> None:
    assert hours.check("Mo-Fr 08:00-12:00; Sa 09:00-12:00") is None
    assert hours.check("Tu 08:00-12:00-14:00") is not None
    monday_9 = datetime(2025, 1, 6, 9, 0)
    assert hours.is_open("Mo-Fr 08:00-12:00", monday_9) is True
    assert hours.is_open("Mo-Fr 08:00-12:00", monday_9.replace(hour=13)) is False
    assert hours.is_open("", monday_9) is None
    expr = hours.from_day_ranges({d: [("08:00", "12:00")] for d in ("Mo", "Tu", "We")})
    assert expr == "Mo-We 08:00-12:00" and hours.check(expr) is None


def test_phone_numbers_are_put_in_international_form() -> None:
    assert mapping.phone("0596 57 07 70") == "+596596570770"
    assert mapping.phone("596 74 11 05") == "+596596741105"
    assert mapping.phone("0596 52 30 23 demander poste 429") == "+596596523023"
    assert mapping.phone("n/a") is None


def _dedupe(names: list[str], sirets: list[str], xs: list[float]) -> dict[int, int]:
    norm = [dedupe.normalise_name(n, "Fort-de-France") for n in names]
    x = np.array(xs, dtype=float)
    links, _ = dedupe.candidate_links(norm, sirets, x, np.zeros_like(x))
    return dedupe.groups(len(names), links, list(range(len(names))))


def test_same_name_close_by_is_one_place_far_away_is_two() -> None:
    near = dedupe.NAME_MAX_M - 10
    far = dedupe.NAME_MAX_M + 50
    groups = _dedupe(["CYBER BASE de Fort-de-France", "Cyberbase", "Cyberbase"],
                     ["", "", ""], [0, near, near + far])
    assert groups[1] == 0 and groups[2] == 2


def test_same_siret_merges_unless_far_and_placeholder_never_merges() -> None:
    groups = _dedupe(["Mairie", "Cyber-base", "Médiathèque", "A", "B"],
                     ["21972213900017", "21972213900017", "21972213900017",
                      standard.PIVOT_UNKNOWN, standard.PIVOT_UNKNOWN],
                     [0, 200, dedupe.SIRET_MAX_M + 500, 5000, 5001])
    assert groups[1] == 0
    assert groups[2] == 2  # same SIRET but too far: two places
    assert groups[3] == 3 and groups[4] == 4  # different names, placeholder SIRET


def test_different_names_at_the_same_spot_stay_apart() -> None:
    groups = _dedupe(["CCAS du Lamentin", "Mission locale"], ["", ""], [0, 0])
    assert groups == {0: 0, 1: 1}


def test_typed_phones_are_stored_in_the_standards_international_form() -> None:
    import pytest

    from maillage.registry import entry
    from maillage.registry.errors import ValidationError

    pattern = standard.field("telephone")["constraints"]["pattern"]
    for typed in ("0596 52 00 00", "05 96 52 00 00", "0596.52.00.00", "+596 596 52 00 00",
                  "0696 12 34 56", "+33 1 80 05 98 80"):
        stored = entry.phone(typed)
        assert re.fullmatch(pattern, stored), (typed, stored)
        assert entry.phone(stored) == stored  # already in the standard's form: kept
    assert entry.phone("0596 52 00 00") == "+596596520000"
    for wrong in ("12", "0596", "bonjour", "0596 52 00 00 00 00"):
        with pytest.raises(ValidationError, match="n'est pas un numéro valide"):
            entry.phone(wrong)


def test_new_ids_are_made_from_the_name_and_never_reused() -> None:
    from maillage.registry import entry

    taken: set[str] = set()
    for _ in range(50):
        new = entry.new_id("Médiathèque « Aimé Césaire » — Schœlcher", taken)
        assert re.fullmatch(r"fed-mediatheque-aime-cesaire-sch\w*-[0-9a-f]{6}", new), new
        assert new not in taken
        taken.add(new)
    assert entry.new_id("", ()).startswith("fed-lieu-")


def test_an_unknown_pivot_is_the_national_placeholder_and_is_flagged() -> None:
    from maillage.registry import entry

    prepared = entry.prepare({"nom": "Chez Man Ya", "pivot": ""})
    assert prepared["pivot"] == standard.PIVOT_UNKNOWN
    assert standard.check_standard({**prepared, "commune": "Fort-de-France",
                                    "code_postal": "97200", "adresse": "1 rue X"}) == []
    assert standard.pivot_missing(prepared["pivot"]) and standard.pivot_missing("")
    assert not standard.pivot_missing("21972213900017")


def test_the_typology_follows_the_schema_no_refusal_only_warnings() -> None:
    spec = standard.field("typologie")
    assert "pattern" not in spec.get("constraints", {})  # the schema constrains nothing
    base = next(csv.DictReader(io.StringIO(fetch.text("schema_example"))))
    for value in ("CCAS,MUNI", "CCAS ; MUNI", "PAS_UN_CODE", "TIERS_LIEUX|ASSO"):
        assert standard.check_standard({**base, "typologie": value}) == []
        assert not [m for m in standard.check_local_rules({**base, "typologie": value})
                    if m.field == "typologie"]
    assert standard.check_warnings({"typologie": "TIERS_LIEUX|ASSO"}) == []
    (joined,) = standard.check_warnings({"typologie": "CCAS,MUNI"})
    assert "CCAS|MUNI" in joined and joined.field == "typologie"
    (unknown,) = standard.check_warnings({"typologie": "EPN|PAS_UN_CODE"})
    assert "« PAS_UN_CODE »" in unknown


def test_every_problem_names_its_field() -> None:
    base = next(csv.DictReader(io.StringIO(fetch.text("schema_example"))))
    bad = {**base, "code_postal": "9720", "services": "Réparer des vélos", "horaires": "x"}
    fields = {m.field for m in standard.check_standard(bad) + standard.check_local_rules(bad)}
    assert {"code_postal", "services", "horaires"} <= fields
