"""Capacity without browsers: simulated visitors speaking Streamlit's own websocket protocol.

Run (one replica, started here on the prepared data, ``MAILLAGE_DATA_DIR`` or ``data/``)::

    .venv/bin/python -m benchmarks.load_protocol --max-visitors 40 --step 5

Two replicas behind nginx on one private PostgreSQL (``deploy/up.sh 2`` in a temporary
folder, ``deploy/down.sh`` at the end)::

    .venv/bin/python -m benchmarks.load_protocol --proxy 2 --max-visitors 40 --step 5

or an already running deployment (``--url http://127.0.0.1:8600 --pids 123,456``).

Each visitor is what a browser tab does on the wire, without the browser: an HTTP ``GET``
of the page (it brings the proxy's visitor cookie), then the websocket
``/_stcore/stream`` (sub-protocol ``streamlit``) with that cookie, then ``BackMsg``
protobufs (``streamlit.proto.BackMsg_pb2``): a ``rerun_script`` carrying a
``ClientState`` with the page name (its URL path, as the frontend sends it on the first
load), the query string, the widget states (``WidgetStates_pb2``), the fragment id for a
widget inside a fragment, and the hashes of the cacheable messages already received (as
the frontend's message cache does). The server answers with ``ForwardMsg`` protobufs; a
request is timed from the send to the ``script_finished`` message that ends the run
(``FINISHED_SUCCESSFULLY``, or ``FINISHED_FRAGMENT_RUN_SUCCESSFULLY`` for a fragment;
``FINISHED_EARLY_FOR_RERUN`` means a rerun follows, still part of the same request).
Widget ids are read from the element protos of the deltas, as the frontend does.

Each visitor opens the pages in turn (``--pages``, by default the three below; visitor
``i`` starts with the ``i``-th), a new session (a new tab) each time:

* **Accueil**: open the home page (``/``, page name ``""``);
* **Trouver**: open ``/trouver?q=<a real BANO address>``, then search: type another
  address in the search box (a fragment run: the suggestions), then tap the first
  suggestion (a full run: the nearest places for that address);
* **Couverture**: open the page, then a what-if: choose a town hall in « Ajouter une mairie
  comme point » and press « Ajouter ce point » (one message: the selectbox value and the
  button's trigger), which recomputes the coverage with that new point.

Each visitor waits ``--think`` seconds (drawn between half and one and a half times) between
two requests, and goes on with the next page until the level's time is over (a request
started before the end may finish, within ``--timeout``). An **error** is a request that
times out, a closed connection, an exception or an error box shown by the page, or a page
that finishes without what it must show (the result cards, « Zones blanches
aujourd'hui », « Effet des hypothèses »…).

Levels: 1 visitor, then ``--step``, ``2 × --step``… up to ``--max-visitors``; the ramp stops
after the first level whose p95 (all requests) reaches ``--limit`` seconds (2 s). Server
CPU and memory come from ``/proc`` (psutil is not in the environment): CPU seconds of
each replica over the level's wall time (cores busy), the peak resident memory, and the
whole machine's busy share (``/proc/stat``), so a replica held at about one core while the
machine still has idle time points at the GIL, and a machine at 100 % at the CPU.

Everything stays on 127.0.0.1 (a ``--url`` elsewhere is refused); every loop is bounded in
count and time. Prints JSON on stdout and a French summary on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

from benchmarks.load import _children, _cpu_of, _free_port, _machine, _rss_mb, _stats, _tree

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("accueil", "trouver", "couverture")
#: The URL path of each page (the home page is the default one: ``/``).
URL_PATHS = {"accueil": "", "trouver": "trouver", "couverture": "couverture"}
#: The p95 (seconds) a level must stay under.
LIMIT_S = 2.0
#: Most runs of one visitor in one level, and most messages read for one request.
MAX_LOOPS = 500
MAX_MESSAGES = 5_000
#: Statuses of ``ForwardMsg.script_finished`` (streamlit/proto/ForwardMsg.proto).
FINISHED_OK, FINISHED_COMPILE_ERROR, FINISHED_EARLY_FOR_RERUN, FINISHED_FRAGMENT_OK = 0, 1, 2, 3
#: Widget values that fire once (buttons, chat input): never sent again.
ONE_SHOT = ("trigger_value", "string_trigger_value", "json_trigger_value", "chat_input_value")
#: ``Alert.Format.ERROR`` (streamlit/proto/Alert.proto).
ALERT_ERROR = 1
LOOPBACK = ("127.0.0.1", "localhost")


# ----------------------------------------------------------------------------- protocol


class ProtocolError(Exception):
    """The server closed the stream, answered something unexpected, or was too slow."""


@dataclass
class Run:
    """What one request (one ``rerun_script``) brought back."""

    seconds: float
    messages: int
    bytes: int
    errors: list[str]


def loopback_only(url: str) -> None:
    """Refuse any address that is not this machine (the benchmark's network rule)."""
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK:
        raise SystemExit(f"Adresse refusée : {url} (seulement 127.0.0.1 ou localhost).")


async def http_get(base: str, path: str = "/", cookies: dict[str, str] | None = None,
                   timeout: float = 30.0) -> tuple[int, dict[str, list[str]]]:
    """``GET base+path`` on HTTP/1.1; the status and the headers (lower-case names)."""
    loopback_only(base)
    parts = urlsplit(base)
    host, port = parts.hostname, parts.port or 80
    head = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close",
            "User-Agent: maillage-load-protocol"]
    if cookies:
        head.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items()))
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
        await writer.drain()
        raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        with contextlib.suppress(Exception):  # the body is not needed, only drained
            await asyncio.wait_for(reader.read(1 << 20), timeout)
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
    lines = raw.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers.setdefault(name.strip().lower(), []).append(value.strip())
    return status, headers


def set_cookies(headers: dict[str, list[str]]) -> dict[str, str]:
    """The ``name=value`` pairs of the ``Set-Cookie`` headers."""
    out = {}
    for value in headers.get("set-cookie", []):
        pair = value.split(";", 1)[0]
        if "=" in pair:
            name, val = pair.split("=", 1)
            out[name.strip()] = val.strip()
    return out


class StreamlitSession:
    """One visitor's Streamlit session: a websocket speaking BackMsg / ForwardMsg.

    ``elements`` holds the last element drawn at each delta path, with its fragment id;
    a full run starts from an empty page (its ``new_session`` message), a fragment run
    only replaces what it draws.
    """

    def __init__(self, base: str, timeout: float = 30.0,
                 cookies: dict[str, str] | None = None) -> None:
        loopback_only(base)
        self.base = base.rstrip("/")
        self.timeout = timeout
        self.cookies = dict(cookies or {})
        self.upstream = ""  # X-Upstream of the proxy (empty without one)
        self.ws_upstream = ""  # the same, on the websocket's handshake
        self.page_hash = ""
        self.elements: dict[tuple[int, ...], tuple[str, object, str]] = {}
        self.values: dict[str, object] = {}  # widget id → last WidgetState set (not triggers)
        self._cache: dict[str, object] = {}
        self._ws = None

    async def connect(self, path: str = "/") -> None:
        """GET the page (cookies, upstream), then open the websocket with those cookies."""
        from websockets.asyncio.client import connect

        status, headers = await http_get(self.base, path, self.cookies, self.timeout)
        if status != 200:
            raise ProtocolError(f"GET {path} : HTTP {status}")
        self.cookies.update(set_cookies(headers))
        self.upstream = (headers.get("x-upstream") or [""])[0]
        extra = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} \
            if self.cookies else None
        ws_url = "ws" + self.base[len("http"):] + "/_stcore/stream"
        self._ws = await connect(ws_url, subprotocols=["streamlit"], additional_headers=extra,
                                 max_size=None, open_timeout=self.timeout,
                                 ping_interval=None, close_timeout=2)
        self.ws_upstream = self._ws.response.headers.get("X-Upstream", "")
        self.upstream = self.ws_upstream or self.upstream

    async def close(self) -> None:
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
            self._ws = None

    async def __aenter__(self) -> StreamlitSession:
        await self.connect()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # ------------------------------------------------------------------ widgets

    def find(self, kind: str, label: str | None = None, key: str | None = None
             ) -> tuple[object, str]:
        """The ``kind`` element (``text_input``, ``button``…) with that label or widget key,
        and its fragment id; :class:`ProtocolError` when the page does not show it."""
        for etype, el, fragment in self.elements.values():
            if etype != kind:
                continue
            if label is not None and getattr(el, "label", None) != label:
                continue
            if key is not None and not str(getattr(el, "id", "")).endswith(f"-{key}"):
                continue
            return el, fragment
        raise ProtocolError(f"élément absent : {kind} {label or key!r}")

    def texts(self) -> list[str]:
        """Bodies of the markdown, heading and alert elements shown."""
        out = []
        for etype, el, _ in self.elements.values():
            if etype in ("markdown", "heading", "alert"):
                out.append(el.body)
        return out

    def shows(self, text: str) -> bool:
        return any(text in t for t in self.texts())

    @staticmethod
    def state(widget_id: str, **value) -> object:
        """A ``WidgetState`` (``string_value="…"``, ``trigger_value=True``…)."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        ws = WidgetState(id=widget_id)
        for name, v in value.items():
            target = getattr(ws, name, None)
            if hasattr(target, "data"):  # array values
                target.data.extend(v)
            else:
                setattr(ws, name, v)
        return ws

    # ------------------------------------------------------------------ runs

    async def run(self, page: str | None = None, query: str = "", widgets=(),
                  fragment: str = "") -> Run:
        """Send one ``rerun_script`` and read until the run is over.

        ``page``: the page's URL path for a first load (``trouver``); without it the
        current page (its ``page_script_hash``) is run again with ``widgets``. As the
        frontend does, every value set before is sent again (triggers only once).
        """
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        if self._ws is None:
            raise ProtocolError("session non connectée")
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = query
        if page is not None:
            cs.page_name = page
        else:
            cs.page_script_hash = self.page_hash
        states = {**self.values, **{w.id: w for w in widgets}}
        cs.widget_states.widgets.extend(states.values())
        self.values.update({w.id: w for w in widgets if w.WhichOneof("value") not in ONE_SHOT})
        if fragment:
            cs.fragment_id = fragment
        cs.cached_message_hashes.extend(self._cache)
        cs.context_info.timezone = "America/Martinique"
        cs.context_info.timezone_offset = 240
        cs.context_info.locale = "fr-FR"
        cs.context_info.url = f"{self.base}/{page or ''}" + (f"?{query}" if query else "")
        errors: list[str] = []
        n = size = 0
        t0 = time.perf_counter()
        deadline = time.monotonic() + self.timeout
        await self._ws.send(msg.SerializeToString())
        while n < MAX_MESSAGES:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ProtocolError(f"pas de fin de script en {self.timeout:g} s")
            try:
                data = await asyncio.wait_for(self._ws.recv(), left)
            except TimeoutError:
                raise ProtocolError(f"pas de fin de script en {self.timeout:g} s") from None
            except Exception as exc:  # closed connection
                raise ProtocolError(f"connexion fermée ({type(exc).__name__})") from None
            n += 1
            size += len(data)
            fm = ForwardMsg.FromString(data)
            kind = fm.WhichOneof("type")
            if kind == "ref_hash":  # a cacheable message this client already holds
                cached = self._cache.get(fm.ref_hash)
                if cached is None:
                    raise ProtocolError("message en cache inconnu")
                path = tuple(fm.metadata.delta_path)
                fm = cached
                kind = fm.WhichOneof("type")
            else:
                path = tuple(fm.metadata.delta_path)
                if fm.metadata.cacheable and fm.hash:
                    self._cache[fm.hash] = fm
            if kind == "new_session":
                if not fragment:
                    self.elements.clear()
                self.page_hash = fm.new_session.page_script_hash or self.page_hash
            elif kind == "navigation":
                self.page_hash = fm.navigation.page_script_hash or self.page_hash
            elif kind == "page_not_found":
                errors.append(f"page introuvable : {fm.page_not_found.page_name}")
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                el = fm.delta.new_element
                etype = el.WhichOneof("type")
                sub = getattr(el, etype)
                self.elements[path] = (etype, sub, fm.delta.fragment_id)
                if etype == "exception":
                    errors.append(f"exception : {sub.type}: {sub.message[:200]}")
                elif etype == "alert" and sub.format == ALERT_ERROR:
                    errors.append(f"boîte d'erreur : {sub.body[:200]}")
            elif kind == "script_finished":
                status = fm.script_finished
                if status == FINISHED_COMPILE_ERROR:
                    errors.append("erreur de compilation du script")
                    break
                if status in (FINISHED_OK, FINISHED_FRAGMENT_OK):
                    break
        else:
            raise ProtocolError(f"plus de {MAX_MESSAGES} messages pour une requête")
        return Run(time.perf_counter() - t0, n, size, errors)


# ----------------------------------------------------------------------------- visitors


@dataclass
class Request:
    """One timed request of one visitor (``cpu_s``: the servers' CPU seconds during it,
    measured only while a single visitor runs, when they are all its own)."""

    kind: str
    seconds: float
    error: str = ""
    upstream: str = ""
    cpu_s: float | None = None


#: Pids whose CPU is read around each request (set by :func:`level` for one visitor).
_CPU_PIDS: list[int] = []


def _servers_cpu() -> float | None:
    if not _CPU_PIDS:
        return None
    kids = _children()
    return sum(c for pid in _CPU_PIDS for c in (_cpu_of(p) for p in _tree(pid, kids))
               if c is not None)


@dataclass
class Level:
    requests: list[Request] = field(default_factory=list)


def _check(run: Run, session: StreamlitSession, must_show: str, what: str) -> str:
    if run.errors:
        return run.errors[0]
    if must_show and not session.shows(must_show):
        return f"{what} : « {must_show} » absent à la fin du script"
    return ""


async def _timed(out: Level, kind: str, session: StreamlitSession, coro, must_show: str
                 ) -> bool:
    """Run one request, record it; True when it succeeded."""
    cpu0 = _servers_cpu()
    t = time.perf_counter()
    try:
        run = await coro
    except ProtocolError as exc:
        out.requests.append(Request(kind, time.perf_counter() - t, str(exc), session.upstream))
        return False
    cpu1 = _servers_cpu()
    error = _check(run, session, must_show, kind)
    out.requests.append(Request(kind, run.seconds, error, session.upstream,
                                None if cpu0 is None or cpu1 is None else cpu1 - cpu0))
    return not error


async def _pause(think: float, rng: random.Random, end_at: float) -> None:
    if think > 0:
        await asyncio.sleep(min(think * rng.uniform(0.5, 1.5), max(0.0, end_at - time.monotonic())))


async def visit(base: str, page: str, queries: list[str], out: Level, rng: random.Random,
                think: float, timeout: float, end_at: float) -> None:
    """One visitor's session on ``page`` (see the module docstring), recorded in ``out``."""
    session = StreamlitSession(base, timeout)
    try:
        await session.connect("/" + URL_PATHS[page])
    except (OSError, ProtocolError, TimeoutError) as exc:
        out.requests.append(Request(page, 0.0, f"connexion : {type(exc).__name__} {exc}"[:200]))
        return
    try:
        if page == "accueil":
            await _timed(out, "accueil", session, session.run(URL_PATHS[page]), "Maillage")
        elif page == "trouver":
            q, typed = rng.choice(queries), rng.choice(queries)
            ok = await _timed(out, "trouver", session,
                              session.run("trouver", "q=" + quote(q)), 'class="trouver-card"')
            if not ok:
                return
            await _pause(think, rng, end_at)
            box, fragment = session.find("text_input", key="trouver_text")
            ok = await _timed(out, "trouver : saisie", session, session.run(
                widgets=[session.state(box.id, string_value=typed)], fragment=fragment),
                "")
            if not ok or not session.shows("Touchez la bonne adresse"):
                return  # no suggestion for that text (a warning says so): nothing to tap
            await _pause(think, rng, end_at)
            first, fragment = session.find("button", key="trouver-sugg-0")
            await _timed(out, "trouver : choix", session, session.run(
                widgets=[session.state(first.id, trigger_value=True)], fragment=fragment),
                'class="trouver-card"')
        else:
            ok = await _timed(out, "couverture", session, session.run("couverture"),
                              "Zones blanches aujourd'hui")
            if not ok:
                return
            await _pause(think, rng, end_at)
            hall, _ = session.find("selectbox", label="Ajouter une mairie comme point")
            button, _ = session.find("button", label="Ajouter ce point")
            name = rng.choice(list(hall.options)[1:])
            await _timed(out, "couverture : et si", session, session.run(widgets=[
                session.state(hall.id, string_value=name),
                session.state(button.id, trigger_value=True)]), "Effet des hypothèses")
    except ProtocolError as exc:  # an element the page should have shown is missing
        out.requests.append(Request(f"{page} : interaction", 0.0, str(exc), session.upstream))
    finally:
        await session.close()


async def visitor_loop(i: int, base: str, pages: tuple[str, ...], queries: list[str],
                       out: Level, think: float, timeout: float, start_in: float,
                       end_at: float) -> None:
    """Visitor ``i``: ``pages`` in turn (from the ``i``-th), a new session each time, until
    ``end_at``."""
    rng = random.Random(i)
    await asyncio.sleep(start_in)
    loops = 0
    while time.monotonic() < end_at and loops < MAX_LOOPS:
        page = pages[(i + loops) % len(pages)]
        loops += 1
        await visit(base, page, queries, out, rng, think, timeout, end_at)
        await _pause(think, rng, end_at)


# ----------------------------------------------------------------------------- measures


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine (``/proc/stat``)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


class Sampler:
    """CPU seconds and peak RSS of each replica (its process tree), sampled every second."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.peak = [0.0] * len(pids)
        self.cpu0 = [self._cpu(p) for p in pids]
        self.machine0 = _machine_busy()
        self.t0 = time.monotonic()
        self.tick()

    @staticmethod
    def _cpu(pid: int) -> float:
        return sum(c for c in (_cpu_of(p) for p in _tree(pid, _children())) if c is not None)

    def tick(self) -> None:
        kids = _children()
        for k, pid in enumerate(self.pids):
            self.peak[k] = max(self.peak[k], _rss_mb(_tree(pid, kids)))

    def result(self) -> dict:
        wall = max(1e-6, time.monotonic() - self.t0)
        busy0, total0 = self.machine0
        busy1, total1 = _machine_busy()
        cpu = [self._cpu(p) - c0 for p, c0 in zip(self.pids, self.cpu0, strict=True)]
        return {"replicas": [{"pid": p, "cores_busy": round(c / wall, 2),
                              "rss_peak_mb": round(m, 1)}
                             for p, c, m in zip(self.pids, cpu, self.peak, strict=True)],
                "machine_busy_share": round((busy1 - busy0) / max(1, total1 - total0), 2)}


async def _sample(sampler: Sampler, stop: asyncio.Event) -> None:
    while not stop.is_set():
        sampler.tick()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1.0)


def _summary(reqs: list[Request]) -> dict:
    ok = [r.seconds for r in reqs if not r.error]
    cpu = [r.cpu_s for r in reqs if not r.error and r.cpu_s is not None]
    errors = [r.error for r in reqs if r.error]
    kinds: dict[str, int] = {}
    for e in errors:
        key = re.sub(r"\d+", "N", e.split(":")[0])
        kinds[key] = kinds.get(key, 0) + 1
    out = {"requests": len(reqs), "errors": len(errors), "error_kinds": kinds,
           "first_errors": errors[:3], **_stats(ok)}
    if cpu:
        out["server_cpu_s_mean"] = round(sum(cpu) / len(cpu), 3)
    return out


async def level(base: str, pids: list[int], pages: tuple[str, ...], n: int, seconds: float,
                think: float, timeout: float, queries: list[str]) -> dict:
    """``n`` visitors for ``seconds``; the figures of that level."""
    load_before = os.getloadavg()
    sampler = Sampler(pids)
    stop = asyncio.Event()
    sampling = asyncio.create_task(_sample(sampler, stop))
    out = Level()
    _CPU_PIDS[:] = pids if n == 1 else []
    client0 = time.process_time()
    t0 = time.monotonic()
    end_at = t0 + seconds
    await asyncio.gather(*(visitor_loop(i, base, pages, queries, out, think, timeout,
                                        start_in=min(2.0, seconds / 4) * i / n, end_at=end_at)
                           for i in range(n)))
    wall = time.monotonic() - t0
    _CPU_PIDS.clear()
    stop.set()
    await sampling
    sampler.tick()
    kinds = sorted({r.kind for r in out.requests})
    upstreams: dict[str, int] = {}
    for r in out.requests:
        if r.upstream:
            upstreams[r.upstream] = upstreams.get(r.upstream, 0) + 1
    used = sampler.result()
    busy = sum(r["cores_busy"] for r in used["replicas"])
    return {"visitors": n, "seconds": seconds, "wall_s": round(wall, 1),
            "all": _summary(out.requests),
            "by_kind": {k: _summary([r for r in out.requests if r.kind == k]) for k in kinds},
            "requests_per_s": round(len(out.requests) / wall, 2),
            "server_cpu_s_per_request": round(busy * wall / max(1, len(out.requests)), 3),
            "upstreams": upstreams, **used,
            "client_cores_busy": round((time.process_time() - client0) / wall, 2),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()]}


async def ramp(args: argparse.Namespace, base: str, pids: list[int], queries: list[str]) -> dict:
    # warm-up: the first visitor of each page on each replica pays for the caches (graphs,
    # finder, coverage); behind the proxy, visits go on until every replica answered one
    # (a new visitor cookie each time), at most 8 per replica and page
    warm = Level()
    t = time.perf_counter()
    for i, page in enumerate(args.pages):
        seen: set[str] = set()
        for attempt in range(8 * max(1, len(pids))):
            before = len(warm.requests)
            await visit(base, page, queries, warm, random.Random(1000 + 10 * i + attempt), 0.0,
                        max(args.timeout, 180.0), time.monotonic() + 600)
            seen.update(r.upstream for r in warm.requests[before:])
            if len(seen - {""}) >= len(pids) or "" in seen:
                break
    warm_s = time.perf_counter() - t
    levels = []
    for n in args.levels:
        print(f"… {n} visiteur(s) pendant {args.seconds:g} s", file=sys.stderr, flush=True)
        res = await level(base, pids, args.pages, n, args.seconds, args.think, args.timeout,
                          queries)
        levels.append(res)
        a = res["all"]
        print(f"   {a['requests']} requêtes, p95 {a['p95_s']} s, {a['errors']} erreur(s), "
              f"charge {res['loadavg_before'][0]}", file=sys.stderr, flush=True)
        if a["p95_s"] is None or a["p95_s"] >= args.limit:
            break
    return {"warm_up_s": round(warm_s, 1),
            "warm_up": {k: v for k, v in _summary(warm.requests).items()
                        if k in ("requests", "errors", "first_errors")},
            "levels": levels}


# ----------------------------------------------------------------------------- servers


def _wait_health(base: str, proc: subprocess.Popen | None, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"Streamlit s'est arrêté (code {proc.returncode}).")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"Streamlit ne répond pas sur {base}")


@contextlib.contextmanager
def direct_server(data_dir: Path, log_path: Path):
    """One ``streamlit run server.py`` on ``data_dir``; yields (base URL, [pid])."""
    port = _free_port()
    env = {**os.environ, "MAILLAGE_DATA_DIR": str(data_dir)}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "server.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_health(base, proc)
            yield base, [proc.pid]
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


@contextlib.contextmanager
def proxied_replicas(n: int, data_dir: Path, run_dir: Path):
    """``deploy/up.sh n`` in ``run_dir`` (free ports); yields (proxy URL, replica pids)."""
    port = _free_port()
    base_port = _free_block(n)
    env = {**os.environ, "MAILLAGE_DATA_DIR": str(data_dir), "MAILLAGE_DEPLOY_RUN": str(run_dir),
           "MAILLAGE_DEPLOY_PORT": str(port), "MAILLAGE_DEPLOY_BASE_PORT": str(base_port)}
    try:
        subprocess.run(["bash", str(ROOT / "deploy" / "up.sh"), str(n)], cwd=ROOT, env=env,
                       check=True, timeout=900, stdout=sys.stderr)
        pids = [int((run_dir / f"replica-{k}" / "streamlit.pid").read_text())
                for k in range(1, n + 1)]
        yield f"http://127.0.0.1:{port}", pids
    finally:
        subprocess.run(["bash", str(ROOT / "deploy" / "down.sh")], cwd=ROOT, env=env,
                       timeout=180, stdout=sys.stderr, check=False)


def _free_block(n: int, tries: int = 50) -> int:
    """A first port P with P … P+n-1 all free on 127.0.0.1."""
    rng = random.Random()
    for _ in range(tries):
        first = rng.randrange(20000, 40000)
        socks = []
        try:
            for p in range(first, first + n):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return first
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("aucune plage de ports libres")


# ----------------------------------------------------------------------------- main


def french(result: dict) -> str:
    """The short French summary of :func:`main`'s result."""
    lim = result["limit_s"]
    lines = [f"{result['setup']} ; {result['machine']['cores']} cœurs "
             f"({result['machine']['cpu']}), tout sur 127.0.0.1 ; pause "
             f"{result['think_s']:g} s entre deux requêtes d'un visiteur."]
    held = None
    for lv in result["levels"]:
        a = lv["all"]
        if a["p95_s"] is not None and a["p95_s"] < lim and a["errors"] == 0:
            held = lv["visitors"]
        per = " ; ".join(f"{k} p95 {v['p95_s']} s" for k, v in lv["by_kind"].items())
        reps = ", ".join(f"{r['cores_busy']} cœur / {r['rss_peak_mb']:.0f} Mo"
                         for r in lv["replicas"])
        lines.append(
            f"{lv['visitors']} visiteur(s) : {a['requests']} requêtes "
            f"({lv['requests_per_s']}/s), {a['errors']} erreur(s), médiane {a['median_s']} s, "
            f"p95 {a['p95_s']} s ({per}). Répliques : {reps} ; machine occupée à "
            f"{round(100 * lv['machine_busy_share'])} % ; charge (1 min) "
            f"{lv['loadavg_before'][0]} → {lv['loadavg_after'][0]}.")
    lines.append(f"Tenu sous p95 < {lim:g} s sans erreur : "
                 + (f"{held} visiteur(s)." if held else "aucun palier."))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-visitors", type=int, default=40)
    parser.add_argument("--step", type=int, default=5, help="visitors added per level")
    parser.add_argument("--seconds", type=float, default=30.0, help="duration of each level")
    parser.add_argument("--think", type=float, default=2.0,
                        help="mean pause of a visitor between two requests (s)")
    parser.add_argument("--limit", type=float, default=LIMIT_S,
                        help="stop after the first level whose p95 reaches this (s)")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="a request not finished after this many seconds is an error")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="prepared data folder (default: MAILLAGE_DATA_DIR or data/)")
    parser.add_argument("--proxy", type=int, default=0, metavar="N",
                        help="N replicas behind nginx on PostgreSQL (deploy/up.sh)")
    parser.add_argument("--url", default="", help="an already running server or proxy")
    parser.add_argument("--pids", default="", help="with --url: the replicas' pids (1,2)")
    parser.add_argument("--pages", default=",".join(PAGES),
                        help=f"pages the visitors open in turn (among {', '.join(PAGES)})")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    args.pages = tuple(p.strip() for p in args.pages.split(",") if p.strip())
    if not args.pages or set(args.pages) - set(PAGES):
        parser.error(f"--pages : parmi {', '.join(PAGES)}")
    if args.max_visitors < 1 or args.step < 1 or args.seconds <= 0 or args.timeout <= 0:
        parser.error("--max-visitors, --step, --seconds et --timeout doivent être positifs")
    args.levels = sorted({1, *range(args.step, args.max_visitors + 1, args.step)})
    if args.url:
        loopback_only(args.url)
    data_dir = (args.data_dir or Path(os.environ.get("MAILLAGE_DATA_DIR") or ROOT / "data"))
    data_dir = data_dir.resolve()

    from geo import addresses
    from maillage import settings

    s = dataclasses.replace(settings.from_env(), data_dir=data_dir)
    queries = addresses.random_sample(addresses.load(s), 400, seed=0)["query"].tolist()

    with tempfile.TemporaryDirectory(prefix="maillage-load-protocol-") as tmp:
        if args.url:
            setup = f"serveur déjà lancé ({args.url})"
            server = contextlib.nullcontext((args.url.rstrip("/"),
                                             [int(p) for p in args.pids.split(",") if p]))
        elif args.proxy:
            if not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists():
                raise SystemExit("nginx introuvable : apt-get install -y nginx")
            setup = f"{args.proxy} répliques derrière nginx, PostgreSQL partagé"
            os.chmod(tmp, 0o755)  # the replicas may run as an unprivileged user
            server = proxied_replicas(args.proxy, data_dir, Path(tmp) / "run")
        else:
            setup = "1 réplique en direct (SQLite)"
            server = direct_server(data_dir, Path(tmp) / "streamlit.log")
        with server as (base, pids):
            runs = asyncio.run(ramp(args, base, pids, queries))
    result = {"command": "python -m benchmarks.load_protocol " + " ".join(
                  sys.argv[1:] if argv is None else argv),
              "setup": setup, "pages": list(args.pages), "machine": _machine(),
              "limit_s": args.limit,
              "think_s": args.think, "timeout_s": args.timeout, **runs}
    text = json.dumps(result, ensure_ascii=False, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(french(result), file=sys.stderr)
    return result


if __name__ == "__main__":
    main()
