"""Address search: typos, accents, house numbers, ranking, and the French "not found" message."""

from __future__ import annotations

import pandas as pd
import pytest
from shapely.geometry import Point, Polygon, box

from analysis import geocode

STREETS = [
    # label, voie, commune, lon, lat, numbers {numero: (lon, lat)}
    ("Rue Victor Hugo, 97200 Fort-de-France", "Rue Victor Hugo", "Fort-de-France",
     -61.07, 14.60, {"10": (-61.0701, 14.6001), "12": (-61.0702, 14.6002),
                     "12BIS": (-61.0703, 14.6003)}),
    ("Rue Victor Hugo, 97224 Ducos", "Rue Victor Hugo", "Ducos", -60.97, 14.57,
     {"3": (-60.9701, 14.5701)}),
    ("Rue Victor Schoelcher, 97213 Gros-Morne", "Rue Victor Schoelcher", "Gros-Morne",
     -61.00, 14.71, {"2": (-61.0001, 14.7101), "40": (-61.0040, 14.7140)}),
    ("Rue du 22 Mai, 97218 Basse-Pointe", "Rue du 22 Mai", "Basse-Pointe", -61.11, 14.87,
     {"5": (-61.1101, 14.8701)}),
    ("Boulevard Général de Gaulle, 97200 Fort-de-France", "Boulevard Général de Gaulle",
     "Fort-de-France", -61.068, 14.605, {"5": (-61.0681, 14.6051)}),
]
COMMUNES = [("Schœlcher", -61.09, 14.61), ("Le Lamentin", -60.99, 14.61),
            ("Les Trois-Îlets", -61.04, 14.54)]


@pytest.fixture(scope="module")
def index() -> geocode.Index:
    rows, numbers = [], []
    for i, (label, voie, commune, lon, lat, nums) in enumerate(STREETS):
        rows.append({"label": label, "text": voie, "context": commune, "kind": "street",
                     "lon": lon, "lat": lat, "weight": len(nums)})
        for n, (x, y) in nums.items():
            numbers.append({"entry": i, "numero": n, "lon": x, "lat": y,
                            "label": f"{n} {voie}, {commune}"})
    for name, lon, lat in COMMUNES:
        rows.append({"label": f"{name} (commune)", "text": name, "context": "mairie",
                     "kind": "commune", "lon": lon, "lat": lat, "weight": 0})
    rows.append({"label": "Cyber-base du Lamentin — Le Lamentin", "text": "Cyber-base du Lamentin",
                 "context": "Le Lamentin", "kind": "place", "lon": -60.995, "lat": 14.612,
                 "ref": "cyber-1", "weight": 0})
    return geocode.build(pd.DataFrame(rows), pd.DataFrame(numbers))


def test_normalize_folds_accents_ligatures_punctuation_and_abbreviations() -> None:
    assert geocode.normalize("Schœlcher") == geocode.normalize("schoelcher") == "schoelcher"
    assert geocode.normalize("Les Trois-Îlets") == "les trois ilets"
    assert geocode.normalize("Bd Général-de-Gaulle, 97200") == "boulevard general de gaulle"


@pytest.mark.parametrize(("query", "number", "rest"), [
    ("12 rue Victor Hugo", "12", "rue victor hugo"),
    ("12bis, rue Victor Hugo", "12bis", "rue victor hugo"),
    ("12 BIS rue Victor Hugo", "12bis", "rue victor hugo"),
    ("rue Victor Hugo", None, "rue victor hugo"),
    ("97200", None, ""),
])
def test_split_number(query: str, number: str | None, rest: str) -> None:
    assert geocode.split_number(query) == (number, rest)


def test_exact_house_number_gives_the_address_point(index: geocode.Index) -> None:
    hit = geocode.search(index, "12 rue Victor Hugo Fort-de-France")[0]
    assert (hit.kind, hit.lon, hit.lat) == ("address", -61.0702, 14.6002)
    assert hit.label.startswith("12 Rue Victor Hugo")
    bis = geocode.search(index, "12 bis rue victor hugo fort de france")[0]
    assert (bis.lon, bis.lat) == (-61.0703, 14.6003)


@pytest.mark.parametrize("query", [
    "12 rue victr hugo fort de france",      # missing letter
    "12 rue victor hugp fort-de-france",     # wrong letter
    "12 RUE VICTOR HUGO FORT DE FRANCE",     # capitals
    "12, r. Victor-Hugo, 97200 Fort de France",  # punctuation, abbreviation, postcode
])
def test_typos_and_formatting_still_find_the_address(index: geocode.Index, query: str) -> None:
    hit = geocode.search(index, query)[0]
    assert (hit.kind, hit.lon, hit.lat) == ("address", -61.0702, 14.6002)


def test_accents_are_optional_both_ways(index: geocode.Index) -> None:
    assert geocode.search(index, "schoelcher")[0].label == "Schœlcher (commune)"
    assert geocode.search(index, "Schœlcher")[0].label == "Schœlcher (commune)"
    assert geocode.search(index, "trois ilets")[0].label == "Les Trois-Îlets (commune)"
    assert geocode.search(index, "5 bd general de gaulle")[0].kind == "address"


def test_commune_disambiguates_homonymous_streets(index: geocode.Index) -> None:
    assert geocode.search(index, "rue victor hugo ducos")[0].label.endswith("Ducos")
    assert geocode.search(index, "rue victor hugo fort de france")[0].label.endswith(
        "Fort-de-France")


def test_missing_number_falls_back_to_the_nearest_number(index: geocode.Index) -> None:
    hit = geocode.search(index, "30 rue victor schoelcher gros morne")[0]
    assert hit.kind == "street"
    assert (hit.lon, hit.lat) == (-61.0040, 14.7140)  # number 40 is nearer to 30 than 2
    assert "30" in hit.note and "40" in hit.note


def test_number_inside_a_street_name(index: geocode.Index) -> None:
    assert geocode.search(index, "rue du 22 mai")[0].label.startswith("Rue du 22 Mai")


def test_prefix_while_typing_and_place_names(index: geocode.Index) -> None:
    labels = [h.label for h in geocode.search(index, "rue vic")]
    assert labels and all("Victor" in label for label in labels[:3])
    hit = geocode.search(index, "cyber base lamentin")[0]
    assert (hit.kind, hit.ref) == ("place", "cyber-1")
    assert geocode.search(index, "mairie du lamentin")[0].label == "Le Lamentin (commune)"


def test_scores_are_sorted_and_limited(index: geocode.Index) -> None:
    hits = geocode.search(index, "rue victor", limit=2)
    assert len(hits) == 2
    assert hits[0].score >= hits[1].score


def test_nothing_similar_gives_a_french_error(index: geocode.Index) -> None:
    assert geocode.search(index, "xyzzy qwerty") == []
    with pytest.raises(geocode.AddressNotFound, match="Adresse introuvable : « xyzzy qwerty »"):
        geocode.locate(index, "xyzzy qwerty")
    with pytest.raises(geocode.AddressNotFound, match="Saisissez une adresse"):
        geocode.locate(index, "  ,, ")


def test_real_index_finds_a_real_address(real_settings) -> None:
    """The BANO file of the mirror: a drawn address is found back at its own point."""
    from geo import addresses, communes

    communes.build(real_settings)
    addr = addresses.load(real_settings)
    assert len(addr) > 40_000 and addr["code_insee"].str.startswith("972").all()
    idx = addresses.index(real_settings)
    sample = addresses.random_sample(addr, 20, seed=3)
    found = 0
    for _, row in sample.iterrows():
        hit = geocode.search(idx, row["query"], limit=1)[0]
        found += (hit.kind == "address" and abs(hit.lon - row["lon"]) < 1e-9
                  and abs(hit.lat - row["lat"]) < 1e-9)
    # BANO repeats a few (number, street, commune) triples: allow one miss in 20
    assert found >= 19


# ----------------------------------------------------------------------------- communes


def _square(x0: float, y0: float, size: float = 0.02):
    return box(x0, y0, x0 + size, y0 + size)


def test_commune_starts_at_its_town_hall() -> None:
    outline = _square(-61.23, 14.79)
    lon, lat, at_hall, note = geocode.commune_start("Le Prêcheur", (-61.224, 14.801), outline)
    assert (lon, lat, at_hall) == (-61.224, 14.801, True)
    assert note == "Départ : mairie du Prêcheur"
    # on the simplified coastline, a town hall a few metres off the outline still counts
    _, _, at_hall, _ = geocode.commune_start("Sainte-Anne", (-61.2305, 14.80), outline)
    assert at_hall


def test_a_town_hall_in_the_neighbouring_commune_is_not_the_start() -> None:
    outline = _square(-61.16, 14.84)
    neighbour_hall = (-61.1145, 14.8698)  # about 2 km east of the outline
    assert outline.distance(Point(*neighbour_hall)) > 0.01
    lon, lat, at_hall, note = geocode.commune_start("Macouba", neighbour_hall, outline)
    assert not at_hall
    assert (lon, lat) == pytest.approx((outline.centroid.x, outline.centroid.y))
    assert note.startswith("Départ : centre de la commune de Macouba (")
    assert "incertaine" in note
    _, _, at_hall, note = geocode.commune_start("Le Marigot", None, outline)
    assert not at_hall and note.startswith("Départ : centre de la commune du Marigot")


def test_a_start_is_inside_a_commune_whose_centroid_is_not() -> None:
    # a « U »: its centroid falls in the gap between the arms
    u = Polygon([(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3)])
    assert not u.contains(u.centroid)
    lon, lat, at_hall, _ = geocode.commune_start("Le Carbet", None, u)
    assert not at_hall and u.contains(Point(lon, lat))


def _commune_index() -> geocode.Index:
    rows = [
        {"label": "Sainte-Anne (commune)", "text": "Sainte-Anne", "context": "mairie",
         "kind": "commune", "lon": -60.881, "lat": 14.435, "commune": "Sainte-Anne",
         "note": "Départ : mairie de Sainte-Anne"},
        {"label": "Centre Communal d'Action Sociale (CCAS) de Sainte-Anne — Sainte-Anne",
         "text": "Centre Communal d'Action Sociale (CCAS) de Sainte-Anne",
         "context": "Sainte-Anne", "kind": "place", "lon": -60.883, "lat": 14.433,
         "ref": "ccas", "commune": "Sainte-Anne"},
        {"label": "Le Prêcheur (commune)", "text": "Le Prêcheur", "context": "mairie",
         "kind": "commune", "lon": -61.2245, "lat": 14.801, "commune": "Le Prêcheur",
         "note": "Départ : mairie du Prêcheur"},
        {"label": "Rue de la Poste, 97250 Le Prêcheur", "text": "Rue de la Poste",
         "context": "Le Prêcheur", "kind": "street", "lon": -61.224, "lat": 14.800,
         "commune": "Le Prêcheur", "weight": 10},
        {"label": "Habitation Céron, Le Prêcheur", "text": "Habitation Céron",
         "context": "Le Prêcheur", "kind": "street", "lon": -61.2239, "lat": 14.8315,
         "commune": "Le Prêcheur"},
        {"label": "Chemin de Bas Céron, Le Lorrain", "text": "Chemin de Bas Céron",
         "context": "Le Lorrain", "kind": "street", "lon": -61.0697, "lat": 14.8208,
         "commune": "Le Lorrain"},
    ]
    return geocode.build(pd.DataFrame(rows).fillna({"ref": "", "weight": 0, "note": ""}))


def test_a_tapped_commune_starts_at_the_commune_not_at_a_place_named_after_it() -> None:
    idx = _commune_index()
    # searched again, the label reads like the CCAS's name (« commune » ~ « communal »)
    assert geocode.search(idx, "Sainte-Anne (commune)")[0].kind == "place"
    hit = geocode.locate(idx, "Sainte-Anne (commune)")
    assert (hit.kind, hit.lon, hit.lat) == ("commune", -60.881, 14.435)
    assert hit.note == "Départ : mairie de Sainte-Anne"
    assert geocode.search(idx, "sainte anne")[0].note == "Départ : mairie de Sainte-Anne"


def test_nothing_found_offers_the_names_of_the_commune_named() -> None:
    idx = _commune_index()
    near = geocode.fallback(idx, "Anse Cerron Prêcheur")  # a typo, no article
    assert near is not None and near.commune == "Le Prêcheur"
    labels = [h.label for h in near.suggestions]
    assert labels[0] == "Habitation Céron, Le Prêcheur"  # the closest name first
    assert labels[-1] == "Le Prêcheur (commune)"
    assert "Chemin de Bas Céron, Le Lorrain" not in labels  # only that commune's names
    assert set(labels) == {"Habitation Céron, Le Prêcheur", "Rue de la Poste, 97250 Le Prêcheur",
                           "Le Prêcheur (commune)"}
    assert geocode.fallback(idx, "Anse Céron") is None  # no commune named


def test_real_town_halls_outside_their_commune_are_not_the_start(real_settings) -> None:
    """The mairies source puts two town halls in the neighbouring commune: those two
    communes start from a point inside them, flagged; the 32 others at their town hall."""
    import json

    from geo import addresses, communes, fetch

    communes.build(real_settings)
    comm = communes.load(real_settings)
    outline = dict(zip(comm["code_insee"], comm.geometry, strict=True))
    feats = json.loads(fetch.resolve("mairies", real_settings).path.read_text("utf-8"))
    outside = {f["properties"]["code_insee"] for f in feats["features"]
               if not outline[f["properties"]["code_insee"]].contains(
                   Point(f["geometry"]["coordinates"][:2]))}
    halls = addresses.town_halls(comm, real_settings)
    assert set(halls.loc[~halls["town_hall"], "code_insee"]) == outside
    assert set(halls.loc[~halls["town_hall"], "nom"]) == {"Macouba", "Le Marigot"}
    for code, lon, lat in zip(halls["code_insee"], halls["lon"], halls["lat"], strict=True):
        assert outline[code].contains(Point(lon, lat)) or code not in outside
    flagged = halls.loc[~halls["town_hall"], "note"]
    assert flagged.str.startswith("Départ : centre de la commune").all()
    assert (halls.loc[halls["town_hall"], "note"].str.startswith("Départ : mairie ")).all()
