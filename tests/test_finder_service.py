"""The finder service's seam with the van tours: next visits near a point."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pandas as pd

from maillage import finder, tour_store


def test_van_visits_soonest_stop_first(monkeypatch) -> None:
    tz = ZoneInfo("America/Martinique")
    calls = {}

    def fake_next_visits(after=None, *, near=None, radius_m=5000.0, limit=3, **_):
        calls.update(near=near, radius_m=radius_m, limit=limit)
        return pd.DataFrame({
            "stop_key": ["b", "a"], "stop_name": ["Mairie <b>", "Bourg"],
            "address": ["1 rue X", ""], "lon": [-61.0, -61.01], "lat": [14.6, 14.61],
            "starts_at": [pd.Timestamp("2026-05-05 09:00", tz=tz),
                          pd.Timestamp("2026-05-04 14:00", tz=tz)],
            "ends_at": [pd.Timestamp("2026-05-05 12:00", tz=tz),
                        pd.Timestamp("2026-05-04 16:00", tz=tz)],
            "distance_m": [1234.4, 250.6],
        })

    monkeypatch.setattr(tour_store, "next_visits", fake_next_visits)
    out = finder.van_visits(-61.0, 14.6, radius_m=3000, limit=1)
    assert calls == {"near": (-61.0, 14.6), "radius_m": 3000, "limit": 1}
    assert [v["lieu"] for v in out] == ["Bourg"]
    assert out[0]["debut"].startswith("2026-05-04T14:00") and out[0]["distance_m"] == 251
    both = finder.van_visits(-61.0, 14.6)
    assert [v["lieu"] for v in both] == ["Bourg", "Mairie <b>"]


def test_van_visits_unavailable_is_none(monkeypatch) -> None:
    def broken(*_a, **_k):
        raise tour_store.TourError("tables absentes")

    monkeypatch.setattr(tour_store, "next_visits", broken)
    assert finder.van_visits(-61.0, 14.6) is None
