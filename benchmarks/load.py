"""Many viewers at once: concurrent browser sessions on « Trouver » and « Couverture ».

Run: ``.venv/bin/python -m benchmarks.load [--sessions 20] [--seconds 60]`` (``--sessions
5,10,20`` runs the levels one after the other on the same server). Everything stays on
127.0.0.1: the data step prepares a temporary data folder from the local mirror (or
``--data-dir``), a Streamlit server runs ``server.py`` on it, and one headless Debian
chromium drives one Playwright context per session (own cookies, own Streamlit session).
Half the sessions are on ``/trouver?q=<a real BANO address>`` (a new address at each
load), half on ``/couverture``. Each session loads its page again and again until the
duration is over (loads started before the end are allowed to finish, within
``--timeout``), so the test is bounded.

A page is **ready** when:

* ``/trouver``: the result cards are drawn (``.trouver-card``, at least one) and the map
  below shows at least as many circles (``path.leaflet-interactive``) as cards;
* ``/couverture``: the paragraph « Zones blanches aujourd'hui » (the end of the page
  script) is shown and the map draws the 34 communes of the choropleth.

An **error** is a load that times out, shows a Streamlit exception or error box
(``stException``, ``stAlertContentError``), or raises a JavaScript exception in the page;
new tracebacks in the server log are counted too. The server's memory is the RSS of the
Streamlit process and its children, read from ``/proc`` every second. CPU seconds of the
server and of the browsers are read from ``/proc`` as well: both share the same cores.

Prints JSON on stdout and a short French summary on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run",
               "--disable-quic"]
PAGES = ("trouver", "couverture")
#: Outline colour of the commune choropleth (geo.choropleth.commune_layer).
COMMUNE_STROKE = "#333333"
ERROR_BOXES = "[data-testid='stException'], [data-testid='stAlertContentError']"
_CLK = os.sysconf("SC_CLK_TCK")
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


# ----------------------------------------------------------------------------- /proc


def _children() -> dict[int, list[int]]:
    """Parent pid → child pids, for every process visible in ``/proc``."""
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def _tree(pid: int, kids: dict[int, list[int]]) -> list[int]:
    """``pid`` and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def _rss_mb(pids: list[int]) -> float:
    """Resident memory of ``pids`` in MiB (processes that ended count 0)."""
    total = 0
    for p in pids:
        with contextlib.suppress(OSError, IndexError):
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1])
    return total * _PAGE_SIZE / 2**20


def _cpu_of(pid: int) -> float | None:
    """User + system CPU seconds of one process (None once it has ended)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _CLK


class Sampler:
    """Samples, every second, the server's RSS and the CPU time of the server and browsers.

    CPU of processes that end during the level (a closed context's renderer) is kept at
    its last sample, so the browsers' share is not lost when contexts close.
    """

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.rss_mb: list[float] = []
        self.start: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.server: set[int] = set()
        self.tick(first=True)

    def tick(self, first: bool = False) -> None:
        kids = _children()
        server = _tree(self.server_pid, kids)
        self.server.update(server)
        self.rss_mb.append(_rss_mb(server))
        for pid in _tree(os.getpid(), kids):
            if pid == os.getpid():
                continue
            cpu = _cpu_of(pid)
            if cpu is None:
                continue
            if first:
                self.start[pid] = cpu
            self.last[pid] = cpu

    def cpu_s(self) -> tuple[float, float]:
        """CPU seconds used since the first sample by (the server, the browsers)."""
        used = {p: c - self.start.get(p, 0.0) for p, c in self.last.items()}
        server = sum(c for p, c in used.items() if p in self.server)
        return server, sum(c for p, c in used.items() if p not in self.server)


# ----------------------------------------------------------------------------- server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _prepare(data_dir: Path) -> float:
    """Run the data step on ``data_dir`` (local mirror only); returns its duration."""
    t = time.perf_counter()
    env = {**os.environ, "MAILLAGE_DATA_DIR": str(data_dir)}
    subprocess.run([sys.executable, "-m", "maillage.cli", "data"], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=900)
    return time.perf_counter() - t


def _start_server(data_dir: Path, log_path: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "MAILLAGE_DATA_DIR": str(data_dir)}
    log = open(log_path, "wb")  # noqa: SIM115 (kept open for the server's lifetime)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "server.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Streamlit s'est arrêté (code {proc.returncode}).")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise TimeoutError(f"Streamlit ne répond pas sur {base}")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _tracebacks(log_path: Path) -> int:
    try:
        return log_path.read_text(errors="replace").count("Traceback")
    except OSError:
        return 0


# ----------------------------------------------------------------------------- browser


@dataclass
class Load:
    """One page load of one session."""

    page: str
    seconds: float
    error: str = ""


@dataclass
class Sessions:
    """What every session recorded during one level."""

    loads: list[Load] = field(default_factory=list)


async def _local_only(route) -> None:
    url = route.request.url
    if url.startswith(("http://127.0.0.1", "http://localhost", "data:", "blob:")):
        await route.continue_()
    else:
        await route.abort()


async def _map_frame(pg):
    handle = await pg.wait_for_selector("iframe[title*='streamlit_folium']", state="attached")
    frame = await handle.content_frame()
    await frame.wait_for_selector(".leaflet-container")
    return frame


async def _ready(pg, page: str) -> None:
    """Wait until ``page`` is ready (see the module docstring) or an error box shows."""
    if page == "trouver":
        target = pg.locator(".trouver-card").first
    else:
        target = pg.locator("p", has_text="Zones blanches aujourd'hui").first
    err = pg.locator(ERROR_BOXES).first
    await target.or_(err).wait_for()
    if await err.count():
        raise RuntimeError("boîte d'erreur : " + (await err.inner_text())[:200])
    frame = await _map_frame(pg)
    if page == "trouver":
        n = await pg.locator(".trouver-card").count()
        await frame.wait_for_function(
            f"document.querySelectorAll('path.leaflet-interactive').length >= {n}")
    else:
        await frame.wait_for_function(
            f"document.querySelectorAll(\"path[stroke='{COMMUNE_STROKE}']\").length >= 34")


async def _session(browser, base: str, page: str, queries: list[str], start_in: float,
                   end_at: float, timeout_s: float, out: Sessions,
                   max_loads: int | None = None) -> None:
    """One visitor loading ``page`` again and again until ``end_at`` (or ``max_loads``)."""
    context = await browser.new_context(viewport={"width": 1366, "height": 900},
                                        locale="fr-FR")
    await context.route("**/*", _local_only)
    pg = await context.new_page()
    pg.set_default_timeout(timeout_s * 1000)
    js_errors: list[str] = []
    pg.on("pageerror", lambda exc: js_errors.append(str(exc)))
    await asyncio.sleep(start_in)
    i = 0
    try:
        while time.monotonic() < end_at and (max_loads is None or i < max_loads):
            url = (f"{base}/trouver?q={quote(queries[i % len(queries)])}" if page == "trouver"
                   else f"{base}/couverture")
            i += 1
            js_errors.clear()
            t = time.perf_counter()
            error = ""
            try:
                await pg.goto(url)
                await _ready(pg, page)
                if await pg.locator(ERROR_BOXES).count():
                    error = "boîte d'erreur après le chargement"
            except Exception as exc:
                error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            if js_errors and not error:
                error = f"JavaScript : {js_errors[0][:200]}"
            out.loads.append(Load(page, time.perf_counter() - t, error))
    finally:
        await context.close()


async def _sample(sampler: Sampler, stop: asyncio.Event) -> None:
    """One :meth:`Sampler.tick` a second until ``stop``."""
    while not stop.is_set():
        sampler.tick()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1.0)


def _stats(seconds: list[float]) -> dict[str, float | None]:
    if not seconds:
        return {"median_s": None, "p95_s": None, "max_s": None}
    s = sorted(seconds)
    p95 = s[min(len(s) - 1, max(0, round(0.95 * len(s)) - 1))]
    return {"median_s": round(statistics.median(s), 2), "p95_s": round(p95, 2),
            "max_s": round(s[-1], 2)}


def _summary(loads: list[Load]) -> dict:
    ok = [x.seconds for x in loads if not x.error]
    errors = [x.error for x in loads if x.error]
    kinds: dict[str, int] = {}
    for e in errors:
        key = re.sub(r"\d+", "N", e.split(":")[0])
        kinds[key] = kinds.get(key, 0) + 1
    return {"loads": len(loads), "errors": len(errors), "error_kinds": kinds,
            "first_errors": errors[:3], **_stats(ok)}


async def _level(browser, base: str, server: subprocess.Popen, log_path: Path, n: int,
                 seconds: float, timeout_s: float, queries: list[str]) -> dict:
    """``n`` sessions for ``seconds``; the figures of that level."""
    load_before = os.getloadavg()
    traces = _tracebacks(log_path)
    sampler = Sampler(server.pid)
    stop = asyncio.Event()
    mem = asyncio.create_task(_sample(sampler, stop))
    out = Sessions()
    t0 = time.monotonic()
    end_at = t0 + seconds
    per = max(1, len(queries) // n)
    tasks = [_session(browser, base, PAGES[i % 2], queries[i * per:(i + 1) * per] or queries,
                      start_in=2.0 * i / n, end_at=end_at, timeout_s=timeout_s, out=out)
             for i in range(n)]
    await asyncio.gather(*tasks)
    wall = time.monotonic() - t0
    stop.set()
    await mem
    sampler.tick()
    server_cpu, browser_cpu = sampler.cpu_s()
    samples = sampler.rss_mb
    new_traces = _tracebacks(log_path) - traces
    res = {
        "sessions": n, "seconds": seconds, "wall_s": round(wall, 1),
        "all": _summary(out.loads),
        **{p: _summary([x for x in out.loads if x.page == p]) for p in PAGES},
        "server_tracebacks": new_traces,
        "server_rss_mb": {"start": round(samples[0], 1), "peak": round(max(samples), 1),
                          "end": round(samples[-1], 1)},
        "cpu_s": {"server": round(server_cpu, 1), "browsers": round(browser_cpu, 1),
                  "cores_busy_server": round(server_cpu / wall, 2),
                  "cores_busy_browsers": round(browser_cpu / wall, 2)},
        "loadavg_1min_before": round(load_before[0], 2),
    }
    res["all"]["errors"] += new_traces
    return res


async def _run(args: argparse.Namespace, base: str, server: subprocess.Popen,
               log_path: Path, queries: list[str]) -> dict:
    from playwright.async_api import async_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("Chromium introuvable : installez le paquet Debian « chromium ».")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, headless=True,
                                           args=LAUNCH_ARGS)
        # warm-up: the first visitor of each page pays for the caches (graphs, finder, …)
        warm = Sessions()
        for page in PAGES:
            await _session(browser, base, page, queries[:1], 0.0, float("inf"),
                           max(args.timeout, 180.0), warm, max_loads=1)
        levels = []
        for n in args.sessions:
            print(f"… {n} sessions pendant {args.seconds:g} s", file=sys.stderr, flush=True)
            levels.append(await _level(browser, base, server, log_path, n, args.seconds,
                                       args.timeout, queries))
        await browser.close()
    return {"warm_up_s": {x.page: round(x.seconds, 2) for x in warm.loads},
            "warm_up_errors": [x.error for x in warm.loads if x.error], "levels": levels}


def _machine() -> dict:
    model = ""
    with contextlib.suppress(OSError):
        model = next((line.split(":", 1)[1].strip() for line in
                      Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "")
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(),
            "system": platform.platform()}


def french(result: dict) -> str:
    """The short French summary of :func:`main`'s result."""
    lines = [f"Charge : {result['machine']['cores']} cœurs partagés entre le serveur "
             "Streamlit et les navigateurs (chromium sans écran) ; tout sur 127.0.0.1.",
             f"Préchauffage (premier visiteur) : Trouver {result['warm_up_s'].get('trouver')} s,"
             f" Couverture {result['warm_up_s'].get('couverture')} s."]
    for lv in result["levels"]:
        a = lv["all"]
        per = " ; ".join(
            f"{p} : {lv[p]['loads']} chargements, médiane {lv[p]['median_s']} s, "
            f"p95 {lv[p]['p95_s']} s, {lv[p]['errors']} erreur(s)" for p in PAGES)
        verdict = ("objectif tenu" if a["errors"] == 0 and a["p95_s"] is not None
                   and a["p95_s"] < 3.0 else "objectif non tenu")
        lines.append(
            f"{lv['sessions']} sessions, {lv['seconds']:g} s : {a['loads']} chargements, "
            f"{a['errors']} erreur(s), prêt en {a['median_s']} s (médiane) / {a['p95_s']} s "
            f"(p95) — {verdict}. {per}. Mémoire du serveur : pic "
            f"{lv['server_rss_mb']['peak']} Mo, fin {lv['server_rss_mb']['end']} Mo. CPU : "
            f"serveur {lv['cpu_s']['cores_busy_server']} cœur, navigateurs "
            f"{lv['cpu_s']['cores_busy_browsers']} cœur.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", default="20",
                        help="concurrent sessions, or levels separated by commas (5,10,20)")
    parser.add_argument("--seconds", type=float, default=60.0, help="duration of each level")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="a page not ready after this many seconds is an error")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="prepared data folder (default: a temporary one, prepared here)")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    args.sessions = [int(x) for x in str(args.sessions).split(",") if x.strip()]
    if not args.sessions or min(args.sessions) < 1 or args.seconds <= 0:
        parser.error("--sessions et --seconds doivent être positifs")

    with tempfile.TemporaryDirectory(prefix="maillage-load-") as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        prep_s = _prepare(data_dir) if args.data_dir is None else 0.0
        from geo import addresses
        from maillage import settings

        os.environ["MAILLAGE_DATA_DIR"] = str(data_dir)
        s = settings.from_env()
        queries = addresses.random_sample(addresses.load(s), 400, seed=0)["query"].tolist()
        log_path = Path(tmp) / "streamlit.log"
        server, base = _start_server(data_dir, log_path)
        try:
            runs = asyncio.run(_run(args, base, server, log_path, queries))
        finally:
            _stop(server)
        result = {"command": "python -m benchmarks.load " + " ".join(sys.argv[1:] if argv is None
                                                                      else argv),
                  "machine": _machine(), "data_step_s": round(prep_s, 1),
                  "timeout_s": args.timeout, **runs}
    text = json.dumps(result, ensure_ascii=False, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(french(result), file=sys.stderr)
    return result


if __name__ == "__main__":
    main()
