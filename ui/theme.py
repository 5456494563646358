"""The dashboard's look and language beyond what Streamlit's settings reach.

- :func:`french` / :data:`PLOTLY_CONFIG` / :func:`chart`: plotly in French. Streamlit
  1.67's bundled plotly.js ships no ``fr`` locale, so the locale is handed to plotly.js
  in the chart's config (``locales``): French month and day names on date axes and
  hovers (names from :mod:`maillage.fmt`), decimal comma, and the mode bar's tooltips.
- :func:`inject`: called once by ``app.py`` on every run. CSS for contrast (captions
  darker than Streamlit's grey, WCAG AA) and a small script that rewrites the English
  texts Streamlit writes itself and offers no setting for (multiselect « Select all »,
  file uploader, « Help for … » screen-reader labels, sidebar buttons, date picker
  months and days). See ``docs/interface.md`` for the list and what stays English.

The script and the CSS are constants of this module: no text from data goes in them.
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from maillage import fmt

#: plotly.js locale (``config.locales.fr``): the mode bar's tooltips and d3's formats.
_SUNDAY_FIRST = (6, 0, 1, 2, 3, 4, 5)  # d3 counts days from Sunday
FR_LOCALE: dict[str, Any] = {
    "dictionary": {
        "Autoscale": "Échelle automatique",
        "Box Select": "Sélection rectangulaire",
        "Compare data on hover": "Comparer les données au survol",
        "Double-click on legend to isolate one trace":
            "Double-cliquer sur la légende pour isoler une série",
        "Double-click to zoom back out": "Double-cliquer pour dézoomer",
        "Download plot as a png": "Télécharger le graphique en PNG",
        "Download plot": "Télécharger le graphique",
        "Lasso Select": "Sélection au lasso",
        "Pan": "Déplacer",
        "Produced with Plotly.js": "Réalisé avec Plotly.js",
        "Reset": "Réinitialiser",
        "Reset axes": "Réinitialiser les axes",
        "Reset view": "Réinitialiser la vue",
        "Reset views": "Réinitialiser les vues",
        "Show closest data on hover": "Afficher la donnée la plus proche au survol",
        "Snapshot succeeded": "Image enregistrée",
        "Sorry, there was a problem downloading your snapshot!":
            "Désolé, l'image n'a pas pu être téléchargée.",
        "Taking snapshot - this may take a few seconds":
            "Création de l'image, quelques secondes…",
        "Toggle Spike Lines": "Lignes de repère",
        "Toggle show closest data on hover": "Donnée la plus proche au survol",
        "Zoom": "Zoom",
        "Zoom in": "Zoom avant",
        "Zoom out": "Zoom arrière",
        "Fullscreen": "Plein écran",
        "Close fullscreen": "Quitter le plein écran",
        "max:": "max. :", "mean:": "moyenne :", "median:": "médiane :", "min:": "min. :",
        "trace": "série",
    },
    "format": {
        "days": [fmt.WEEKDAYS[i] for i in _SUNDAY_FIRST],
        "shortDays": [fmt.WEEKDAYS_SHORT[i] for i in _SUNDAY_FIRST],
        "months": list(fmt.MONTHS),
        "shortMonths": list(fmt.MONTHS_SHORT),
        "periods": ["", ""],
        "decimal": ",",
        "thousands": fmt.NNBSP,
        "grouping": [3],
        "currency": ["", " €"],
        "date": "%d/%m/%Y",
        "time": "%H:%M:%S",
        "dateTime": "%A %-d %B %Y, %H:%M",
        "year": "%Y",
        "month": "%b %Y",
        "dayMonth": "%-d %b",
        "dayMonthYear": "%-d %b %Y",
    },
}

#: The ``config`` of every ``st.plotly_chart``: French locale, no plotly logo.
PLOTLY_CONFIG: dict[str, Any] = {"locale": "fr", "locales": {"fr": FR_LOCALE},
                                 "displaylogo": False}


def french(fig):
    """``fig`` with French number separators and French date ticks and hovers.

    Date axes that have no tick format of their own get numeric French ones
    (« 11/12/2026 »), which read the same whatever the zoom; names of months and days,
    where plotly writes them, come from :data:`FR_LOCALE` (pass :data:`PLOTLY_CONFIG`).
    """
    fig.update_layout(separators="," + fmt.NNBSP)
    dated = {getattr(t, "xaxis", None) or "x" for t in fig.data if _has_dates(t)}
    for axis in fig.layout:
        if not axis.startswith("xaxis"):
            continue
        ax = fig.layout[axis]
        short = "x" + axis.removeprefix("xaxis")
        if ax.type == "date" or short in dated:
            if not ax.tickformat:
                ax.tickformat = "%d/%m/%Y"
            if not ax.hoverformat:
                ax.hoverformat = ax.tickformat if "%H" in ax.tickformat else "%d/%m/%Y %H:%M"
    return fig


def _has_dates(trace) -> bool:
    x = getattr(trace, "x", None)
    if x is None or len(x) == 0:
        return False
    dtype = getattr(x, "dtype", None)
    if dtype is not None and dtype.kind == "M":
        return True
    first = x[0]
    return hasattr(first, "year") and hasattr(first, "month")


def chart(fig, *, key: str | None = None, where: Any = None) -> None:
    """Draw a plotly figure full width, in French (``where``: a column, default ``st``)."""
    (where or st).plotly_chart(french(fig), width="stretch", config=PLOTLY_CONFIG, key=key)


#: Captions: Streamlit draws them in the text colour at 60 % opacity (2.8:1 on white,
#: WCAG AA asks 4.5:1); a solid grey of 6.9:1 instead.
CSS = """
[data-testid="stCaptionContainer"] { opacity: 1 !important; color: #5a5957 !important; }
[data-testid="stCaptionContainer"] p, [data-testid="stCaptionContainer"] strong,
[data-testid="stFileUploaderDropzoneInstructions"] span,
[data-testid="stFileUploaderDropzoneInstructions"] small { color: #5a5957 !important; }
[data-testid="stElementContainer"]:has(#maillage-fr) { display: none; }
"""

#: Streamlit's own English texts and their French (exact, whole text or attribute).
TEXTS: dict[str, str] = {
    "Select all": "Tout sélectionner",
    "No results": "Aucun résultat",
    "No options to select": "Aucune option",
    "Choose an option": "Choisir une option",
    "Choose options": "Choisir",
    "Clear all": "Tout effacer",
    "Clear value": "Effacer",
    "Remove": "Retirer",
    "Help": "Aide",
    "Skip to main content": "Aller au contenu principal",
    "Collapse sidebar": "Replier le menu",
    "Expand sidebar": "Déplier le menu",
    "App pages": "Pages",
    "Sidebar": "Menu",
    "Main menu": "Menu principal",
    "Link to heading": "Lien vers ce titre",
    "Close": "Fermer",
    "Open": "Ouvrir",
    "Fullscreen": "Plein écran",
    "Close fullscreen": "Quitter le plein écran",
    "View less": "Voir moins",
    "Upload": "Parcourir",
    "Browse files": "Parcourir",
    "Drag and drop file here": "Glissez-déposez un fichier ici",
    "Drag and drop a file here": "Glissez-déposez un fichier ici",
    "Drag and drop files here": "Glissez-déposez des fichiers ici",
    "Download as CSV": "Télécharger en CSV",
    "Show/hide columns": "Afficher ou masquer des colonnes",
    "Search": "Rechercher",
    "Show password": "Afficher le mot de passe",
    "Hide password": "Masquer le mot de passe",
    "Increment": "Augmenter",
    "Decrement": "Diminuer",
    "Show password text": "Afficher le mot de passe",
    "Hide password text": "Masquer le mot de passe",
    "Running...": "Calcul en cours…",
    "Stop": "Arrêter",
    "Dismiss": "Fermer",
}

_SCRIPT = """
<span id="maillage-fr"></span>
<script>
(() => {
  const doc = window.parent && window.parent.document ? window.parent.document : document;
  if (doc.defaultView.__maillageFr) return;
  doc.defaultView.__maillageFr = true;
  const T = %(texts)s;
  const MONTHS = %(months)s, DAYS = %(days)s;
  const EN_MONTHS = ["January","February","March","April","May","June","July","August",
                     "September","October","November","December"];
  const EN_DAYS = ["Monday","Tuesday","Wednesday","Thursday","Friday","Saturday","Sunday"];
  const SHORT = {Mo: "lu", Tu: "ma", We: "me", Th: "je", Fr: "ve", Sa: "sa", Su: "di"};
  const UNITS = {B: "octets", KB: "Ko", MB: "Mo", GB: "Go", byte: "octet", bytes: "octets"};
  const num = s => s.replace(".", ",");
  function words(s) {
    s = s.replace(new RegExp("\\b(" + EN_MONTHS.join("|") + ")\\b", "g"),
                  m => MONTHS[EN_MONTHS.indexOf(m)]);
    s = s.replace(new RegExp("\\b(" + EN_DAYS.join("|") + ")\\b", "g"),
                  m => DAYS[EN_DAYS.indexOf(m)]);
    return s.replace(/\\b(\\d{1,2})(st|nd|rd|th)\\b/g, "$1");
  }
  function tr(s, inCalendar) {
    const t = s.trim();
    if (!t) return s;
    if (T[t] !== undefined) return s.replace(t, T[t]);
    let m;
    if ((m = t.match(/^Help for (.+)$/))) return "Aide : " + m[1];
    if ((m = t.match(/^Limit (\\d+(?:\\.\\d+)?)\\s?(B|KB|MB|GB) per file(.*)$/)))
      return num(m[1]) + "\u00a0" + UNITS[m[2]] + " au plus par fichier" + m[3];
    if ((m = t.match(/^(\\d+(?:\\.\\d+)?)\\s?(B|KB|MB|GB|bytes?)$/)))
      return num(m[1]) + "\u00a0" + UNITS[m[2]];
    if ((m = t.match(/^View (\\d+) more$/))) return "Voir " + m[1] + " de plus";
    if ((m = t.match(/^Press Enter to (.+)$/))) return "Entrée pour valider";
    if (inCalendar) {
      if (SHORT[t]) return SHORT[t];
      if (/^Choose |^Selected |It's available|Not available|Previous month|Next month/.test(t))
        return words(t).replace(/^Choose /, "Choisir le ").replace(/^Selected /, "Choisi : ")
          .replace(/\\. It's available\\.?/, "")
          .replace(/\\. It's not available\\.?/, " (indisponible)")
          .replace("Previous month.", "Mois précédent").replace("Next month.", "Mois suivant")
          .replace("Previous month", "Mois précédent").replace("Next month", "Mois suivant");
      const w = words(t);
      if (w !== t) return w;
    }
    return s;
  }
  const ATTRS = ["aria-label", "title", "placeholder"];
  function fix(node) {
    if (node.nodeType === 3) {
      const p = node.parentElement;
      if (!p || p.closest("script,style")) return;
      const v = tr(node.data, !!p.closest('[data-baseweb="calendar"]'));
      if (v !== node.data) node.data = v;
      return;
    }
    if (node.nodeType !== 1) return;
    const cal = !!node.closest('[data-baseweb="calendar"]');
    for (const el of [node, ...node.querySelectorAll("[aria-label],[title],[placeholder]")]) {
      for (const a of ATTRS) {
        const v = el.getAttribute && el.getAttribute(a);
        if (!v) continue;
        const f = tr(v, cal || !!el.closest('[data-baseweb="calendar"]'));
        if (f !== v) el.setAttribute(a, f);
      }
    }
    const walk = doc.createTreeWalker(node, NodeFilter.SHOW_TEXT);
    let n; while ((n = walk.nextNode())) fix(n);
  }
  fix(doc.body);
  const safe = n => { try { fix(n); } catch (e) { /* one odd node must not stop the rest */ } };
  new doc.defaultView.MutationObserver(muts => {
    for (const m of muts) {
      if (m.type === "childList") m.addedNodes.forEach(safe);
      else safe(m.target);
    }
  }).observe(doc.body, {subtree: true, childList: true, characterData: true,
                        attributes: true, attributeFilter: ATTRS});
  // Safety net for a change the observer could miss (e.g. a node moved between frames).
  doc.defaultView.setInterval(() => safe(doc.body), 1000);
})();
</script>
"""


def script() -> str:
    """The translation script (constants only)."""
    return _SCRIPT % {"texts": json.dumps(TEXTS, ensure_ascii=False),
                      "months": json.dumps(list(fmt.MONTHS), ensure_ascii=False),
                      "days": json.dumps(list(fmt.WEEKDAYS), ensure_ascii=False)}


def inject() -> None:
    """The theme's CSS and French texts; call once per run, before the page."""
    st.html(f"<style>{CSS}</style>")
    st.html(script(), unsafe_allow_javascript=True)
