"""Trouver un point numérique: from an address (or a tap on the map), the nearest help.

Phone first. The query and the chosen place live in the URL (``?q=…&lieu=…``, or
``?at=LON,LAT``), so a shared link opens the same answer. Nothing about the visitor
is stored or logged.
"""

from __future__ import annotations

import streamlit as st

from analysis import finder as finder_mod
from analysis import snap
from geo import finder_layer
from geo.errors import MaillageError
from maillage import settings
from maillage.finder import PlaceUnknown, van_visits
from ui import maps, widgets
from ui import trouver as ui

st.markdown(ui.PHONE_CSS, unsafe_allow_html=True)
st.title("Trouver un point numérique")
st.caption("Où se faire aider avec le numérique près de chez soi : démarches en ligne, "
           "ordinateur, téléphone. Tapez votre adresse, ou touchez la carte. Gratuit, sans "
           "inscription ; rien de ce que vous tapez n'est conservé.")

try:
    F = ui.finder()
except MaillageError as exc:
    widgets.error(exc)
    st.stop()

params = st.query_params
picked = st.session_state.pop("trouver_pick", None)
if picked is not None:  # a suggestion was tapped in the search fragment
    params.clear()
    params["q"] = picked
if "trouver_text" not in st.session_state:
    st.session_state["trouver_text"] = params.get("q", "")


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


@st.fragment
def search_box() -> None:
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
        return
    st.markdown("**Touchez la bonne adresse :**")
    with st.container(key="trouver-sugg"):
        for i, hit in enumerate(hits):
            # Button labels are markdown (a place's name is user text): shown literally.
            label = widgets.md(f"{hit.label}" + (f" — {hit.note}" if hit.note else ""))
            if st.button(label, key=f"trouver-sugg-{i}", icon=ui.KIND_ICONS[hit.kind],
                         on_click=_choose, args=(hit.label,), width="stretch"):
                st.rerun()


search_box()

# --- where from ------------------------------------------------------------------------
origin: tuple[float, float] | None = None
origin_label = ""
error = ""
try:
    if params.get("at"):
        lon, lat = snap.parse_lonlat(params["at"])
        origin, origin_label = (lon, lat), "le point choisi sur la carte"
    elif params.get("q"):
        hit = F.locate(params["q"])
        origin, origin_label = (hit.lon, hit.lat), hit.label
        if hit.note:
            st.info(widgets.md(f"{hit.note}."))
except MaillageError as exc:
    error = str(exc)

answer = None
results: list[dict] = []
order = params.get("mode", "auto")
if origin is not None and not error:
    try:
        answer = F.answer(origin[0], origin[1], k=5,
                          order=order if order in finder_mod.MODES else "auto")
        results = F.results(answer)
    except MaillageError as exc:
        error = str(exc)
if error:
    widgets.error(error)

chosen = params.get("lieu", "")
by_id = {p["id"]: p for p in results}
route = None
if answer is not None:
    st.markdown(f"Depuis **{widgets.md(origin_label)}** :")

    def _mode_changed() -> None:
        value = st.session_state.get("trouver_mode")
        if value:
            st.query_params["mode"] = value

    st.segmented_control(
        "Classer par temps de trajet", options=list(finder_mod.MODES),
        format_func=lambda m: {"walk": ":material/directions_walk: À pied",
                               "drive": ":material/directions_car: En voiture"}[m],
        default=answer.order, key="trouver_mode", on_change=_mode_changed,
    )
    if chosen in by_id:
        try:
            row = F.row_of(chosen)
            route = F.route(answer, row, answer.order).lonlat
        except (PlaceUnknown, MaillageError):
            route = None

# --- map -------------------------------------------------------------------------------


def draw_map(height: int) -> None:
    """The map (origin, places, route); a tap on it searches around the tapped point."""
    m = finder_layer.finder_map(origin, origin_label, results, chosen, route,
                                answer.order if answer else "walk")
    out = maps.show(m, height=height, key="trouver-map", returned_objects=["last_clicked"])
    clicked = (out or {}).get("last_clicked")
    if clicked and clicked != st.session_state.get("trouver_last_click"):
        st.session_state["trouver_last_click"] = clicked
        st.query_params.clear()
        st.query_params["at"] = f"{clicked['lng']:.6f},{clicked['lat']:.6f}"
        st.session_state.pop("trouver_text", None)
        st.rerun()
    st.caption("Touchez la carte pour chercher autour d'un autre point.")


if answer is None:  # nothing found yet: the map, to tap a point
    draw_map(380)

# --- results ---------------------------------------------------------------------------
if answer is not None:
    by = finder_mod.MODE_LABELS[answer.order]
    st.subheader(f"Les {len(results)} lieux les plus proches {by}")
    for p in results:
        with st.container(border=True, key=f"trouver-result-{p['rang']}"):
            st.markdown(ui.card(p), unsafe_allow_html=True)
            if p["id"] == chosen:
                links = ui.actions(p)
                if links:
                    st.markdown(links, unsafe_allow_html=True)
                st.markdown(f"**Itinéraire {by}** (départ en rouge, trajet en vert) :")
                draw_map(300)
                st.markdown(ui.detail(p), unsafe_allow_html=True)
                st.button("Fermer le détail", key=f"trouver-close-{p['rang']}", on_click=_close,
                          width="stretch")
            else:
                st.button("Voir le détail et l'itinéraire", key=f"trouver-open-{p['rang']}",
                          on_click=_open, args=(p["id"],), width="stretch", type="primary")

    if chosen not in by_id:  # with a place open, the map is in its card
        st.markdown("**Sur la carte** (départ en rouge, lieux en bleu) :")
        draw_map(300)

    visits = van_visits(answer.lon, answer.lat)
    if visits is not None:
        st.subheader("Prochains passages de l'atelier mobile")
        if not visits:
            st.write("Aucun passage prévu à moins de 5 km pour le moment.")
        for v in visits:
            where = ", ".join(x for x in (v["lieu"], v["adresse"]) if x)
            st.markdown(f"- **{widgets.md(ui.when_fr(v['debut']))}** — {widgets.md(where)} "
                        f"(à {widgets.md(ui.distance(v['distance_m']))})")
    pace = widgets.number(settings.get().walk_kmh, 1)
    st.caption(f"Temps estimés sur le réseau routier (marche à {pace} km/h ; voiture selon le "
               "type de route, sans embouteillages). Partagez cette page : le lien garde "
               "l'adresse et le lieu choisis.")

widgets.credits(["addresses", "france_services", "cnfs_lieux", "hub_antilles", "mairies"])
