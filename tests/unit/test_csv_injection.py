"""The CLI's `--output csv` defuses spreadsheet formulas (OWASP: a leading ' on = + - @ tab CR), numbers untouched."""

from __future__ import annotations

import csv
import io

import pytest

from cli.output import Output, defuse_formula, emit


@pytest.mark.parametrize(("text", "written"), [
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"), ("+SUM(A1)", "'+SUM(A1)"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"), ("-12.5", "-12.5"), ("+3e5", "+3e5"),
    ("web-1", "web-1"), ("", ""),
])
def test_defuse_formula(text: str, written: str) -> None:
    assert defuse_formula(text) == written


def test_csv_output_defuses_every_text_cell(capsys: pytest.CaptureFixture[str]) -> None:
    emit([{"name": "=cmd|' /C calc'!A0", "savings": -12.5, "note": "@evil"}], ["name", "savings", "note"], Output.csv)
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows == [["name", "savings", "note"], ["'=cmd|' /C calc'!A0", "-12.50", "'@evil"]]
