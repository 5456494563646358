"""Every interaction of the map pages in a real browser: action → page idle, and the bytes.

Run: ``.venv/bin/python -m benchmarks.interactions`` (``--repeat 10`` by default, ``--json``
for JSON instead of the Markdown table, ``--only couverture,trouver`` for some groups,
``--launches N`` cold starts, ``--data-dir DIR``). It needs Debian's chromium (never a
downloaded browser) and a data folder prepared by ``maillage data``: ``--data-dir``, else
``MAILLAGE_DATA_DIR``, else the project's ``data/``. The folder is copied first (its large
files hard-linked when possible: caches are replaced atomically, never written in place),
so the benchmark never writes to it, and ``maillage data`` runs on the copy (skip it with
``--no-prepare``) so that its caches match its registry. The script starts its own Streamlit servers
(``server.py`` on 127.0.0.1, as ``make run`` and ``tests/browser/conftest.py`` do); every
request to another host is refused.

**Idle**, the end of every measure, is the first moment at which all of these hold:

1. the server has sent, after the action, a ``script_finished`` message of a successful
   run (``FINISHED_SUCCESSFULLY`` or ``FINISHED_FRAGMENT_RUN_SUCCESSFULLY``; a run
   interrupted by a rerun does not count), read from the websocket's protobuf frames;
2. the browser shows the run as over: Streamlit's status widget
   (``[data-testid="stStatusWidget"]``, « Calcul en cours… ») is gone and no element is
   still marked stale (``[data-stale="true"]``: Streamlit marks the page's elements so
   when a run starts and clears them as the new ones are drawn);
3. every map on the page (``iframe[title*="streamlit_folium"]``) is rendered: its Leaflet
   map exists and is loaded (``window.map._loaded``), its panes hold at least one drawn
   shape (SVG path or canvas: the commune outlines at least), and no HTTP request is
   pending in the page;
4. two animation frames have passed in the page and in every map frame (the last
   deltas and the map's new layers are painted).

After idle the benchmark waits 0.4 s more (not counted): if a new run starts in that
window (a rerun asked by the page itself, e.g. after a map click), the measure goes on
until that run is idle too. Bytes are counted from the action to idle: websocket payloads
received and sent (``framereceived``/``framesent``), and HTTP response bodies
(``request.sizes()["responseBodySize"]``, as sent on the wire) of the requests that
finished in that time.

Measures (each repeated ``--repeat`` times after ``--warmup`` unmeasured ones; median and
p95 by the nearest-rank method):

* server launch → interactive home (``--launches`` times, a new server each time), then,
  on that fresh server, the first visit of Couverture, Isochrones, Arrêts proposés and
  Trouver (each in a new browser context, one after the other);
* a visit of each page on a warm server (new browser context each time);
* Couverture: mode walk ↔ drive, new thresholds (a different list each time), the
  threshold shown, choosing a town hall, « Ajouter ce point » (then « Effacer les
  hypothèses », measured too);
* Isochrones: a click on the map (around Saint-Joseph's town hall, a new point each time);
* Trouver (from « Gros-Morne »): the walk / car toggle;
* Arrêts proposés: number of stops, trip time, mode, whom to count.

The machine's load average (``/proc/loadavg``) is read before and after.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
MAP_IFRAME = "iframe[title*='streamlit_folium']"
ERROR_BOXES = "[data-testid='stException'], [data-testid='stAlertContentError']"
GROUPS = ("launch", "pages", "couverture", "isochrones", "trouver", "arrets")
#: Pages visited after a launch and on a warm server: URL path → French name.
PAGES = {"couverture": "Couverture", "isochrones": "Isochrones",
         "arrets_proposes": "Arrêts proposés", "trouver": "Trouver un point numérique"}
SETTLE_S = 0.4
#: What ``make run`` serves: ``server.py`` (app.py with the sign-in routes) when present.
ENTRY = "server.py" if (ROOT / "server.py").exists() else "app.py"
VERBOSE = False


# ----------------------------------------------------------------------------- server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _data_source(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    if os.environ.get("MAILLAGE_DATA_DIR"):
        return Path(os.environ["MAILLAGE_DATA_DIR"])
    return ROOT / "data"


def _copy_data(src: Path, dst: Path) -> None:
    """``src`` copied to ``dst``: large cache files hard-linked (replaced atomically by
    ``geo.cache``, never written in place), everything else (the database) copied."""

    def link_or_copy(a: str, b: str) -> str:
        if os.path.getsize(a) > 1_000_000 and not a.endswith((".db", ".sqlite")):
            with contextlib.suppress(OSError):
                os.link(a, b)
                return b
        return shutil.copy2(a, b)

    shutil.copytree(src, dst, copy_function=link_or_copy,
                    ignore=shutil.ignore_patterns("*.db-journal", "*.db-wal", "*.db-shm"))


def prepare(data_dir: Path) -> float:
    """``maillage data`` on the copy (seconds): its caches match its registry, as after the
    data step on a server (a few seconds when everything is up to date)."""
    t = time.perf_counter()
    env = {**os.environ, "MAILLAGE_DATA_DIR": str(data_dir)}
    subprocess.run([sys.executable, "-m", "maillage.cli", "data"], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=1800)
    return time.perf_counter() - t


@dataclass
class Server:
    proc: subprocess.Popen
    base: str
    started: float  # perf_counter at launch
    ready_s: float  # launch → /_stcore/health answers


def start_server(data_dir: Path, log: Path) -> Server:
    port = _free_port()
    env = {**os.environ, "MAILLAGE_DATA_DIR": str(data_dir)}
    out = open(log, "ab")  # noqa: SIM115 (closed with the process)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", ENTRY, "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    out.close()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Streamlit s'est arrêté (code {proc.returncode}), voir {log}.")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return Server(proc, base, t0, time.perf_counter() - t0)
        except OSError:
            time.sleep(0.05)
    proc.terminate()
    raise TimeoutError(f"Streamlit ne répond pas sur {base}")


def stop_server(server: Server) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait(timeout=15)


# ----------------------------------------------------------------------------- probe


def _local_only(route) -> None:
    url = route.request.url
    if url.startswith(("http://127.0.0.1", "http://localhost", "data:", "blob:", "about:")):
        route.continue_()
    else:
        route.abort()


_FINISHED_OK = None  # filled lazily: statuses of a successful (full or fragment) run


def _finished_ok() -> set[int]:
    global _FINISHED_OK
    if _FINISHED_OK is None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        _FINISHED_OK = {ForwardMsg.FINISHED_SUCCESSFULLY,
                        ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}
    return _FINISHED_OK


@dataclass
class Probe:
    """What one browser page exchanged with the server, in order of arrival."""

    ws_in: int = 0
    ws_out: int = 0
    http: int = 0
    pending: set = field(default_factory=set)
    runs_started: int = 0
    runs_ok: int = 0
    fragment_runs: int = 0  # runs of fragments only (the rest of the page kept)
    last_ok_at: float = 0.0
    errors: list[str] = field(default_factory=list)
    urls: list[tuple[str, int]] = field(default_factory=list)  # responses (verbose only)

    def attach(self, pg) -> None:
        pg.on("websocket", self._ws)
        pg.on("request", lambda r: self.pending.add(r))
        pg.on("requestfinished", self._finished)
        pg.on("requestfailed", lambda r: self.pending.discard(r))
        pg.on("pageerror", lambda e: self.errors.append(f"JavaScript : {e}"))

    def _finished(self, req) -> None:
        self.pending.discard(req)
        with contextlib.suppress(Exception):
            size = int(req.sizes().get("responseBodySize") or 0)
            self.http += size
            self.urls.append((req.url, size))

    def _ws(self, ws) -> None:
        ws.on("framereceived", self._received)
        ws.on("framesent", lambda payload: self._count_out(payload))

    def _count_out(self, payload) -> None:
        self.ws_out += len(payload)

    def _received(self, payload) -> None:
        self.ws_in += len(payload)
        if isinstance(payload, str):
            return
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        try:
            msg = ForwardMsg.FromString(payload)
        except Exception:  # not a ForwardMsg: counted, not read
            return
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.runs_started += 1
            if list(msg.metadata.run.fragment_ids):
                self.fragment_runs += 1
        elif kind == "script_finished" and msg.script_finished in _finished_ok():
            self.runs_ok += 1
            self.last_ok_at = time.perf_counter()

    def mark(self) -> tuple[int, int, int, int, int]:
        return (self.ws_in, self.ws_out, self.http, self.runs_started, self.runs_ok)


_PAGE_IDLE = """() => !document.querySelector('[data-testid="stStatusWidget"]')
    && !document.querySelector('[data-stale="true"]')"""
_MAP_DRAWN = """() => !!(window.map && window.map._loaded
    && document.querySelector('.leaflet-map-pane path, .leaflet-map-pane canvas'))"""
_TWO_FRAMES = """() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(
    () => r(true))))"""


def _maps_drawn(pg) -> bool:
    for handle in pg.query_selector_all(MAP_IFRAME):
        frame = handle.content_frame()
        if frame is None:
            return False
        try:
            if not frame.evaluate(_MAP_DRAWN):
                return False
        except Exception:  # the frame navigated or is loading
            return False
    return True


def _two_frames(pg) -> None:
    pg.evaluate(_TWO_FRAMES)
    for handle in pg.query_selector_all(MAP_IFRAME):
        frame = handle.content_frame()
        if frame is not None:
            with contextlib.suppress(Exception):
                frame.evaluate(_TWO_FRAMES)


def wait_idle(pg, probe: Probe, runs_ok_before: int, timeout_s: float = 240.0,
              need_map: bool = True) -> float:
    """Wait for idle (see the module docstring); returns perf_counter at idle."""
    deadline = time.perf_counter() + timeout_s
    while True:
        while True:
            if time.perf_counter() > deadline:
                raise TimeoutError(
                    "la page n'est pas revenue au repos : "
                    f"fins de run {probe.runs_ok - runs_ok_before}, statut "
                    f"{'repos' if pg.evaluate(_PAGE_IDLE) else 'en cours'}, requêtes en "
                    f"attente {[r.url for r in probe.pending][:3]}, cartes "
                    f"{'dessinées' if _maps_drawn(pg) else 'non dessinées'}")
            pg.wait_for_timeout(10)  # lets Playwright dispatch the websocket events
            if probe.runs_ok <= runs_ok_before:
                continue
            if not pg.evaluate(_PAGE_IDLE):
                continue
            if probe.pending:
                continue
            if need_map and not _maps_drawn(pg):
                continue
            _two_frames(pg)
            if pg.evaluate(_PAGE_IDLE) and not probe.pending:
                break
        t_idle = time.perf_counter()
        started = probe.runs_started
        pg.wait_for_timeout(SETTLE_S * 1000)
        if probe.runs_started == started and pg.evaluate(_PAGE_IDLE):
            return t_idle
        runs_ok_before = probe.runs_ok  # a new run began: wait for it too


@dataclass
class Sample:
    seconds: float
    ws_in: int
    ws_out: int
    http: int
    error: str = ""
    #: action → the server's last ``script_finished`` (received): the server's part
    server_s: float = 0.0
    runs: int = 0  # script runs the interaction started
    fragment_runs: int = 0  # of which runs of fragments only


Action = Callable[[], None] | tuple[Callable[[], None], Callable[[], None]]


def measure(pg, probe: Probe, action: Action, *, need_map: bool = True,
            timeout_s: float = 240.0) -> Sample:
    """Run ``action`` and wait for idle: time and bytes of that interaction.

    ``action``: the gesture that starts the change (a click, a key), or ``(prepare,
    trigger)``: ``prepare`` (opening a list, typing in a box) is not timed, the clock
    starts with ``trigger`` (choosing the option, pressing Enter).
    """
    prepare, trigger = action if isinstance(action, tuple) else (None, action)
    if prepare is not None:
        prepare()
    ws_in, ws_out, http, started, ok = probe.mark()
    frag = probe.fragment_runs
    n_err, n_urls = len(probe.errors), len(probe.urls)
    t0 = time.perf_counter()
    trigger()
    t1 = wait_idle(pg, probe, ok, timeout_s, need_map)
    error = ""
    if pg.locator(ERROR_BOXES).count():
        error = "boîte d'erreur : " + pg.locator(ERROR_BOXES).first.inner_text()[:160]
    elif len(probe.errors) > n_err:
        error = probe.errors[-1][:160]
    sample = Sample(t1 - t0, probe.ws_in - ws_in, probe.ws_out - ws_out, probe.http - http,
                    error, max(0.0, probe.last_ok_at - t0), probe.runs_started - started,
                    probe.fragment_runs - frag)
    if VERBOSE and sample.http:
        print("   HTTP : " + ", ".join(f"{u.rsplit('/', 1)[-1][:40]} {n // 1000} Ko"
                                     for u, n in probe.urls[n_urls:] if n > 1000),
              file=sys.stderr)
    if VERBOSE:
        print(f"  {sample.seconds:6.2f} s (serveur {sample.server_s:5.2f} s, "
              f"{sample.runs} exécution(s) dont {sample.fragment_runs} de fragment)  ws "
              f"{sample.ws_in / 1000:8.1f} Ko reçus "
              f"{sample.ws_out / 1000:6.1f} Ko envoyés  http {sample.http / 1000:8.1f} Ko"
              f"  {sample.error}", file=sys.stderr, flush=True)
    return sample


# ----------------------------------------------------------------------------- results


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0–100) of ``values``."""
    s = sorted(values)
    return s[max(0, math.ceil(q / 100 * len(s)) - 1)]


@dataclass
class Row:
    group: str
    name: str
    samples: list[Sample] = field(default_factory=list)
    before: str = ""  # the figure of the issue (« today »), when it gave one

    def summary(self) -> dict:
        secs = [s.seconds for s in self.samples]
        med = (lambda xs: sorted(xs)[len(xs) // 2] if xs else None)  # noqa: E731
        return {
            "group": self.group, "name": self.name, "n": len(secs),
            "median_s": round(percentile(secs, 50), 3) if secs else None,
            "p95_s": round(percentile(secs, 95), 3) if secs else None,
            "max_s": round(max(secs), 3) if secs else None,
            "ws_in_kb_median": round(med([s.ws_in for s in self.samples]) / 1000, 1)
            if secs else None,
            "ws_out_kb_median": round(med([s.ws_out for s in self.samples]) / 1000, 1)
            if secs else None,
            "http_kb_median": round(med([s.http for s in self.samples]) / 1000, 1)
            if secs else None,
            "server_s_median": round(percentile([s.server_s for s in self.samples], 50), 3)
            if secs else None,
            "runs": sorted({(s.runs, s.fragment_runs) for s in self.samples}),
            "errors": [s.error for s in self.samples if s.error],
            "before": self.before,
            "seconds": [round(x, 3) for x in secs],
        }


def _fr(x: float | None, digits: int = 2) -> str:
    if x is None:
        return "—"
    return f"{x:,.{digits}f}".replace(",", " ").replace(".", ",")


def markdown(result: dict) -> str:
    lines = [
        f"Machine : {result['machine']['cores']} cœurs, {result['machine']['cpu']}, "
        f"Python {result['machine']['python']} ; charge moyenne (1/5/15 min) avant "
        f"{result['load_before']}, après {result['load_after']} ; {result['repeat']} "
        f"répétitions ({result['warmup']} d'échauffement non comptées), "
        f"{result['launches']} démarrages ; durée totale {_fr(result['total_s'], 0)} s"
        + ("" if result["preload_s"] is None else
           f" ; serveur chaud : mesures après la fin du préchargement (attendu "
           f"{_fr(result['preload_s'], 0)} s après le premier affichage)") + ".",
        "",
        "| mesure | avant (ticket) | médiane | p95 | octets websocket reçus / envoyés | "
        "octets HTTP | exécutions (dont fragment) | n | erreurs |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        runs = ", ".join(f"{a} ({b})" for a, b in r["runs"]) or "—"
        lines.append(
            f"| {r['name']} | {r['before'] or '—'} | {_fr(r['median_s'])} s | "
            f"{_fr(r['p95_s'])} s | {_fr(r['ws_in_kb_median'], 1)} Ko / "
            f"{_fr(r['ws_out_kb_median'], 1)} Ko | {_fr(r['http_kb_median'], 1)} Ko | "
            f"{runs} | {r['n']} | {len(r['errors'])} |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- browser


class Browser:
    """One headless Debian chromium; a new context per visitor."""

    def __init__(self, pw) -> None:
        exe = shutil.which("chromium") or shutil.which("chromium-browser")
        if not exe:
            raise SystemExit("Chromium introuvable : installez le paquet Debian « chromium ».")
        self.b = pw.chromium.launch(executable_path=exe, headless=True, args=LAUNCH_ARGS)

    @contextlib.contextmanager
    def visitor(self) -> Iterator[tuple[object, Probe]]:
        ctx = self.b.new_context(viewport={"width": 1366, "height": 900}, locale="fr-FR")
        ctx.route("**/*", _local_only)
        pg = ctx.new_page()
        pg.set_default_timeout(240_000)
        probe = Probe()
        probe.attach(pg)
        try:
            yield pg, probe
        finally:
            ctx.close()


def visit(pg, probe: Probe, url: str) -> Sample:
    """Open ``url`` in a fresh page: navigation → idle, with a title drawn."""
    def go() -> None:
        pg.goto(url, wait_until="commit")

    s = measure(pg, probe, go)
    if not pg.locator("[data-testid='stMain'] h1").count() and not s.error:
        s.error = "pas de titre"
    return s


def _home_interactive(pg) -> None:
    """The home map draws its 34 communes (what benchmarks.cold_start waits for)."""
    frame = pg.query_selector(MAP_IFRAME).content_frame()
    frame.wait_for_function(
        "document.querySelectorAll('path.leaflet-interactive').length >= 34")


PRELOAD_TEXT = "Préparation des données"
#: Town halls added by the what-if, one after the other (as « Ajouter une mairie comme
#: point » names them).
HALLS = ["Mairie de Sainte-Luce", "Mairie de Saint-Joseph", "Mairie de Lorrain",
         "Mairie de Rivière-Pilote", "Mairie de Anses-d'Arlet", "Mairie de Basse-Pointe",
         "Mairie de Diamant", "Mairie de Gros-Morne", "Mairie de Sainte-Marie",
         "Mairie de Ducos", "Mairie de Vauclin", "Mairie de Schœlcher"]


def wait_preload(browser: Browser, base: str, timeout_s: float = 900.0) -> float:
    """Reload the home page until its sidebar no longer says the data of the other pages
    is being prepared (ui.data's background loading); returns the seconds waited."""
    t0 = time.perf_counter()
    with browser.visitor() as (pg, probe):
        while True:
            visit(pg, probe, base + "/")
            if PRELOAD_TEXT not in pg.inner_text("body"):
                return time.perf_counter() - t0
            if time.perf_counter() - t0 > timeout_s:
                raise TimeoutError("le préchargement ne finit pas")
            pg.wait_for_timeout(2000)


def run_launches(browser: Browser, data_dir: Path, log: Path, n: int, rows: dict) -> None:
    launch = rows["launch"]
    firsts = {p: rows[f"first:{p}"] for p in PAGES}
    for _ in range(n):
        server = start_server(data_dir, log)
        try:
            with browser.visitor() as (pg, probe):
                s = visit(pg, probe, server.base + "/")
                _home_interactive(pg)
                s.seconds = time.perf_counter() - server.started
                s.server_s = server.ready_s  # launch → /_stcore/health, for this row
                if VERBOSE:
                    print(f"  serveur prêt en {server.ready_s:.2f} s, accueil interactif "
                          f"{s.seconds:.2f} s après le lancement", file=sys.stderr)
                launch.samples.append(s)
            for path in PAGES:
                with browser.visitor() as (pg, probe):
                    firsts[path].samples.append(visit(pg, probe, f"{server.base}/{path}"))
        finally:
            stop_server(server)


def run_pages(browser: Browser, base: str, repeat: int, warmup: int, rows: dict) -> None:
    for path in PAGES:
        for i in range(warmup + repeat):
            with browser.visitor() as (pg, probe):
                s = visit(pg, probe, f"{base}/{path}")
            if i >= warmup:
                rows[f"warm:{path}"].samples.append(s)


def _radio(pg, label: str):
    return pg.locator("[data-testid='stRadio']").filter(has_text=label)


def _choose(pg, label: str, option: str | Callable[[], str]) -> Action:
    """Pick ``option`` in the selectbox labelled ``label``: the list is opened and the name
    typed (long lists scroll) before the clock starts; choosing it is the gesture timed."""
    chosen: list[str] = []

    def prepare() -> None:
        chosen[:] = [option() if callable(option) else option]
        pg.get_by_role("combobox", name=label).click()
        pg.keyboard.type(chosen[0])

    def trigger() -> None:
        pg.get_by_role("option", name=chosen[0], exact=True).click()

    return prepare, trigger


def _current(pg, label: str) -> str:
    """The option shown by the selectbox labelled ``label``."""
    return pg.get_by_role("combobox", name=label).input_value().strip()


def _choose_next(pg, label: str, options: list[str]) -> Action:
    """Pick the option after the one shown, in ``options`` (always a change)."""
    def after() -> str:
        now = _current(pg, label)
        k = options.index(now) + 1 if now in options else 0
        return options[k % len(options)]

    return _choose(pg, label, after)


def _options(pg, label: str) -> list[str]:
    """The options of a selectbox, from the page's own list (long lists are virtual)."""
    box = pg.get_by_role("combobox", name=label)
    box.click()
    names = [o.inner_text().strip() for o in pg.get_by_role("option").all()]
    pg.keyboard.press("Escape")
    return names


def _fill(pg, label: str, value: str) -> Action:
    """Type ``value`` in the box labelled ``label`` (not timed), then press Enter (timed)."""
    box = pg.get_by_label(label, exact=True)
    return (lambda: box.fill(value)), (lambda: box.press("Enter"))


def _series(pg, probe: Probe, row: Row, actions: list[Action], warmup: int,
            after: Callable[[], None] | None = None, need_map: bool = True) -> None:
    if VERBOSE:
        print(row.name, file=sys.stderr, flush=True)
    for i, act in enumerate(actions):
        s = measure(pg, probe, act, need_map=need_map)
        if i >= warmup:
            row.samples.append(s)
        if after is not None:
            after()


def run_couverture(browser: Browser, base: str, repeat: int, warmup: int, rows: dict) -> None:
    n = repeat + warmup
    with browser.visitor() as (pg, probe):
        visit(pg, probe, f"{base}/couverture")
        modes = ["En voiture", "À pied"]
        _series(pg, probe, rows["cov:mode"],
                [lambda m=modes[i % 2]: _radio(pg, "Mode").get_by_text(m, exact=True).click()
                 for i in range(n + (n % 2))], warmup)  # even: back to walking
        _series(pg, probe, rows["cov:minutes"],  # a new list each time (never 15)
                [_fill(pg, "Seuils (minutes)", f"10,{11 + i + (i >= 4)},20,30")
                 for i in range(n)], warmup)
        measure(pg, probe, _fill(pg, "Seuils (minutes)", "10,15,20,30"))
        shown = ["10 min", "15 min", "20 min", "30 min"]
        _series(pg, probe, rows["cov:shown"],
                [_choose_next(pg, "Seuil affiché", shown) for _ in range(n)], warmup)
        halls = HALLS
        for i in range(n):
            hall = halls[(3 * i) % len(halls)]
            s = measure(pg, probe, _choose(pg, "Ajouter une mairie comme point", hall))
            if i >= warmup:
                rows["cov:hall"].samples.append(s)
            s = measure(pg, probe,
                        lambda: pg.get_by_role("button", name="Ajouter ce point").click())
            if i >= warmup:
                rows["cov:add"].samples.append(s)
            s = measure(pg, probe, lambda: pg.get_by_role(
                "button", name="Effacer les hypothèses").click())
            if i >= warmup:
                rows["cov:clear"].samples.append(s)


def run_isochrones(browser: Browser, base: str, repeat: int, warmup: int, rows: dict) -> None:
    n = repeat + warmup
    with browser.visitor() as (pg, probe):
        visit(pg, probe, f"{base}/isochrones")
        measure(pg, probe, _choose(pg, "Ou partir d'une mairie", "Saint-Joseph"))
        offsets = [(-40, -30), (35, 25), (-25, 40), (30, -35), (0, 45), (-45, 0), (20, 20),
                   (-20, -20), (45, 10), (-10, -45)]

        def click(k: int) -> Callable[[], None]:
            def act() -> None:
                handle = pg.query_selector(MAP_IFRAME)
                box = handle.bounding_box()
                dx, dy = offsets[k % len(offsets)]
                dx, dy = dx + 3 * (k // len(offsets)), dy - 3 * (k // len(offsets))
                pg.mouse.click(box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2
                               + dy)
            return act

        _series(pg, probe, rows["iso:click"], [click(i) for i in range(n)], warmup)


def run_trouver(browser: Browser, base: str, repeat: int, warmup: int, rows: dict) -> None:
    n = repeat + warmup
    with browser.visitor() as (pg, probe):
        visit(pg, probe, f"{base}/trouver?q=Gros-Morne")
        group = pg.locator("[data-testid='stButtonGroup']")
        modes = ["En voiture", "À pied"]
        _series(pg, probe, rows["find:mode"],
                [lambda m=modes[i % 2]: group.locator("button", has_text=m).click()
                 for i in range(n)], warmup)


def run_arrets(browser: Browser, base: str, repeat: int, warmup: int, rows: dict) -> None:
    n = repeat + warmup
    with browser.visitor() as (pg, probe):
        visit(pg, probe, f"{base}/arrets_proposes")
        _series(pg, probe, rows["stops:p"],
                [_fill(pg, "Nombre d'arrêts", str(11 + i % 5)) for i in range(n)], warmup)

        def slide(key: str) -> Action:
            return (lambda: pg.get_by_role("slider").first.focus()), \
                (lambda: pg.keyboard.press(key))

        _series(pg, probe, rows["stops:minutes"],
                [slide("ArrowRight" if (i // 2) % 2 == 0 else "ArrowLeft") for i in range(n)],
                warmup)
        modes = ["En voiture", "À pied"]
        _series(pg, probe, rows["stops:mode"],
                [lambda m=modes[i % 2]: _radio(pg, "Mode").get_by_text(m, exact=True).click()
                 for i in range(n + (n % 2))], warmup)
        weights = [w for w in _options(pg, "Qui compter") if w != "Mélange pondéré"]
        _series(pg, probe, rows["stops:weight"],
                [_choose_next(pg, "Qui compter", weights) for _ in range(n)], warmup)


#: key → (group, French name, the issue's figure)
ROWS = {
    "launch": ("launch", "lancement du serveur → accueil interactif", "10,4 à 14,4 s"),
    **{f"first:{p}": ("launch", f"premier affichage de « {t} » après le lancement",
                      "12,7 s" if p == "couverture" else "") for p, t in PAGES.items()},
    **{f"warm:{p}": ("pages", f"« {t} » ouverte (serveur chaud, nouvelle session)", "")
       for p, t in PAGES.items()},
    "cov:mode": ("couverture", "Couverture : à pied ↔ en voiture", "~2,8 s"),
    "cov:minutes": ("couverture", "Couverture : nouveaux seuils", "~2,7 s"),
    "cov:shown": ("couverture", "Couverture : seuil affiché", "~4 s"),
    "cov:hall": ("couverture", "Couverture : choix d'une mairie (Et si… ?)", ""),
    "cov:add": ("couverture", "Couverture : « Ajouter ce point » (une mairie)", "~3,8 s"),
    "cov:clear": ("couverture", "Couverture : « Effacer les hypothèses »", ""),
    "iso:click": ("isochrones", "Isochrones : clic sur la carte", "~2,7 s"),
    "find:mode": ("trouver", "Trouver : à pied ↔ en voiture", "~2,4 s"),
    "stops:p": ("arrets", "Arrêts proposés : nombre d'arrêts", "2,7 à 3,9 s"),
    "stops:minutes": ("arrets", "Arrêts proposés : temps de trajet", "2,7 à 3,9 s"),
    "stops:mode": ("arrets", "Arrêts proposés : mode", "2,7 à 3,9 s"),
    "stops:weight": ("arrets", "Arrêts proposés : qui compter", "2,7 à 3,9 s"),
}


def _load() -> str:
    return " / ".join(Path("/proc/loadavg").read_text().split()[:3]).replace(".", ",")


def _machine() -> dict:
    model = ""
    with contextlib.suppress(OSError, StopIteration):
        model = next(line.split(":", 1)[1].strip() for line in
                     Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(),
            "system": platform.platform()}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=10, help="mesures par interaction (10)")
    ap.add_argument("--warmup", type=int, default=1, help="passages non comptés (1)")
    ap.add_argument("--launches", type=int, default=None,
                    help="démarrages à froid (par défaut : --repeat)")
    ap.add_argument("--only", default=",".join(GROUPS),
                    help=f"groupes à mesurer, parmi {','.join(GROUPS)}")
    ap.add_argument("--data-dir", default=None, help="dossier de données préparé")
    ap.add_argument("--no-prepare", action="store_true",
                    help="ne pas relancer « maillage data » sur la copie")
    ap.add_argument("--json", action="store_true", help="JSON au lieu du tableau Markdown")
    ap.add_argument("--verbose", action="store_true", help="chaque mesure sur stderr")
    args = ap.parse_args(argv)
    global VERBOSE
    VERBOSE = args.verbose
    only = [g.strip() for g in args.only.split(",") if g.strip()]
    unknown = set(only) - set(GROUPS)
    if unknown:
        ap.error(f"groupes inconnus : {', '.join(sorted(unknown))}")
    launches = args.repeat if args.launches is None else args.launches
    src = _data_source(args.data_dir)
    if not (src / "build").is_dir():
        raise SystemExit(f"Dossier de données non préparé : {src} (lancez « maillage data »).")

    from playwright.sync_api import sync_playwright

    rows = {k: Row(g, name, before=b) for k, (g, name, b) in ROWS.items() if g in only}
    load_before = _load()
    preload_s = prepare_s = None
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="maillage-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        _copy_data(src, data_dir)
        prepare_s = None if args.no_prepare else prepare(data_dir)
        log = Path(tmp) / "streamlit.log"
        with sync_playwright() as pw:
            browser = Browser(pw)
            if "launch" in only:
                run_launches(browser, data_dir, log, launches, rows)
            rest = [g for g in only if g != "launch"]
            if rest:
                server = start_server(data_dir, log)
                try:
                    preload_s = wait_preload(browser, server.base)  # a warm server
                    runners = {"pages": run_pages, "couverture": run_couverture,
                               "isochrones": run_isochrones, "trouver": run_trouver,
                               "arrets": run_arrets}
                    for g in rest:
                        runners[g](browser, server.base, args.repeat, args.warmup, rows)
                finally:
                    stop_server(server)
            browser.b.close()
        if log.exists() and "Traceback" in log.read_text(errors="replace"):
            print("Attention : des erreurs Python dans le journal du serveur :\n"
                  + log.read_text(errors="replace")[-3000:], file=sys.stderr)
    result = {"benchmark": "interactions", "machine": _machine(), "load_before": load_before,
              "load_after": _load(), "repeat": args.repeat, "warmup": args.warmup,
              "launches": launches if "launch" in only else 0,
              "command": "python -m benchmarks.interactions " + " ".join(argv or sys.argv[1:]),
              "total_s": round(time.perf_counter() - t_all, 1),
              "preload_s": None if preload_s is None else round(preload_s, 1),
              "prepare_s": None if prepare_s is None else round(prepare_s, 1),
              "rows": [r.summary() for r in rows.values()]}
    print(json.dumps(result, ensure_ascii=False, indent=1) if args.json else markdown(result))
    return result


if __name__ == "__main__":
    main()
