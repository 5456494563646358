"""`maillage tours`: a bad stops file is refused with line numbers and nothing is written."""

from __future__ import annotations

import json

from maillage import cli


def test_bad_file_refused_nothing_written(tmp_path, capsys):
    stops = tmp_path / "arrets.csv"
    stops.write_text("nom,longitude,latitude,frequence\nA,-61.0,14.6,hebdomadaire\n"
                     "B,-61.0,abc,\nC,-61.0,14.6,tous les jours\n", encoding="utf-8")
    out = tmp_path / "plan.json"
    code = cli.main(["tours", "--stops", str(stops), "--out", str(out), "--ics",
                     str(tmp_path / "p.ics")])
    err = capsys.readouterr().err
    assert code == 2 and "ligne 3" in err and "ligne 4" in err
    assert not out.exists() and not (tmp_path / "p.ics").exists()


def test_plan_written_with_calendar(tmp_path, capsys):
    from icalendar import Calendar

    from geo import tours_io

    stops = tmp_path / "arrets.csv"
    halls = tours_io.town_halls()[6:10]
    stops.write_text("nom,longitude,latitude,duree_min\n" + "".join(
        f"{h.name},{h.lon},{h.lat},60\n" for h in halls), encoding="utf-8")
    out, ics = tmp_path / "plan.json", tmp_path / "plan.ics"
    code = cli.main(["tours", "--stops", str(stops), "--vans", "1", "--weeks", "1", "--out",
                     str(out), "--ics", str(ics), "--depot", "-61.07,14.61", "--start",
                     "2026-06-01", "--time-limit", "2"])
    assert code == 0, capsys.readouterr().err
    doc = json.loads(out.read_text(encoding="utf-8"))
    n = sum(len(t["visits"]) for t in doc["tours"])
    assert n + len(doc["unserved"]) == len(halls)
    assert len(Calendar.from_ical(ics.read_bytes()).walk("VEVENT")) == n
