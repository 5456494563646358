"""Arrêts proposés: where the mobile workshops should stop to reach people with no place nearby."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from analysis import coverage, siting, snap
from geo import candidates as cand_mod
from geo import siting_instance, stops_layer
from geo.errors import MaillageError
from maillage import selection_store
from ui import data, maps, signin, widgets

#: Longest walk/drive offered on the page (the reach is computed once up to it).
MAX_MINUTES = 30
MODES = {"walk": "À pied", "drive": "En voiture"}


@st.cache_resource(show_spinner="Calcul des temps de trajet des carreaux vers les candidats…",
                   max_entries=2)
def instance(mode: str, places: str) -> siting.Instance:
    """The island instance (shared read-only by every visitor; nothing is mutated)."""
    return siting_instance.load(mode, MAX_MINUTES, places=places)


st.title("Arrêts proposés pour les ateliers mobiles")
actor = signin.box()
st.caption(
    "Où les camions doivent-ils s'arrêter pour aider le plus de personnes qui n'ont aucun lieu "
    "de médiation numérique à proximité ? On y vient à pied : la demande qui compte est celle "
    "qui n'est pas déjà à portée d'un lieu fixe."
)

communes = data.communes()
c1, c2, c3, c4 = st.columns(4)
p = c1.number_input("Nombre d'arrêts", min_value=1, max_value=100, value=10, step=1)
minutes = c2.slider("Temps de trajet jusqu'à l'arrêt (min)", 5, MAX_MINUTES, 15, step=1)
mode = c3.radio("Mode", list(MODES), format_func=MODES.get, horizontal=True)
weight_key = c4.selectbox("Qui compter", [*siting.WEIGHTS, "mix"],
                          format_func=lambda k: "Mélange pondéré" if k == "mix"
                          else siting.WEIGHTS[k].capitalize())
if weight_key == "mix":
    cols = st.columns(len(siting.WEIGHTS))
    mix = {k: cols[i].number_input(siting.WEIGHTS[k].capitalize(), 0.0, 10.0,
                                   1.0 if k == "seniors" else 0.0, 0.5, key=f"mix-{k}")
           for i, k in enumerate(siting.WEIGHTS)}
    mix = {k: v for k, v in mix.items() if v > 0}
else:
    mix = {weight_key: 1.0}

s1, s2 = st.columns([1, 3])
scope_kind = s1.radio("Territoire", ["Toute l'île", "EPCI", "Communes"], horizontal=False)
codes: list[str] | None = None
if scope_kind == "EPCI":
    epci = s2.selectbox("EPCI", sorted(communes["epci_court"].unique()))
    codes = sorted(communes.loc[communes["epci_court"] == epci, "code_insee"])
elif scope_kind == "Communes":
    names = dict(zip(communes["code_insee"], communes["nom"], strict=True))
    chosen = s2.multiselect("Communes", sorted(names), format_func=names.get,
                            placeholder="Choisir…")
    codes = sorted(chosen) if chosen else None
    if not chosen:
        s2.info("Choisissez au moins une commune (sinon toute l'île est prise).")

try:
    mix = siting.parse_weight(mix)
    inst = instance(mode, "all")
    model = inst.problem("mclp", float(minutes), mix, codes, p=int(p))
except MaillageError as exc:
    widgets.error(exc)
    st.stop()

what = siting.weight_label(mix)
key = (mode, int(p), int(minutes), tuple(sorted(mix.items())), tuple(codes or ()))
greedy = model.solve(siting.Greedy())
milp = st.session_state.get("arrets-milp")
if milp is not None and milp[0] != key:
    milp = None
b1, b2 = st.columns([1, 2])
limit = b2.slider("Limite de temps du solveur (s)", 5, 120, 30, step=5)
if b1.button("Améliorer avec le solveur (HiGHS)", type="primary"):
    with st.spinner("Le solveur cherche une meilleure solution…"):
        try:
            milp = (key, model.solve(siting.Highs(time_limit=float(limit))))
        except MaillageError as exc:
            widgets.error(exc)
            milp = None
    st.session_state["arrets-milp"] = milp
sol = milp[1] if milp is not None else greedy


def _report(label: str, res: siting.Solution) -> str:
    bound = "—" if res.bound is None else widgets.number(res.bound)
    gap = "—" if res.gap is None or not np.isfinite(res.gap) else siting.pct(res.gap, 2)
    return (f"**{label}** : {widgets.number(res.covered)} {what} nouvellement à portée "
            f"({siting.pct(res.share, 1)} du manque), en {widgets.number(res.seconds, 2)} s. "
            f"Solution {res.status_fr} ; meilleure borne {bound} ; écart {gap}.")


st.markdown(_report("Réponse immédiate (gloutonne)", greedy))
if milp is not None:
    st.markdown(_report("Réponse du solveur", milp[1]))

# --- comparison with today -----------------------------------------------------------
w_all = siting.demand(inst.dem, mix)
in_scope = (inst.dem["code_insee"].isin(codes).to_numpy() if codes is not None
            else np.ones(len(inst.dem), dtype=bool))
limit_s = minutes * 60.0
after = inst.seconds_with(sol.selected)
today = float(w_all[in_scope & (inst.base.seconds <= limit_s)].sum())
tomorrow = float(w_all[in_scope & (after <= limit_s)].sum())
total = float(w_all[in_scope].sum())
m1, m2, m3 = st.columns(3)
m1.metric(f"Aujourd'hui à {minutes} min ou moins d'un lieu fixe",
          siting.pct(today / total if total else 0, 1), help=f"{widgets.number(today)} {what}")
m2.metric(f"Avec les {len(sol.selected)} arrêts",
          siting.pct(tomorrow / total if total else 0, 1),
          delta=f"+{widgets.number(tomorrow - today)} {what}")
m3.metric("Encore hors de portée", widgets.number(total - tomorrow), help=what)

# --- map -------------------------------------------------------------------------------
stops = inst.stops(sol)
names = dict(zip(communes["code_insee"], communes["nom"], strict=True))
stops["commune"] = stops["code_insee"].map(names).fillna(stops["code_insee"])
new_cells = inst.newly_covered(sol, minutes) & in_scope
cell_ll = snap.to_lonlat(inst.dem[["x", "y"]].to_numpy()[new_cells])
m = stops_layer.stops_map(stops, cell_ll, [f"+{widgets.number(v)} {what}" for v in stops["gain"]])
maps.show(m, key="arrets-map", height=540)
st.caption("Cercles rouges : arrêts proposés (numérotés dans l'ordre de ce qu'ils apportent). "
           "Points bleus : carreaux de 200 m qui passent à portée grâce aux arrêts.")

# --- table -----------------------------------------------------------------------------
table = pd.DataFrame({
    "Rang": stops["rang"], "Arrêt": stops["nom"], "Commune": stops["commune"],
    "Source": stops["source"].map(cand_mod.SOURCES), f"Ajoute ({what})": stops["gain"].round(1),
    "Cumul": stops["cumul"].round(1), "Distance à la route (m)": stops["snap_drive_m"].round(0),
    "Longitude": stops["lon"].round(5), "Latitude": stops["lat"].round(5),
})
st.dataframe(table, hide_index=True, width="stretch")

with st.expander("Par commune : aujourd'hui et avec les arrêts", expanded=False):
    dem = inst.dem[in_scope]
    before = coverage.table(inst.base.seconds[in_scope], dem, [minutes], "commune")
    with_stops = coverage.table(after[in_scope], dem, [minutes], "commune")
    lab = coverage.minute_label(minutes)
    st.dataframe(pd.DataFrame({
        "Commune": before["name"], "EPCI": before["epci"],
        "Habitants": before["population"].round(0),
        f"Part à {lab} min aujourd'hui (%)": before[f"population_{lab}_share"].round(1),
        f"Part à {lab} min avec les arrêts (%)": with_stops[f"population_{lab}_share"].round(1),
        f"65 ans et + à {lab} min aujourd'hui (%)": before[f"seniors_{lab}_share"].round(1),
        "65 ans et + avec les arrêts (%)": with_stops[f"seniors_{lab}_share"].round(1),
    }), hide_index=True, width="stretch")

# --- save (signed-in planners; selection_store checks the role again) -------------------
st.subheader("Enregistrer comme liste d'arrêts des tournées")
if actor is None or actor.role not in selection_store.SAVE_ROLES:
    if actor is None:
        st.info("Pour enregistrer ces arrêts comme sélection des tournées, connectez-vous "
                "(barre latérale) avec un compte de la Fédération ou d'un EPCI.")
    else:
        st.warning("Votre compte ne permet pas d'enregistrer une sélection d'arrêts.")
else:
    labels = {int(r.rang): f"{r.rang}. {r.nom} ({r.commune})" for r in stops.itertuples()}
    keep = st.multiselect("Arrêts à garder", list(labels), default=list(labels),
                          format_func=labels.get, placeholder="Choisir…")
    f1, f2, f3 = st.columns(3)
    freq = f1.selectbox("Fréquence", ["hebdomadaire", "bimensuelle", "mensuelle"])
    duree = f2.number_input("Durée de l'atelier (min)", 15, 480, 120, step=15)
    fen = f3.text_input("Créneaux (facultatif)", placeholder="sam 07:00-12:00; mer 14:00-17:00")
    where = "toute l'île" if codes is None else (epci if scope_kind == "EPCI"
                                                 else f"{len(codes)} commune(s)")
    sel_name = st.text_input(
        "Nom de la sélection", f"{len(keep)} arrêts, {minutes} min {MODES[mode].lower()}, "
        f"{where} ({pd.Timestamp.now(tz='America/Martinique'):%d/%m/%Y})",
        max_chars=selection_store.MAX_NAME)
    if st.button("Enregistrer la sélection", disabled=not keep):
        chosen_stops = stops[stops["rang"].isin(keep)].assign(
            frequence=freq, duree_min=int(duree), fenetres=fen.strip())
        params = {"mode": mode, "minutes": float(minutes), "weights": mix, "scope": codes,
                  "p": int(p), "method": "HiGHS" if milp is not None else "glouton"}
        try:
            saved = selection_store.save_selection(actor, sel_name, chosen_stops, params)
            st.success(f"Sélection « {widgets.md(saved.name)} » enregistrée ({len(saved.rows)} "
                       "arrêts) : elle est proposée dans la page Tournées.")
        except MaillageError as exc:
            widgets.error(exc)

widgets.credits(["filosofi", "mairies", "bus_stops", "communes_geo", "ifn"])
