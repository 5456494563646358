"""Trouver un point numérique: from an address (or a tap on the map), the nearest help.

Phone first. The query and the chosen place live in the URL (``?q=…&lieu=…``, or
``?at=LON,LAT``, and ``mode``), so a shared link, or the search box of the home page,
opens the same answer. Nothing about the visitor is stored or logged.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from analysis import finder as finder_mod
from analysis import geocode, snap
from geo import finder_layer
from geo.errors import MaillageError
from maillage import fmt, settings
from maillage.finder import Finder, PlaceUnknown, van_visits
from ui import maps, widgets
from ui import trouver as ui

MODE_OPTIONS = {"walk": ":material/directions_walk: À pied",
                "drive": ":material/directions_car: En voiture"}


@dataclass
class Start:
    """Where the search starts: a point and how to name it, or why there is none."""

    point: tuple[float, float] | None = None
    label: str = ""
    note: str = ""
    error: str = ""
    not_found: str = ""  # the query nothing matched (to offer nearby names)


def header() -> None:
    st.markdown(ui.PHONE_CSS, unsafe_allow_html=True)
    st.title("Trouver un point numérique")
    st.caption("Où se faire aider avec le numérique près de chez soi : démarches en ligne, "
               "ordinateur, téléphone. Tapez votre adresse, ou touchez la carte. Gratuit, sans "
               "inscription ; rien de ce que vous tapez n'est conservé.")


def load() -> Finder:
    """The shared finder, or a French error and stop."""
    try:
        return ui.finder()
    except MaillageError as exc:
        widgets.error(exc)
        st.stop()


def sync_query() -> None:
    """A tapped suggestion goes into the URL; a query arriving by the URL fills the box."""
    params = st.query_params
    picked = st.session_state.pop("trouver_pick", None)
    if picked is not None:  # a suggestion was tapped (in the fragment, or under an error)
        params.clear()
        params["q"] = picked
    q = params.get("q", "")
    if st.session_state.get("trouver_q") != q:  # new query: home page, shared link, pick
        st.session_state["trouver_q"] = q
        if q or "trouver_text" not in st.session_state:
            st.session_state["trouver_text"] = q


def _choose(label: str) -> None:
    """A suggestion was tapped: it becomes the starting point (put in the URL on the full rerun).

    Query parameters set during a fragment run are not kept, hence the hand-over.
    """
    st.session_state["trouver_text"] = label
    st.session_state["trouver_pick"] = label


def _open(place_id: str) -> None:
    st.query_params["lieu"] = place_id


def _close() -> None:
    st.query_params.pop("lieu", None)


def _mode_changed() -> None:
    value = st.session_state.get("trouver_mode")
    if value:
        st.query_params["mode"] = value


def suggestion_buttons(hits: list[geocode.Suggestion], key: str) -> None:
    """One big button per suggestion; a tap makes it the starting point."""
    with st.container(key=key):
        for i, hit in enumerate(hits):
            # Button labels are markdown (a place's name is user text): shown literally.
            label = widgets.md(f"{hit.label}" + (f" — {hit.note}" if hit.note else ""))
            if st.button(label, key=f"{key}-{i}", icon=ui.KIND_ICONS[hit.kind],
                         on_click=_choose, args=(hit.label,), width="stretch"):
                st.rerun()


def nearby_names(F: Finder, query: str, key: str) -> None:
    """Streets and places of the commune the query names, to tap instead (if any)."""
    near = F.nearby(query)
    if near is None:
        return
    st.markdown(f"**Rues et lieux {widgets.md(fmt.a(near.commune))} :**")
    suggestion_buttons(near.suggestions, key)


@st.fragment
def search_box(F: Finder) -> None:
    """The search field and its suggestions, refreshed while typing."""
    text = st.text_input(
        "Votre adresse, une rue, une commune ou le nom d'un lieu", key="trouver_text",
        type="search", live="400ms", placeholder="ex. 12 rue Victor Hugo, Fort-de-France",
        help="Les fautes de frappe et les accents oubliés sont tolérés.")
    if not text.strip() or text == st.query_params.get("q", ""):
        return
    hits = F.suggest(text, limit=6)
    if not hits:
        st.warning("Aucune adresse ne correspond. Vérifiez l'orthographe, ajoutez la commune, "
                   "ou touchez la carte à l'endroit voulu.")
        nearby_names(F, text, "trouver-near")
        return
    st.markdown("**Touchez la bonne adresse :**")
    suggestion_buttons(hits, "trouver-sugg")


def where_from(F: Finder) -> Start:
    """The starting point from the URL: a tapped point (``at``) or a query (``q``)."""
    params = st.query_params
    try:
        if params.get("at"):
            lon, lat = snap.parse_lonlat(params["at"])
            return Start((lon, lat), "le point choisi sur la carte")
        if params.get("q"):
            hit = F.locate(params["q"])
            return Start((hit.lon, hit.lat), hit.label, hit.note)
    except geocode.AddressNotFound as exc:
        return Start(error=str(exc), not_found=params.get("q", ""))
    except MaillageError as exc:
        return Start(error=str(exc))
    return Start()


def nearest(F: Finder, start: Start) -> tuple[finder_mod.Answer | None, list[dict]]:
    """The nearest places from the start (or a French error shown, and nothing)."""
    if start.point is None:
        return None, []
    order = st.query_params.get("mode", "auto")
    try:
        answer = F.answer(start.point[0], start.point[1], k=5,
                          order=order if order in finder_mod.MODES else "auto")
        return answer, F.results(answer)
    except MaillageError as exc:
        start.error = str(exc)
        return None, []


def problems(F: Finder, start: Start) -> None:
    """Why there is no answer, and the commune's names to tap when the query matched none."""
    if not start.error:
        return
    widgets.error(start.error)
    if start.not_found:
        nearby_names(F, start.not_found, "trouver-near-q")


def start_line(answer: finder_mod.Answer, start: Start) -> None:
    """« Depuis … : » (with how the start was chosen) and the order of the results."""
    if start.note:
        st.info(widgets.md(f"{start.note}."))
    st.markdown(f"Depuis **{widgets.md(start.label)}** :")
    st.segmented_control("Classer par temps de trajet", options=list(finder_mod.MODES),
                         format_func=MODE_OPTIONS.get, default=answer.order,
                         key="trouver_mode", on_change=_mode_changed)


def chosen_route(F: Finder, answer: finder_mod.Answer, results: list[dict]):
    """The open place (from the URL) and the line of the way there (None when closed)."""
    chosen = st.query_params.get("lieu", "")
    if chosen not in {p["id"] for p in results}:
        return chosen, None
    try:
        return chosen, F.route(answer, F.row_of(chosen), answer.order).lonlat
    except (PlaceUnknown, MaillageError):
        return chosen, None


def draw_map(start: Start, results: list[dict], chosen: str, route, order: str,
             height: int) -> None:
    """The map (start, places, route); a tap on it searches around the tapped point."""
    m, layers = finder_layer.finder_map(start.point, start.label, results, chosen, route,
                                        order)
    out = maps.show(m, height=height, key="trouver-map", returned_objects=["last_clicked"],
                    layers=layers)
    clicked = (out or {}).get("last_clicked")
    if clicked and clicked != st.session_state.get("trouver_last_click"):
        st.session_state["trouver_last_click"] = clicked
        st.query_params.clear()
        st.query_params["at"] = f"{clicked['lng']:.6f},{clicked['lat']:.6f}"
        st.session_state.pop("trouver_text", None)
        st.rerun()
    st.caption("Touchez la carte pour chercher autour d'un autre point.")


def results_list(F: Finder, answer: finder_mod.Answer, results: list[dict],
                 start: Start) -> None:
    """The ranked places; the open one with its actions, route map and details."""
    chosen, route = chosen_route(F, answer, results)
    by = finder_mod.MODE_LABELS[answer.order]
    st.subheader(f"Les {len(results)} lieux les plus proches {by}")
    origin = (answer.lon, answer.lat)
    for p in results:
        with st.container(border=True, key=f"trouver-result-{p['rang']}"):
            st.markdown(ui.card(p), unsafe_allow_html=True)
            if p["id"] != chosen:
                st.button("Voir le détail et l'itinéraire", key=f"trouver-open-{p['rang']}",
                          on_click=_open, args=(p["id"],), width="stretch", type="primary")
                continue
            links = ui.actions(p, origin)
            if links:
                st.markdown(links, unsafe_allow_html=True)
            st.markdown(f"**Itinéraire {by}** (départ en rouge, trajet en vert) :")
            draw_map(start, results, chosen, route, answer.order, 300)
            st.markdown(ui.detail(p), unsafe_allow_html=True)
            ui.sheet_button(p["id"], (answer.lon, answer.lat, start.label))
            st.button("Fermer le détail", key=f"trouver-close-{p['rang']}", on_click=_close,
                      width="stretch")
    if chosen not in {p["id"] for p in results}:  # with a place open, the map is in its card
        st.markdown("**Sur la carte** (départ en rouge, lieux en bleu) :")
        draw_map(start, results, chosen, None, answer.order, 300)


def van_section(answer: finder_mod.Answer) -> None:
    """The next visits of the mobile workshop near the start (when the tours can be read)."""
    visits = van_visits(answer.lon, answer.lat)
    if visits is None:
        return
    st.subheader("Prochains passages de l'atelier mobile")
    if not visits:
        st.write("Aucun passage prévu à moins de 5 km pour le moment.")
    for v in visits:
        where = ", ".join(x for x in (v["lieu"], v["adresse"]) if x)
        st.markdown(f"- **{widgets.md(ui.when_fr(v['debut']))}** — {widgets.md(where)} "
                    f"(à {widgets.md(ui.distance(v['distance_m']))})")


def method() -> None:
    pace = fmt.number(settings.get().walk_kmh, 1)
    st.caption(f"Temps estimés sur le réseau routier (marche à {pace} km/h ; voiture selon le "
               "type de route, sans embouteillages). Partagez cette page : le lien garde "
               "l'adresse et le lieu choisis.")


def credits() -> None:
    widgets.credits(["addresses", "france_services", "cnfs_lieux", "hub_antilles", "mairies",
                     "roads_mirror"])


def main() -> None:
    header()
    F = load()
    sync_query()
    search_box(F)
    start = where_from(F)
    answer, results = nearest(F, start)
    problems(F, start)
    if answer is None:  # nothing found yet: the map, to tap a point
        draw_map(start, [], "", None, "walk", 380)
    else:
        start_line(answer, start)
        results_list(F, answer, results, start)
        van_section(answer)
        method()
    credits()


main()
