"""The finder's cards and actions: directions to the place, the phone first without hours,
everything escaped; the van's next visits never read « nan »."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser

import numpy as np
import pandas as pd

from ui import trouver

ORIGIN = (-61.069126, 14.603344)


def _place(**kw) -> dict:
    p = {"id": "p1", "rang": 1, "nom": "Cyber <b>base</b> (Bourg) & co", "adresse": "Bourg",
         "tel": "tel:0596123456", "telephone": "05 96 12 34 56", "prise_rdv": None,
         "site_web": "https://exemple.org/?a=1&b=2", "ouvert": None,
         "lon": -61.0702, "lat": 14.6002,
         "a_pied": {"minutes": 4, "metres": 300}, "en_voiture": {"minutes": 2, "metres": 500}}
    p.update(kw)
    return p


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._href, self._text = dict(attrs)["href"], ""

    def handle_data(self, data):
        if self._href is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append((self._href, self._text))
            self._href = None


def _links(html_text: str) -> list[tuple[str, str]]:
    parser = _Links()
    parser.feed(html_text)
    return parser.links


def test_without_hours_the_phone_comes_first_then_the_directions() -> None:
    links = _links(trouver.actions(_place(), ORIGIN))
    hrefs = [h for h, _ in links]
    assert hrefs[0] == "tel:0596123456" and "05 96 12 34 56" in links[0][1]
    walk, drive = (h for h in hrefs if h.startswith("https://www.openstreetmap.org/"))
    assert walk == ("https://www.openstreetmap.org/directions?engine=fossgis_osrm_foot"
                    "&route=14.603344,-61.069126;14.600200,-61.070200")
    assert drive == walk.replace("fossgis_osrm_foot", "fossgis_osrm_car")
    geo = next(h for h in hrefs if h.startswith("geo:"))
    assert geo.startswith("geo:14.600200,-61.070200?q=14.600200,-61.070200(")
    # the name is percent-encoded: its parentheses cannot end the label early
    label = geo[geo.index("(") + 1:-1]
    assert "(" not in label and ")" not in label and "<" not in label and " " not in label
    assert hrefs[-1] == "https://exemple.org/?a=1&b=2"


def test_with_hours_the_directions_come_first_and_the_card_has_no_call() -> None:
    p = _place(ouvert=True)
    hrefs = [h for h, _ in _links(trouver.actions(p, ORIGIN))]
    assert hrefs[0].startswith("https://www.openstreetmap.org/directions")
    assert "tel:0596123456" in hrefs
    assert not [h for h, _ in _links(trouver.card(p)) if h.startswith("tel:")]
    unknown = _links(trouver.card(_place()))
    assert [h for h, _ in unknown] == ["tel:0596123456"]  # hours unknown: call from the card


def test_actions_are_escaped() -> None:
    out = trouver.actions(_place(), ORIGIN)
    assert "<b>" not in out and "&b=2" not in out and "&amp;b=2" in out
    assert "&route=" not in out and "&amp;route=" in out
    assert re.search(r'href="geo:[^"]*"', out)


def test_no_position_no_directions_and_no_phone_no_call() -> None:
    p = _place(lon=float("nan"), tel="", telephone="", site_web=None)
    assert trouver.actions(p, ORIGIN) == ""
    hrefs = [h for h, _ in _links(trouver.actions(_place(tel="", telephone=""), None))]
    assert [h[:4] for h in hrefs] == ["geo:", "http"]  # no start: the maps app only


def test_van_visits_never_show_nan(monkeypatch) -> None:
    from maillage import finder, tour_store

    start = datetime(2026, 5, 4, 9, 30, tzinfo=timezone(timedelta(hours=-4)))
    rows = pd.DataFrame({"stop_name": ["Bourg", "Anse"], "address": [np.nan, None],
                         "starts_at": [start, start + timedelta(days=1)],
                         "ends_at": [start + timedelta(hours=2)] * 2,
                         "distance_m": [3.2, 40.0], "lon": [-61.0, -61.1],
                         "lat": [14.6, 14.7]})
    monkeypatch.setattr(tour_store, "next_visits", lambda *a, **k: rows)
    visits = finder.van_visits(-61.0, 14.6)
    assert [v["adresse"] for v in visits] == ["", ""]
    assert [v["lieu"] for v in visits] == ["Bourg", "Anse"]
