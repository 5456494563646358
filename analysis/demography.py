"""Population profile of each commune and EPCI, aggregated from the 200 m grid.

Shares (65+, 80+, poor households) come from the Filosofi grid (fiscal population
2017), the population and density from the populations légales 2023, and the
fragility score is the IRIS score averaged over the commune's grid population.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

_SUMS = ["population", "seniors", "age_80p", "poor_households", "households"]


@dataclass(frozen=True)
class Indicator:
    """A commune indicator the home map can shade by."""

    key: str
    label: str
    column: str
    unit: str  # "hab", "hab/km²", "%", "score"


INDICATORS: dict[str, Indicator] = {
    i.key: i
    for i in (
        Indicator("population", "Population municipale 2023", "population", "hab"),
        Indicator("density", "Densité de population", "density", "hab/km²"),
        Indicator("share_65p", "Part des 65 ans et plus", "share_65p", "%"),
        Indicator("share_80p", "Part des 80 ans et plus", "share_80p", "%"),
        Indicator("poor_share", "Part des ménages pauvres", "poor_share", "%"),
        Indicator("fragility", "Indice de fragilité numérique", "fragility", "score"),
    )
}


def _weighted_mean(values: pd.Series, weights: pd.Series, keys: pd.Series) -> pd.Series:
    ok = values.notna() & (weights > 0)
    num = (values[ok] * weights[ok]).groupby(keys[ok]).sum()
    den = weights[ok].groupby(keys[ok]).sum()
    return num / den


def _shares(df: pd.DataFrame) -> pd.DataFrame:
    with np.errstate(divide="ignore", invalid="ignore"):
        df["share_65p"] = 100 * df["seniors"] / df["grid_population"]
        df["share_80p"] = 100 * df["age_80p"] / df["grid_population"]
        df["poor_share"] = 100 * df["poor_households"] / df["households"]
    return df


def commune_profile(communes: pd.DataFrame, grid: pd.DataFrame,
                    fragility: pd.Series | None = None) -> pd.DataFrame:
    """One row per commune: legal population, density, grid sums, shares and fragility.

    ``fragility`` is the IRIS score of each grid cell (same index as ``grid``).
    """
    sums = grid.groupby("code_insee")[_SUMS].sum().rename(
        columns={"population": "grid_population"}
    )
    base = pd.DataFrame(communes.drop(columns="geometry", errors="ignore"))
    df = base.merge(sums, left_on="code_insee", right_index=True, how="left")
    df[sums.columns] = df[sums.columns].fillna(0.0)
    if fragility is not None:
        frag = _weighted_mean(fragility, grid["population"], grid["code_insee"])
        df["fragility"] = df["code_insee"].map(frag)
    else:
        df["fragility"] = np.nan
    return _shares(df)


def epci_profile(profile: pd.DataFrame) -> pd.DataFrame:
    """The same profile summed over each EPCI (shares recomputed from the sums)."""
    cols = ["population", "area_km2", "grid_population", *_SUMS[1:]]
    df = profile.groupby(["epci_siren", "epci_court"], as_index=False)[cols].sum()
    df["density"] = df["population"] / df["area_km2"]
    weights = profile["grid_population"]
    frag = _weighted_mean(profile["fragility"], weights, profile["epci_siren"])
    df["fragility"] = df["epci_siren"].map(frag)
    return _shares(df)


def island_profile(profile: pd.DataFrame) -> dict[str, float]:
    """Key figures for the whole island."""
    total = profile[["population", "area_km2", "grid_population", *_SUMS[1:]]].sum()
    out = _shares(total.to_frame().T).iloc[0].to_dict()
    out["density"] = out["population"] / out["area_km2"]
    w = profile["grid_population"]
    ok = profile["fragility"].notna()
    out["fragility"] = float((profile.loc[ok, "fragility"] * w[ok]).sum() / w[ok].sum()) \
        if ok.any() else float("nan")
    out["n_communes"] = float(len(profile))
    return out
