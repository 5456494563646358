"""The adversarial corpus: hostile text for every text field, and the files that carry it.

Each :class:`Payload` has a stable id and a category (French, as shown in the results
table of ``benchmarks/adversarial_report.py`` and ``docs/securite.md``). The template
payloads name a *canary* file (``CANARY`` in :attr:`Payload.raw`), replaced at run time
by a path in a temporary folder, or run the command of the environment variable
:data:`CANARY_ENV` (those need no quote, so HTML escaping leaves them whole): if any of
them is ever evaluated by a template engine, a canary file appears.

The builders below put the payloads into the inputs of every entry path, each payload
inside an otherwise valid value (a name keeps a tag ``adv07`` to be searched, an
address is the payload itself, a web site is an ``https://`` link ending with it):

* :func:`place_rows`: registry rows in the national standard (CSV import, the form);
* :func:`stops_csv`: a stops file for the tours;
* :func:`indicator_rows`: indicator rows by place (the place ids carry the payloads).

What a field rightly refuses (a 5,000-character cell, a control character in an
indicator cell, …) is listed by :func:`refused_in`: tests assert the refusal.
Nothing here imports pytest, streamlit or a browser.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

#: Placeholder of the canary path inside template payloads.
CANARY = "CANARY"
#: Environment variable holding the command the quote-free template payloads run: set
#: it with :func:`canary_env` in every process that renders pages (server, CLI, AppTest).
CANARY_ENV = "MAILLAGE_TRAP_CMD"

# Categories, in the order of the results table.
HTML = "HTML et attributs"
URL = "Liens javascript: et data:"
TEMPLATE = "Gabarits (Jinja)"
JS = "Chaînes JavaScript et JSON"
MARKDOWN = "Markdown"
DIRECTIVES = "LaTeX et directives Streamlit"
FORMULA = "Formules de tableur"
LONG = "Texte très long"
SCRIPTS = "Écritures non latines"
CONTROL = "Contrôles et bidi"
NEWLINES = "Sauts de ligne"
CSV_DELIMS = "Délimiteurs CSV et guillemets"
CATEGORIES = (HTML, URL, TEMPLATE, JS, MARKDOWN, DIRECTIVES, FORMULA, LONG, SCRIPTS, CONTROL,
              NEWLINES, CSV_DELIMS)


@dataclass(frozen=True)
class Payload:
    """One hostile text: ``raw`` may contain :data:`CANARY` (see :meth:`text`)."""

    id: str
    category: str
    raw: str

    def text(self, canary: Path | str | None = None) -> str:
        """The payload with the canary path substituted (``/tmp/nowhere`` without one)."""
        return self.raw.replace(CANARY, str(canary or "/tmp/maillage-canary-absent"))

    @property
    def is_template(self) -> bool:
        """True for a payload that creates the canary file if a template engine runs it."""
        return CANARY in self.raw or CANARY_ENV in self.raw


def canary_env(canary: Path | str) -> dict[str, str]:
    """The environment that makes the quote-free payloads create ``canary`` (+ ``-env``)."""
    return {CANARY_ENV: f"touch {canary}-env"}


def canary_files(canary: Path) -> list[Path]:
    """Files any template payload would have created next to ``canary`` (none, if inert)."""
    return sorted(canary.parent.glob(canary.name + "*"))


_LONG_WORDS = ("Très long texte de présentation, répété sans fin ; ")
_P = Payload
PAYLOADS: tuple[Payload, ...] = (
    # --- HTML and attribute breakouts
    _P("html-img", HTML, '"><img src=x onerror=alert(1)>'),
    _P("html-svg", HTML, "'><svg onload=alert(2)>"),
    _P("html-script", HTML, "</div><script>alert(3)</script>"),
    _P("html-iframe", HTML, '<iframe src="javascript:alert(5)"></iframe>'),
    _P("html-attr", HTML, '" onmouseover="alert(6)" data-x="'),
    _P("html-title", HTML, "</textarea></title></style><img src=x onerror=alert(7)>"),
    _P("html-entities", HTML, "&lt;b&gt;pas gras&lt;/b&gt; &amp;amp; &#x3C;i&#x3E; &quot;"),
    _P("html-details", HTML, "<details open ontoggle=alert(11)><summary>x</summary></details>"),
    # --- javascript: and data: URLs (as links too: site_web, prise_rdv, fiche_acces_libre)
    _P("url-javascript", URL, "javascript:alert(8)"),
    _P("url-javascript-case", URL, "JaVaScRiPt:alert(9)//https://exemple.fr"),
    _P("url-data", URL, "data:text/html;base64,PHNjcmlwdD5hbGVydCgxMCk8L3NjcmlwdD4="),
    _P("url-vbscript", URL, "vbscript:msgbox(12)"),
    _P("url-https-breakout", URL, 'https://exemple.fr/"><img src=x onerror=alert(13)>'),
    # --- template engines (folium/branca render with Jinja, twice)
    _P("tpl-canary", TEMPLATE, "{{ lipsum.__globals__.os.popen('touch CANARY').read() }}"),
    # Without quotes (HTML escaping leaves it whole): the command comes from CANARY_ENV.
    _P("tpl-canary-env", TEMPLATE,
       "{{ lipsum.__globals__.os.popen(lipsum.__globals__.os.environ.MAILLAGE_TRAP_CMD)"
       ".read() }}"),
    _P("tpl-canary-set", TEMPLATE,
       "{% set x = cycler.__init__.__globals__.os.system("
       "cycler.__init__.__globals__.os.environ.MAILLAGE_TRAP_CMD) %}ok"),
    _P("tpl-arith", TEMPLATE, "{{ 7*7 }}"),
    _P("tpl-raw", TEMPLATE, "{% raw %}"),
    _P("tpl-open-stmt", TEMPLATE, "{%"),
    _P("tpl-comment", TEMPLATE, "{# commentaire"),
    _P("tpl-open-expr", TEMPLATE, "{{"),
    _P("tpl-endraw", TEMPLATE, "{% endraw %}{{ config }}"),
    # --- JavaScript template literals, strings, script ends, JSON
    _P("js-template-literal", JS, "S1 ${alert(201)}"),
    _P("js-backtick", JS, "S2 `+alert(203)+`"),
    _P("js-script-end", JS, "</script><script>alert(204)</script>"),
    _P("js-string-break", JS, "';alert(205);//\\\";alert(206);//"),
    _P("js-unicode-escape", JS, "\\u003cimg src=x onerror=alert(207)\\u003e \\x3c \\n"),
    _P("json-break", JS, '"}]});alert(208);//'),
    _P("js-line-separators", JS, "avant\u2028pendant\u2029après"),
    # --- markdown
    _P("md-image", MARKDOWN, "![x](http://127.0.0.1:9/md.png)"),
    _P("md-link-javascript", MARKDOWN, "[clic](javascript:alert(4))"),
    _P("md-emphasis", MARKDOWN, "# Titre **gras** _italique_ ~~barré~~ `code` > citation"),
    _P("md-autolink", MARKDOWN, "<http://127.0.0.1:9/auto> www.exemple.fr"),
    _P("md-reference", MARKDOWN, "[ref][1]\n\n[1]: http://127.0.0.1:9/ref.png"),
    # --- LaTeX and Streamlit directives
    _P("latex-inline", DIRECTIVES, "$x$ et $$\\frac{1}{2}$$"),
    _P("st-colour", DIRECTIVES, ":red[x] :blue-background[fond]"),
    _P("st-icon", DIRECTIVES, ":material/home: :smile:"),
    # --- spreadsheet formulas
    _P("formula-hyperlink", FORMULA, '=HYPERLINK("http://x","y")'),
    _P("formula-plus", FORMULA, "+1+1"),
    _P("formula-at", FORMULA, "@SUM(1)"),
    _P("formula-minus", FORMULA, "-2+3"),
    _P("formula-quoted", FORMULA, "'=1+1"),
    # --- very long text
    _P("long-5000", LONG, (_LONG_WORDS * 200)[:5000]),
    _P("long-450", LONG, (_LONG_WORDS * 20)[:450]),
    # --- non-Latin scripts
    _P("arabic", SCRIPTS, "مركز الخدمات الرقمية للجميع"),
    _P("chinese", SCRIPTS, "数字服务中心，欢迎大家"),
    _P("creole", SCRIPTS, "Lakou nimérik pou tout moun : ès ou ka konprann ? Àlò, sé bèl bagay !"),
    _P("emoji", SCRIPTS, "📱💻 🇲🇶 👩🏾‍💻 ✅"),
    # --- control and bidi characters (no NUL)
    _P("bidi-override", CONTROL, "abc\u202egnp.exe"),
    _P("bidi-isolates", CONTROL, "\u2066gauche\u2069 \u2067droite\u2069 \u200f"),
    _P("control-chars", CONTROL, "a\x01b\x07c\x1bd\x7fe\x08f"),
    _P("zero-width", CONTROL, "zéro\u200bla\u200dr\ufeffgeur"),
    # --- line breaks inside a value
    _P("newline", NEWLINES, "ligne 1\nligne 2"),
    _P("blank-lines", NEWLINES, "avant\n\n\n![x](http://127.0.0.1:9/md2.png)\n\n# titre"),
    _P("crlf", NEWLINES, "a\r\nb\rc"),
    # --- CSV delimiters and quotes
    _P("csv-semicolon", CSV_DELIMS, "a;b;c"),
    _P("csv-comma-quotes", CSV_DELIMS, 'a,b,"c"'),
    _P("csv-quotes", CSV_DELIMS, "\"\"\"cité\"\" 'simple' « guillemets » \\"),
)
BY_ID = {p.id: p for p in PAYLOADS}
assert len(BY_ID) == len(PAYLOADS), "payload ids must be unique"

#: Payloads that start a spreadsheet formula (the CSV exports must neutralise them).
FORMULA_START = ("=", "+", "-", "@")

#: Longest cells: the registry (``standard.MAX_CELL``), the stops (``tours_io.MAX_CELL``),
#: the indicators (``csvio.MAX_CELL``), the standard's ``presentation_resume``.
REGISTRY_MAX, STOPS_MAX, INDICATORS_MAX, SUMMARY_MAX = 2000, 500, 200, 280


# --------------------------------------------------------------------------- helpers
_BROWSER_SPACE = re.compile(r"[ \t\n\r\f]+")


def squash(text: str) -> str:
    """Whitespace collapsed the way a browser lays out text (ASCII spaces and breaks only)."""
    return _BROWSER_SPACE.sub(" ", text).strip()


def stored(text: str) -> str:
    """The value the stores keep: stripped at both ends (Python's whitespace)."""
    return text.strip()


def tag(n: int) -> str:
    """The searchable tag of the ``n``-th payload's place or stop (``adv07``)."""
    return f"adv{n:02d}"


def has_control(text: str) -> bool:
    """True when ``text`` holds a C0 control character other than tab/newline/CR."""
    return any(ord(c) < 32 and c not in "\t\n\r" for c in text) or "\x7f" in text


def refused_in(field: str, text: str) -> bool:
    """Whether the product rightly refuses ``text`` in ``field`` (see the module doc).

    ``field`` is ``registry`` (any free text of a place), ``stops`` (a stop's name,
    address or id) or ``indicator-place`` (the ``lieu`` cell of an indicator row).
    """
    if field == "registry":
        return len(text) > REGISTRY_MAX
    if field == "stops":
        return len(text.strip()) > STOPS_MAX
    if field == "indicator-place":
        value = text.strip()
        return (len(value) > INDICATORS_MAX or value[:1] in (*FORMULA_START, "\t", "\r")
                or any(ord(c) < 32 for c in value))
    raise ValueError(field)


def accepted(field: str, canary: Path | str | None = None) -> list[tuple[int, Payload]]:
    """``(n, payload)`` of the payloads ``field`` accepts (``n`` = position in the corpus)."""
    return [(n, p) for n, p in enumerate(PAYLOADS) if not refused_in(field, p.text(canary))]


# --------------------------------------------------------------------------- registry
#: Free-text fields of a place that receive the payload as they are.
PLACE_TEXT_FIELDS = ("adresse", "complement_adresse", "commune", "courriels",
                     "presentation_detail", "source", "structure_parente",
                     "autres_formations_labels", "notes", "origin")
#: Link fields: a URL payload as it is, any other as the end of an ``https://`` link.
PLACE_LINK_FIELDS = ("site_web", "prise_rdv", "fiche_acces_libre")
#: Where the places are put: a grid over central Fort-de-France (on land).
GRID_ORIGIN, GRID_STEP, GRID_COLUMNS = (14.6010, -61.0800), 0.0018, 8


def place_id(n: int, payload: Payload, canary: Path | str | None = None) -> str:
    """The id of the ``n``-th payload's place: the tag, then the payload itself."""
    return f"{tag(n)}-{payload.text(canary)}"


def place_name(n: int, payload: Payload, canary: Path | str | None = None) -> str:
    """The payload first (a formula must start the cell), then a searchable tag."""
    return f"{payload.text(canary)} Lieu {tag(n)}"


def link_value(n: int, payload: Payload, canary: Path | str | None = None) -> str:
    """A link field's value: a URL payload as it is, else an https link ending with it."""
    text = payload.text(canary)
    return text if payload.category == URL else f"https://exemple.fr/{tag(n)}/{text}"


def place_position(n: int) -> tuple[float, float]:
    """(lat, lon) of the ``n``-th place, about 200 m apart."""
    lat0, lon0 = GRID_ORIGIN
    return (round(lat0 + GRID_STEP * (n // GRID_COLUMNS), 6),
            round(lon0 + GRID_STEP * (n % GRID_COLUMNS), 6))


def place_row(n: int, payload: Payload, canary: Path | str | None = None,
              base: dict[str, str] | None = None) -> dict[str, str]:
    """A valid place (``base``: a valid row, e.g. ``tests.registry_fixtures.row()``)
    carrying ``payload`` in every free-text field."""
    from tests.registry_fixtures import row

    text = payload.text(canary)
    lat, lon = place_position(n)
    r = dict(base or row())
    r.update({f: text for f in PLACE_TEXT_FIELDS})
    r.update({f: link_value(n, payload, canary) for f in PLACE_LINK_FIELDS})
    r.update(id=place_id(n, payload, canary), nom=place_name(n, payload, canary),
             presentation_resume=text[:SUMMARY_MAX], latitude=str(lat), longitude=str(lon),
             label_status="candidat", label_since="2025-01-15", kind="lieu fixe",
             possible_stop="oui")
    return r


def place_rows(canary: Path | str | None = None) -> list[tuple[int, Payload, dict[str, str]]]:
    """``(n, payload, row)`` for every payload the registry accepts."""
    return [(n, p, place_row(n, p, canary)) for n, p in accepted("registry", canary)]


def registry_csv(rows: list[dict[str, str]]) -> bytes:
    """The rows as a registry CSV file (what an editor uploads)."""
    from maillage.registry import csvio

    return csvio.write_csv(rows, include_local=True, private=True)


# --------------------------------------------------------------------------- tours
STOP_COLUMNS = ("id", "nom", "adresse", "longitude", "latitude", "frequence", "duree_min")


def stop_values(n: int, payload: Payload, canary: Path | str | None = None
                ) -> dict[str, str]:
    """One stop carrying ``payload`` in its name, address and id."""
    text = payload.text(canary)
    lat, lon = place_position(n)
    return {"id": f"arret-{tag(n)}-{text}", "nom": f"{text} Arrêt {tag(n)}", "adresse": text,
            "longitude": f"{lon + 0.0009:.6f}", "latitude": f"{lat + 0.0009:.6f}",
            "frequence": "mensuelle", "duree_min": "15"}


def stops_csv(canary: Path | str | None = None, payloads: list[tuple[int, Payload]] | None = None
              ) -> bytes:
    """A stops file (UTF-8 CSV) with one stop per payload the stops accept.

    Cells are written as the exports write them (formula-like cells behind a ``'``,
    which reading removes), so every payload reads back as it is.
    """
    return _csv_file(STOP_COLUMNS, [stop_values(n, p, canary) for n, p in (
        payloads if payloads is not None else accepted_stops(canary))])


def _csv_file(header: tuple[str, ...], rows: list[dict[str, str]]) -> bytes:
    from maillage.registry.csvio import escape_cell

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([escape_cell(r[c]) for c in header])
    return buf.getvalue().encode("utf-8")


def accepted_stops(canary: Path | str | None = None) -> list[tuple[int, Payload]]:
    """Payloads every cell of whose stop the stops file accepts."""
    return [(n, p) for n, p in enumerate(PAYLOADS)
            if not any(refused_in("stops", v) for v in stop_values(n, p, canary).values())]


# --------------------------------------------------------------------------- indicators
INDICATOR_HEADER = ("indicateur", "mois", "code_insee", "lieu", "dimension", "valeur")
#: The indicator recorded by place.
BY_PLACE = "beneficiaries"


def indicator_rows(month: str, canary: Path | str | None = None
                   ) -> list[tuple[int, Payload, dict[str, str]]]:
    """One ``beneficiaries`` row per place whose id an indicator cell accepts."""
    out = []
    for n, p in accepted("registry", canary):
        pid = place_id(n, p, canary)
        if refused_in("indicator-place", pid):
            continue
        out.append((n, p, {"indicateur": BY_PLACE, "mois": month, "code_insee": "97209",
                           "lieu": pid, "dimension": "", "valeur": str(n + 1)}))
    return out


def indicators_csv(rows: list[dict[str, str]]) -> bytes:
    """Rows as an indicators CSV file (written as the exports write them)."""
    return _csv_file(INDICATOR_HEADER, rows)
