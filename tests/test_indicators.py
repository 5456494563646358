"""Pure aggregation of the indicators: EPCI = sum of communes, levels, means, ratios, registry."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from analysis import indicators as ind

TODAY = date(2026, 6, 15)


def _communes() -> pd.DataFrame:
    """Six made-up communes in three EPCI."""
    return pd.DataFrame({
        "code_insee": ["97201", "97202", "97203", "97204", "97205", "97206"],
        "nom": ["A", "B", "C", "D", "E", "F"],
        "epci_court": ["Nord", "Nord", "Centre", "Sud", "Sud", "Sud"],
    })


def _random_table(seed: int) -> pd.DataFrame:
    """Random figures of every recordable indicator, some without commune."""
    rng = np.random.default_rng(seed)
    codes = [*_communes()["code_insee"], ""]
    rows = []
    for spec in ind.INDICATORS.values():
        if not spec.recordable:
            continue
        for _ in range(40):
            month = pd.Timestamp(int(rng.choice([2025, 2026])), int(rng.integers(1, 13)), 1)
            code = str(rng.choice(codes if spec.scope == "any" else codes[:-1]))
            dim = str(rng.choice(spec.dimensions)) if spec.dimensions else ""
            place = f"lieu-{rng.integers(0, 5)}" if spec.scope == "place" else ""
            value = (float(rng.uniform(1, 5)) if spec.kind == "mean"
                     else float(rng.integers(0, 50)))
            rows.append((spec.key, month, code, place, dim, value))
    df = pd.DataFrame(rows, columns=ind.COLUMNS)
    df = df.drop_duplicates(subset=["indicator", "period", "code_insee", "place_id",
                                    "dimension"])
    return ind.normalise(df)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_totals_by_epci_equal_the_sum_of_their_communes(seed: int) -> None:
    df = _random_table(seed)
    communes = _communes()
    start, end = ind.year_window(2026, TODAY)
    checked = 0
    for spec in ind.INDICATORS.values():
        if spec.kind not in ("flow", "stock") or not ind.has_data(df, spec.key):
            continue
        by_commune = ind.by_area(df, spec.key, communes, "commune", start, end)
        by_epci = ind.by_area(df, spec.key, communes, "epci", start, end)
        summed = by_commune.groupby("epci_court")["value"].sum()
        assert by_epci.set_index("epci_court")["value"].to_dict() == pytest.approx(
            summed.to_dict())
        # The island also counts what was recorded without a commune.
        unassigned = df[df["code_insee"] == ""]
        island = ind.total(df, spec.key, start, end)
        assert island == pytest.approx(summed.sum() + ind.total(unassigned, spec.key, start,
                                                                  end))
        assert by_epci["value"].sum() > 0 or island == 0
        checked += 1
    assert checked >= 10


def test_a_flow_sums_the_months_of_the_year_only() -> None:
    df = _random_table(7)
    start, end = ind.year_window(2026, TODAY)
    sub = df[(df["indicator"] == "workshops_held") & (df["period"] >= start)
             & (df["period"] <= end)]
    assert ind.total(df, "workshops_held", start, end) == pytest.approx(sub["value"].sum())
    months = ind.monthly(df, "workshops_held", start, end)
    assert len(months) == TODAY.month
    assert months["value"].sum() == pytest.approx(sub["value"].sum())


def test_a_level_keeps_the_last_value_of_each_series_and_carries_it_forward() -> None:
    rows = [("mediators_active", "2025-11-01", "", "", "banque", 4.0),
            ("mediators_active", "2026-02-01", "", "", "banque", 6.0),
            ("mediators_active", "2026-04-01", "", "", "banque", 5.0),
            ("mediators_active", "2025-12-01", "", "", "assurance", 2.0)]
    df = ind.normalise(pd.DataFrame(rows, columns=ind.COLUMNS))
    start, end = ind.year_window(2026, TODAY)
    last = {}
    for *_, dim, value in sorted(rows, key=lambda r: r[1]):
        last[dim] = value
    assert ind.total(df, "mediators_active", start, end) == sum(last.values())
    months = ind.monthly(df, "mediators_active", start, end).set_index("period")["value"]
    # January: nothing new in 2026 yet, the 2025 levels still hold.
    jan = {r[4]: r[5] for r in sorted(rows, key=lambda r: r[1]) if r[1] < "2026-01-02"}
    assert months.iloc[0] == sum(jan.values())
    assert months.iloc[-1] == sum(last.values())


def test_the_rating_is_weighted_by_responses_and_the_share_comes_from_its_parts() -> None:
    rows = []
    responses = {"chat": 10.0, "vidéo": 30.0}
    rating = {"chat": 2.0, "vidéo": 5.0}
    satisfied = {"chat": 3.0, "vidéo": 27.0}
    for ch in responses:
        rows += [("remote_responses", "2026-03-01", "", "", ch, responses[ch]),
                 ("remote_rating", "2026-03-01", "", "", ch, rating[ch]),
                 ("remote_satisfied", "2026-03-01", "", "", ch, satisfied[ch])]
    df = ind.normalise(pd.DataFrame(rows, columns=ind.COLUMNS))
    start, end = ind.year_window(2026, TODAY)
    weighted = sum(rating[c] * responses[c] for c in responses) / sum(responses.values())
    assert ind.total(df, "remote_rating", start, end) == pytest.approx(weighted)
    share = 100 * sum(satisfied.values()) / sum(responses.values())
    assert ind.total(df, "remote_satisfied_share", start, end) == pytest.approx(share)
    by_dim = ind.by_dimension(df, "remote_satisfied_share", start, end).set_index("dimension")
    assert by_dim.loc["chat", "value"] == pytest.approx(100 * satisfied["chat"]
                                                        / responses["chat"])
    assert np.isnan(by_dim.loc["téléphone", "value"])  # no data: not 0 %


def test_labelled_places_follow_the_registry_history() -> None:
    places = pd.DataFrame({
        "place_id": ["a", "b", "c", "d"], "code_insee": ["97201", "97201", "97204", ""],
        "label_status": ["labellisé", "retiré", "labellisé", None],
        "since": [date(2025, 3, 1), date(2026, 2, 10), date(2024, 1, 1), date(2024, 1, 1)],
    })
    events = pd.DataFrame({
        "place_id": ["a", "b", "b"],
        "at": pd.to_datetime(["2026-01-20", "2025-05-02", "2026-02-10"], utc=True),
        "to_status": ["labellisé", "labellisé", "retiré"],
    })
    df = ind.labelled_series(places, events, TODAY)
    start, end = ind.year_window(2026, TODAY)
    current = int((places["label_status"] == "labellisé").sum())
    assert ind.total(df, "places_labelled", start, end) == current
    months = ind.monthly(df, "places_labelled", start, end).set_index("period")["value"]
    # January 2026: b (labelled since 2025-05), c (no history, since 2024) and a (20 Jan).
    assert months.loc[pd.Timestamp(2026, 1, 1)] == 3
    # February: b was withdrawn.
    assert months.loc[pd.Timestamp(2026, 2, 1)] == 2
    assert months.iloc[-1] == current


def test_summary_compares_with_the_target() -> None:
    df = _random_table(11)
    targets = pd.DataFrame({"indicator": ["workshops_held"], "year": [2026], "scope": [""],
                            "value": [500.0]})
    table = ind.summary(df, targets, 2026, today=TODAY).set_index("indicator")
    start, end = ind.year_window(2026, TODAY)
    value = ind.total(df, "workshops_held", start, end)
    assert table.loc["workshops_held", "progress"] == pytest.approx(100 * value / 500)
    assert np.isnan(table.loc["devices_collected", "target"])
    assert np.isnan(table.loc["devices_collected", "progress"])  # no target, no progress
