"""CSV downloads neutralise formula cells (OWASP CSV injection); numbers stay numbers."""

from __future__ import annotations

import csv
import io
from datetime import date

import numpy as np
import pandas as pd
import pytest

from analysis import tours
from analysis.schedule import Period
from analysis.tours import Problem, Stop, Travel, Van
from geo import tours_io
from maillage import csvsafe
from maillage.indicators import csvio as ind_csvio
from maillage.registry import csvio as reg_csvio
from tests.registry_fixtures import row

FORMULAS = ["=1+1", "+HYPERLINK(\"http://x\")", "-2+3", "@SUM(A1)", "\t=1", "\r=1",
            "=cmd|' /C calc'!A0", "'=1+1", "''@x", "-", "+"]
PLAIN = ["", "Mairie", "61.07", "-61.07", "+596", "14", "'quoted", "a=b", " =1", "1-2"]


@pytest.mark.parametrize("value", FORMULAS)
def test_formula_cells_get_a_leading_quote_and_come_back(value: str) -> None:
    out = csvsafe.cell(value)
    assert out == "'" + value
    assert csvsafe.uncell(out) == value


@pytest.mark.parametrize("value", PLAIN)
def test_text_and_numbers_are_left_alone(value: str) -> None:
    assert csvsafe.cell(value) == value
    assert csvsafe.uncell(csvsafe.cell(value)) == value


def test_one_function_for_every_csv_writer() -> None:
    assert reg_csvio.escape_cell is csvsafe.cell and reg_csvio.unescape_cell is csvsafe.uncell
    assert ind_csvio.escape_cell is csvsafe.cell and ind_csvio.unescape_cell is csvsafe.uncell


def test_frame_csv_neutralises_text_and_keeps_numbers() -> None:
    df = pd.DataFrame({"Territoire": ["=1+1", "Le Lamentin", None, "-61.07"],
                       "Habitants": [-3.5, 1200.0, np.nan, 0.0],
                       "Couverts": [1, -2, 3, 4]})
    safe = csvsafe.frame(df)
    assert list(safe["Territoire"][:2]) == ["'=1+1", "Le Lamentin"]
    assert pd.isna(safe["Territoire"].iloc[2]) and safe["Territoire"].iloc[3] == "-61.07"
    assert safe["Habitants"].dtype == df["Habitants"].dtype
    pd.testing.assert_series_equal(safe["Couverts"], df["Couverts"])
    assert df["Territoire"].iloc[0] == "=1+1"  # the page's own table is not changed
    back = pd.read_csv(io.BytesIO(csvsafe.frame_csv(df)), encoding="utf-8-sig")
    assert back["Territoire"].iloc[0] == "'=1+1"
    assert back["Habitants"].iloc[0] == -3.5 and back["Couverts"].tolist() == [1, -2, 3, 4]


def test_registry_export_neutralises_its_cells() -> None:
    data = reg_csvio.write_csv([row(nom="=HYPERLINK(\"http://x\")", adresse="@SUM(1)")])
    got = next(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert got["nom"] == "'=HYPERLINK(\"http://x\")" and got["adresse"] == "'@SUM(1)"
    assert got["longitude"] == "-61.0695"  # a number, not prefixed


def test_tours_table_neutralises_stop_names_and_keeps_coordinates() -> None:
    stops = [Stop("=1+1", -61.05, 14.62, "hebdomadaire", 3600, address="+cmd", key="s0"),
             Stop("Bourg", -61.03, 14.62, "hebdomadaire", 3600, key="s1")]
    problem = Problem(stops, [Van("A", (-61.07, 14.61))],
                      Period.with_holidays(date(2026, 6, 1), 1))
    sec = np.full((3, 3), 900.0)
    np.fill_diagonal(sec, 0)
    plan = tours.solve(problem, Travel(sec, np.zeros(3), np.ones(3, bool)), 1)
    rows = list(csv.DictReader(io.StringIO(tours_io.plan_csv(plan, problem))))
    first = next(r for r in rows if r["id"] == "s0")
    assert first["arret"] == "'=1+1" and first["adresse"] == "'+cmd"
    assert first["longitude"] == "-61.050000"


def test_french_excel_reads_back_in_columns_with_decimal_commas() -> None:
    df = pd.DataFrame({"Territoire": ["=1+1", "Le Lamentin; centre", None],
                       "Habitants": [1234.4, 0.6, np.nan],
                       "Habitants à 15 min ou moins (%)": [12.345, np.inf, 100.0],
                       "Temps médian (min)": [-3.24, 7.0, 12.5]})
    data = csvsafe.french_excel(df, whole=["Habitants"], decimals=1)
    assert data.startswith("\ufeff".encode())  # UTF-8 with a BOM: Excel reads the accents
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert rows[0] == list(df.columns)
    assert rows[1] == ["'=1+1", "1234", "12,3", "-3,2"]  # formula neutralised, comma, rounded
    assert rows[2] == ["Le Lamentin; centre", "1", "", "7,0"]  # ; inside a cell is quoted
    assert rows[3] == ["", "", "100,0", "12,5"]  # missing and infinite values: empty cells
    assert text.count("\r\n") == 4
    assert df["Habitants"].iloc[0] == 1234.4  # the page's own table is not changed


def test_french_excel_refuses_an_unknown_whole_column() -> None:
    with pytest.raises(ValueError, match="Habitant"):
        csvsafe.french_excel(pd.DataFrame({"Habitants": [1.0]}), whole=["Habitant"])
