"""Time to refusal of hostile CSV files, through the stores and the command line (issue #13).

Run: ``.venv/bin/python -m benchmarks.import_bounds`` (``--skip-valid`` leaves out the
last, slow row). In a temporary folder it writes three files from the security findings:

* ``entete-40000`` — a header of 40 000 cells (the 32 standard columns, then « nom »
  repeated), and one row: the old duplicate-column check was quadratic (~47 s);
* ``ligne-4mo`` — 4 MB on one line (``nom,`` repeated, no line break): over 9 minutes
  in the old command line;
* ``valide-112mo`` — 300 000 valid-looking places (standard columns, about 112 MB): over
  10 minutes at a full core and +1.4 GB of memory on the old server;

then imports each one, every case in a fresh process, through the three stores'
functions (``registry.store.import_csv``, ``indicators.store.import_csv``,
``tours_io.read_stops``) and the three commands (``maillage places import``,
``maillage indicators import``, ``maillage tours --stops``), on an empty SQLite store.
For each: wall and CPU seconds to the refusal (in-process: the call only; command: the
whole process, start-up included; a first row, ``maillage --help``, gives the start-up
alone), the peak resident memory of the process (``ru_maxrss``), and the first line of
the refusal. CPU seconds are the figure to read on a loaded machine. Last row: a file
the bounds accept (20 000 valid places, about 8 MB) imported for real, for scale. Prints
a table, then JSON.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: (file, what it is) in the order of the table.
FILES = {
    "entete-40000": "en-tête de 40 000 cellules",
    "ligne-4mo": "4 Mo sur une ligne",
    "valide-112mo": "112 Mo, 300 000 lignes valides",
}
#: Import paths: in-process function, or command (``{f}`` is the file, ``{out}`` a plan).
PATHS = {
    "registre (store.import_csv)": ("places", None),
    "indicateurs (store.import_csv)": ("indicators", None),
    "arrêts (tours_io.read_stops)": ("stops", None),
    "maillage places import": (None, ["places", "import", "{f}"]),
    "maillage indicators import": (None, ["indicators", "import", "{f}"]),
    "maillage tours --stops": (None, ["tours", "--stops", "{f}", "--out", "{out}"]),
}
#: The command's start-up alone (imports), to read the command rows against.
STARTUP = "maillage --help"


def _place_row(i: int) -> dict[str, str]:
    from tests.registry_fixtures import row

    r = row(id=f"bench-{i:06d}", nom=f"Lieu {i}", latitude=f"{14.6 + (i % 500) * 1e-4:.4f}")
    r["presentation_detail"] = "Accueil sans rendez-vous, ateliers collectifs. " * 2
    return r


def write_files(folder: Path) -> dict[str, Path]:
    """The three hostile files (and the largest accepted one) in ``folder``."""
    from maillage.registry import csvio, standard

    cols = list(csvio.columns(include_local=True, private=True))
    paths = {name: folder / f"{name}.csv" for name in FILES}
    header = list(standard.fields()) + ["nom"] * (40_000 - len(standard.fields()))
    with paths["entete-40000"].open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerow(["x"] * len(header))
    paths["ligne-4mo"].write_bytes(b"nom," * (1024 * 1024))
    with paths["valide-112mo"].open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(cols)
        base = _place_row(0)
        base["id"], base["nom"], base["presentation_detail"] = "bench-000000", "Lieu 10000", ""
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([base.get(c) or "" for c in cols])
        pad = max(0, 112 * 2**20 // 300_000 - len(buf.getvalue().encode()))
        text = "Accueil sans rendez-vous, ateliers collectifs. " * 10
        base["presentation_detail"] = text[:pad]  # rows of about 112 Mo / 300 000
        for i in range(300_000):
            base["id"], base["nom"] = f"bench-{i:06d}", f"Lieu {i}"
            w.writerow([base.get(c) or "" for c in cols])
    valid = folder / "valide-20000.csv"
    valid.write_bytes(csvio.write_csv([_place_row(i) for i in range(20_000)], True, True))
    paths["valide-20000"] = valid
    return paths


def _env(folder: Path) -> dict[str, str]:
    """The default data folder (its communes), a private empty SQLite store."""
    return {**os.environ, "MAILLAGE_DATABASE_URL": f"sqlite:///{folder / 'bench.db'}"}


def in_process(kind: str, path: str) -> None:
    """One import in this process; prints JSON (seconds, peak RSS, refusal)."""
    from geo import tours_io
    from maillage import auth, db
    from maillage.errors import MaillageError
    from maillage.indicators import store as ind_store
    from maillage.registry import store

    db.migrate()
    actor = auth.Actor("bench", "admin")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0, c0 = time.perf_counter(), time.process_time()
    refusal = ""
    try:
        if kind == "places":
            store.import_csv(actor, Path(path), Path(path).name)
        elif kind == "indicators":
            ind_store.import_csv(actor, Path(path), Path(path).name)
        else:
            tours_io.read_stops(Path(path))
    except MaillageError as exc:
        refusal = _first_problem(str(exc))
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"s": elapsed, "cpu_s": cpu, "rss_before_kb": rss_before,
                      "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      "refusal": refusal}))


def _first_problem(message: str) -> str:
    lines = message.splitlines()
    return (lines[1] if len(lines) > 1 else lines[0])[:110]


def _run(cmd: list[str], env: dict[str, str], stderr: Path
         ) -> tuple[float, int, resource.struct_rusage]:
    """Wall seconds, exit code and resource usage of one child process."""
    t0 = time.perf_counter()
    with stderr.open("wb") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=fh)
        out = proc.stdout.read() if proc.stdout else b""
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    stderr.with_suffix(".out").write_bytes(out)
    return time.perf_counter() - t0, proc.returncode, usage


def _measure(label: str, file: str, path: Path, folder: Path) -> dict:
    kind, command = PATHS[label]
    env = _env(folder)
    log = folder / "stderr.txt"
    if kind is not None:
        _, code, _ = _run([sys.executable, "-m", "benchmarks.import_bounds", "--one", kind,
                           str(path)], env, log)
        try:
            out = log.with_suffix(".out").read_text(encoding="utf-8")
            r = json.loads(out.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            raise SystemExit(f"échec de la mesure {label} / {file} (code {code}) :\n"
                             + log.read_text(encoding="utf-8", errors="replace")) from None
        return {"file": file, "path": label, "s": r["s"], "cpu_s": r["cpu_s"],
                "rss_mb": r["rss_kb"] / 1024, "rss_before_mb": r["rss_before_kb"] / 1024,
                "refusal": r["refusal"]}
    args = [a.format(f=path, out=folder / "plan.json") for a in command]
    elapsed, code, usage = _run([sys.executable, "-m", "maillage.cli", *args], env, log)
    err = log.read_text(encoding="utf-8", errors="replace")
    refusal = _first_problem(err.removeprefix("maillage : ")) if code == 2 else f"code {code}"
    if command == ["--help"]:
        refusal = "(démarrage seul)" if code == 0 else f"code {code}"
    return {"file": file, "path": label, "s": elapsed,
            "cpu_s": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
            "rss_before_mb": None, "refusal": refusal}


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-valid", action="store_true",
                        help="sans l'import réel de 20 000 lieux (environ 30 s)")
    parser.add_argument("--one", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        in_process(*args.one)
        return []
    load_before = os.getloadavg()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        paths = write_files(folder)
        sizes = {k: p.stat().st_size for k, p in paths.items()}
        print(f"fichiers écrits en {time.perf_counter() - t0:.1f} s : "
              + ", ".join(f"{k} {v / 2**20:.1f} Mo" for k, v in sizes.items()), flush=True)
        print(f"{'fichier':14} {'chemin':32} {'durée':>8} {'CPU':>8} {'RSS max':>8}  refus")
        PATHS[STARTUP] = (None, ["--help"])
        cases = [("-", STARTUP)] + [(f, p) for f in FILES for p in PATHS if p != STARTUP]
        if not args.skip_valid:
            cases.append(("valide-20000", "registre (store.import_csv)"))
        for file, label in cases:
            r = _measure(label, file, paths.get(file, folder), folder)
            results.append(r)
            print(f"{file:14} {label:32} {r['s']:6.2f} s {r['cpu_s']:6.2f} s "
                  f"{r['rss_mb']:5.0f} Mo  {r['refusal'] or 'accepté'}", flush=True)
    report = {"benchmark": "import_bounds", "python": platform.python_version(),
              "machine": platform.machine(), "cpus": os.cpu_count(),
              "load_avg_before": [round(x, 2) for x in load_before],
              "load_avg_after": [round(x, 2) for x in os.getloadavg()],
              "sizes_bytes": sizes,
              "results": [{**r, "s": round(r["s"], 3), "cpu_s": round(r["cpu_s"], 3),
                           "rss_mb": round(r["rss_mb"], 1)} for r in results]}
    print(json.dumps(report, ensure_ascii=False))
    return results


if __name__ == "__main__":
    main()
