"""Public face of the registry: only public fields, safe links, readable hours."""

from __future__ import annotations

from datetime import datetime

from geo import public_places


def test_public_columns_leave_out_internal_fields() -> None:
    private = {"notes", "origin", "label_status", "label_since", "labelled_on", "version"}
    assert not private & set(public_places.PUBLIC_COLUMNS)


def test_links_are_safe() -> None:
    assert public_places.phone_href("+596 596 67 59 13") == "tel:+596596675913"
    assert public_places.phone_href("n/a") == ""
    assert public_places.phone_display("+596596675913") == "05 96 67 59 13"
    assert public_places.safe_url("https://rdv.example.org/x?a=1") == "https://rdv.example.org/x?a=1"
    assert public_places.safe_url("javascript:alert(1)") == ""
    assert public_places.safe_url('https://x.org/"><script>') == ""


def test_hours_in_french() -> None:
    text = public_places.hours_fr("Mo-Fr 08:00-12:00; Sa 09:00-12:00")
    assert text == "lun.–ven. 08h00–12h00 ; sam. 09h00–12h00"


def test_details_split_lists_and_tell_open_now() -> None:
    row = {"id": "p1", "nom": "Cyber-base\n du bourg", "adresse": "1 rue A", "code_postal": "97200",
           "commune": "Fort-de-France", "horaires": "Mo-Fr 08:00-12:00",
           "services": "Aide aux démarches|Maîtrise des outils", "telephone": "0596000000",
           "prise_rdv": "javascript:alert(1)", "lon": -61.07, "lat": 14.6, "notes": "secret"}
    monday_10h = datetime(2026, 5, 4, 10, 0)
    sunday_10h = datetime(2026, 5, 3, 10, 0)
    d = public_places.details(row, monday_10h)
    assert d["nom"] == "Cyber-base du bourg"
    assert d["adresse"] == "1 rue A, 97200 Fort-de-France"
    assert d["services"] == ["Aide aux démarches", "Maîtrise des outils"]
    assert d["ouvert"] is True and public_places.details(row, sunday_10h)["ouvert"] is False
    assert d["prise_rdv"] == "" and d["tel"] == "tel:0596000000"
    assert "notes" not in d and "secret" not in str(d)
