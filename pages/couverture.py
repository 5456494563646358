"""Couverture: how far people live from a place, the white zones, what a new point changes.

The page builds a :class:`CoverageRequest` from its widgets and shows the
:class:`CoverageResult` of the coverage service, the same one ``maillage coverage`` runs.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from analysis import coverage
from geo import coverage_layers, supply
from maillage.errors import MaillageError
from maillage.services.coverage import (
    CoverageRequest,
    CoverageResult,
    CoverageService,
    parse_minutes,
)
from maillage.services.report import CoverageReportRequest
from ui import coverage as cov
from ui import maps, theme, widgets

MODES = {"À pied": "walk", "En voiture": "drive"}
MODE_TEXT = cov.MODE_TEXT
SHARES = cov.SHARES
STATE = "cov_points"  # this visitor's hypothetical points: list of (lon, lat, name)


ISLAND = "Toute la Martinique"


def header() -> None:
    st.title("Couverture")
    st.caption("Qui vit à quelques minutes d'un lieu de médiation numérique, où sont les zones "
               "blanches, et ce que changerait un nouveau point. À pied d'abord : les personnes "
               "les plus concernées (aînés, ménages pauvres) n'ont souvent pas de voiture.")
    st.session_state.setdefault(STATE, [])


def _clear() -> None:
    """Forget this visitor's hypotheses (runs before the widgets are drawn again).

    The last map click (``cov_last_click``) is kept: the map stays the same component and
    still returns that click, which must not come back as a point.
    """
    st.session_state[STATE] = []
    st.session_state["cov_removed"] = []


def load() -> CoverageService:
    """The shared service (cells, communes, places), or a French error and stop."""
    try:
        return cov.service()
    except MaillageError as exc:
        widgets.error(exc)
        st.stop()


def inputs(svc: CoverageService) -> tuple[CoverageRequest, str]:
    """Mode, thresholds, places and options: the request without what-if, and the share shown."""
    c1, c2, c3, c4 = st.columns([1, 1.4, 1, 1.4])
    mode = MODES[c1.radio("Mode", list(MODES), key="cov_mode")]
    default = ",".join(f"{m:g}" for m in coverage.DEFAULT_MINUTES[mode])
    minutes_text = c2.text_input("Seuils (minutes)", value=default, key=f"cov_minutes_{mode}",
                                 help="Plusieurs seuils séparés par des virgules.")
    try:
        minutes = list(parse_minutes(minutes_text))
    except MaillageError as exc:
        widgets.error(exc)
        st.stop()
    first = 15.0 if mode == "walk" and 15.0 in minutes else minutes[0]
    threshold = c3.selectbox("Seuil affiché", minutes, index=minutes.index(first),
                             format_func=lambda m: f"{m:g} min", key=f"cov_t_{mode}")
    measure = c4.selectbox("Part affichée par commune", list(SHARES),
                           format_func=lambda k: SHARES[k], key="cov_measure")
    try:
        all_places = svc.places()
    except MaillageError as exc:
        widgets.error(exc)
        st.stop()
    with st.expander("Lieux pris en compte et options", expanded=False):
        o1, o2, o3 = st.columns(3)
        scope = o1.radio("Lieux", list(supply.SCOPES), format_func=supply.SCOPES.get,
                         key="cov_scope")
        services = o2.multiselect("Services offerts (au moins un)",
                                  supply.services_of(all_places), key="cov_services",
                                  placeholder="Tous les services")
        kinds = o3.multiselect("Types de lieu", sorted(all_places["kind"].unique()),
                               key="cov_kinds", placeholder="Tous les types")
        w1, w2, w3 = st.columns(3)
        weight = w1.selectbox("Pondération (temps médians, rang des zones)",
                              list(coverage.WEIGHTS), format_func=coverage.WEIGHTS.get,
                              key="cov_weight")
        connectivity = w2.radio("Carreaux voisins d'une zone blanche", [8, 4], horizontal=True,
                                format_func=lambda k: "côtés et coins" if k == 8
                                else "côtés seuls", key="cov_conn")
        by_commune = w3.toggle("Couper les zones aux limites des communes", value=True,
                               key="cov_by_commune",
                               help="À pied, les carreaux non couverts de l'agglomération "
                                    "forment sinon une seule très grande zone.")
        with_stops = st.toggle("Compter aussi les arrêts des ateliers mobiles (plans publiés)",
                               key="cov_stops")
    request = CoverageRequest(
        mode=mode, minutes=tuple(minutes), weight=weight, places=scope,
        services=tuple(services), kinds=tuple(kinds), zone_minutes=threshold,
        connectivity=connectivity, by_commune=by_commune, with_stops=with_stops)
    return request, measure


def selected_places(svc: CoverageService, request: CoverageRequest):
    """The places the request counts, or a French warning and stop when there is none."""
    try:
        places = svc.supply(request)
    except MaillageError as exc:
        widgets.error(exc)
        st.stop()
    if request.with_stops and not cov.n_stops(places):
        st.info("Aucun plan de tournées publié : pas d'arrêt d'atelier mobile à ajouter.")
    if places.empty:
        st.warning("Aucun lieu ne correspond à cette sélection"
                   + (" : le registre ne compte encore aucun point labellisé."
                      if request.places == "labelled" else ".") + " Élargissez les filtres.")
        st.stop()
    return places


def whatif_inputs(request: CoverageRequest, places) -> CoverageRequest:
    """Town hall to add, places to remove, click-to-add: the request with this visitor's what-if."""
    st.subheader("Et si… ?")
    try:
        halls = cov.town_halls()
    except MaillageError as exc:
        widgets.error(exc)
        st.stop()
    h1, h2, h3 = st.columns([1.3, 1.6, 1])
    with h1:
        hall_picker(halls)
    labels = cov.place_labels(places)
    removed = h2.multiselect("Retirer des lieux existants", list(labels),
                             format_func=labels.get, key="cov_removed",
                             placeholder="Aucun lieu retiré")
    h3.toggle("Ajouter en cliquant sur la carte", key="cov_click",
              help="Un clic n'importe où sur la carte, même dans une zone blanche, y ajoute "
                   "un point (les fiches des zones ne s'ouvrent plus).")
    h3.button("Effacer les hypothèses", on_click=_clear)
    points = tuple(st.session_state[STATE])
    caption = st.empty()  # always there: the map below keeps its place (and stays loaded)
    if points:
        caption.caption(cov.points_caption(points))
    return replace(request, added=points, removed=tuple(removed))


@st.fragment
def hall_picker(halls) -> None:
    """« Ajouter une mairie comme point »: picking one reruns only this box; adding it
    changes every figure of the page (full rerun)."""
    hall_name = st.selectbox("Ajouter une mairie comme point", ["—", *halls["name"]],
                             key="cov_hall")
    if st.button("Ajouter ce point", disabled=hall_name == "—"):
        row = halls[halls["name"] == hall_name].iloc[0]
        st.session_state[STATE].append((float(row.geometry.x), float(row.geometry.y),
                                        hall_name))
        st.rerun()


def compute(svc: CoverageService, request: CoverageRequest, places) -> CoverageResult:
    """Run the service with a progress bar; a refused point is dropped with a French message."""
    progress = st.empty()
    try:
        result = cov.run(svc, request, places, progress=lambda f, text: progress.progress(
            f, text=text))
    except MaillageError as exc:
        progress.empty()
        widgets.error(exc)
        if request.added:
            st.session_state[STATE] = list(request.added[:-1])  # drop the refused point
            st.info("Le dernier point ajouté a été retiré ; choisissez-en un autre.")
        st.stop()
    progress.empty()
    return result


def headline(res: CoverageResult) -> None:
    """The island's shares at the shown threshold (with the what-if's change), and a summary."""
    st.subheader(f"Martinique : à {cov.label(res)} min ou moins {MODE_TEXT[res.request.mode]} "
                 "d'un lieu")
    for col, (name, value, delta) in zip(st.columns(4), cov.headline(res), strict=True):
        col.metric(name, value, delta=delta)
    st.caption(cov.summary(res))


@st.fragment
def coverage_map(svc: CoverageService, res: CoverageResult, measure: str) -> None:
    """Communes shaded by share with the white zones, or the cells by time; click to add.

    A fragment: changing the view reruns only the map."""
    view = st.radio("Carte", ["Communes et zones blanches", "Carreaux : temps de trajet"],
                    horizontal=True, key="cov_view")
    clickable = bool(st.session_state.get("cov_click"))
    m, groups, legends = coverage_layers.coverage_map(
        **cov.map_inputs(res, svc, measure, communes_view=view.startswith("Communes")),
        clickable=clickable)
    out = maps.show(m, height=600, returned_objects=["last_clicked"], key=f"cov_map_{view[:4]}",
                    layers=groups, layer_control=True)
    for leg in legends:
        widgets.legend(leg)
    st.caption(cov.map_caption(res, clickable))
    click = (out or {}).get("last_clicked")
    if clickable and click:
        pt = (round(click["lng"], 6), round(click["lat"], 6))
        if pt != st.session_state.get("cov_last_click"):
            st.session_state["cov_last_click"] = pt
            st.session_state[STATE].append((pt[0], pt[1], f"Point {len(res.request.added) + 1}"))
            st.rerun()


def whatif_results(res: CoverageResult) -> None:
    """Who gains and who loses, and what becomes of today's white zones."""
    if res.whatif is None:
        return
    st.subheader("Effet des hypothèses")
    st.markdown(cov.whatif_summary(res))
    st.dataframe(cov.whatif_changes(res), hide_index=True, width="stretch")
    touched = cov.touched_zones(res)
    if len(touched):
        st.dataframe(touched, hide_index=True, width="stretch")
    else:
        st.info("Aucune zone blanche d'aujourd'hui ne change avec ces hypothèses.")


def charts(res: CoverageResult, measure: str) -> None:
    """Share reached by minute (EPCI, island), and the communes' shares."""
    st.subheader("Part de la population atteinte selon le temps")
    theme.chart(cov.curve_figure(res))
    theme.chart(cov.bars_figure(res, measure))


def tables(res: CoverageResult) -> None:
    """The commune, EPCI and island tables, and their CSV."""
    st.subheader("Tableaux")
    fr = cov.tables_fr(res)
    st.dataframe(fr, hide_index=True, width="stretch")
    st.download_button("Télécharger les tableaux (CSV pour Excel)", cov.tables_csv_builder(res),
                       file_name=cov.tables_file_name(res), mime="text/csv", on_click="ignore")
    st.caption("Fichier pour Excel en français : colonnes séparées par « ; », virgule "
               "décimale, habitants et ménages arrondis à l'unité, parts en % à une décimale. "
               "Le nom du fichier dit le scénario (mode, seuils, pondération, hypothèses).")


def white_zones(res: CoverageResult) -> None:
    """Today's white zones, most people first, and their GeoJSON."""
    st.markdown(cov.zones_heading(res))
    if not len(res.zones):
        return
    st.dataframe(cov.zones_fr(res), hide_index=True, width="stretch")
    st.download_button("Télécharger les zones blanches (GeoJSON)",
                       cov.zones_geojson_builder(res), file_name=cov.zones_file_name(res),
                       mime="application/geo+json", on_click="ignore")
    st.caption(cov.zones_keys_caption())


@st.fragment
def report(res: CoverageResult) -> None:
    """« Télécharger le rapport »: the document for a council, from the same service
    (a fragment: choosing the territory reruns only this section)."""
    st.subheader("Rapport à imprimer")
    c1, c2 = st.columns([1, 2])
    scope = c1.selectbox("Territoire du rapport", [ISLAND, *cov.epci_names()],
                         key="cov_report_scope")
    req = res.request
    walk_min = req.zone_minutes if req.mode == "walk" else 15.0
    drive_min = req.zone_minutes if req.mode == "drive" else None
    with c2:
        cov.report_button(CoverageReportRequest(
            scope=None if scope == ISLAND else scope, minutes=walk_min,
            drive_minutes=drive_min, weight=req.weight, places=req.places,
            added=tuple(req.added), removed=tuple(req.removed)))
    st.caption("Un fichier HTML autonome (cartes comprises) qui s'imprime en A4, ou le même en "
               "PDF : à pied puis en voiture, par commune, zones blanches, hypothèses.")


def credits() -> None:
    widgets.credits(["communes_geo", "filosofi", "ifn", "roads_mirror", "mairies",
                     "hub_antilles", "france_services", "cnfs_lieux"])


def main() -> None:
    header()
    svc = load()
    request, measure = inputs(svc)
    places = selected_places(svc, request)
    request = whatif_inputs(request, places)
    res = compute(svc, request, places)
    headline(res)
    coverage_map(svc, res, measure)
    whatif_results(res)
    charts(res, measure)
    tables(res)
    white_zones(res)
    report(res)
    credits()


main()
