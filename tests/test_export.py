"""The one CSV writer and the one XLSX writer (coverage.export), and that every export goes through them."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from coverage.export import Sheet, csv_bytes, neutralise_formula, plain_cell, xlsx_bytes

HOSTILE = ["=1+2", "+SUM(A1)", "-3", "@cmd", "\tTab", "plain"]


def _rows(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())  # spreadsheets read '£' only with the byte-order mark
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (None, None),
        (float("nan"), None),
        (pd.NA, None),
        (np.int64(3), 3),
        (np.float64(2.5), 2.5),
        (float("inf"), None),
        (True, "Yes"),
        (np.bool_(False), "No"),
        (["S001", "S002"], "S001, S002"),
        ("=x", "=x"),  # text is left to each format's own guard
    ],
)
def test_plain_cell(value, cell):
    assert plain_cell(value) == cell


def test_csv_neutralises_text_keeps_numbers_and_uses_crlf():
    frame = pd.DataFrame({"=header": HOSTILE, "n": [1, -2, 3.5, np.nan, 5, 6], "flag": [True, False] * 3})
    data = csv_bytes(frame)
    assert data.decode("utf-8-sig").count("\r\n") == len(frame) + 1
    header, *body = _rows(data)
    assert header == ["'=header", "n", "flag"]
    assert [row[0] for row in body] == [neutralise_formula(v) for v in HOSTILE]
    assert [row[1] for row in body] == ["1.0", "-2.0", "3.5", "", "5.0", "6.0"]  # a number is never quoted
    assert [row[2] for row in body] == ["Yes", "No"] * 3


def test_xlsx_keeps_text_exactly_as_text_and_drops_control_characters():
    frame = pd.DataFrame({"a": HOSTILE, "b": ["bell\x07", "ok", "x", "y", "z", "w"]})
    sheet = load_workbook(io.BytesIO(xlsx_bytes([("Data", frame)])))["Data"]
    cells = [sheet.cell(row=i, column=1) for i in range(2, 8)]
    assert [c.value for c in cells] == HOSTILE
    assert all(c.data_type == "s" for c in cells)
    assert all(c.quotePrefix for c in cells[:5]) and not cells[5].quotePrefix
    assert sheet.cell(row=2, column=2).value == "bell "
    assert sheet.freeze_panes == "A2" and sheet.cell(row=1, column=1).font.bold


def test_a_sheet_of_several_tables_has_bold_titles_and_headers():
    sheet = Sheet("Results")
    sheet.add_row(["A title"], bold=True)
    sheet.add_table(pd.DataFrame({"year": [1, 2], "cost": [10.0, 20.0]}), title="By year")
    book = load_workbook(io.BytesIO(xlsx_bytes([sheet])))["Results"]
    assert [[c.value for c in row] for row in book.iter_rows()] == [
        ["A title", None],
        ["By year", None],
        ["year", "cost"],
        [1, 10],
        [2, 20],
    ]
    assert [book.cell(row=r, column=1).font.bold for r in range(1, 6)] == [True, True, True, False, False]


def test_long_sheet_names_are_cut_to_excel_limit():
    book = load_workbook(io.BytesIO(xlsx_bytes([("x" * 40, pd.DataFrame({"a": [1]}))])))
    assert book.sheetnames == ["x" * 31]


def test_every_download_and_briefing_file_uses_the_one_writer():
    """No other module writes CSV or XLSX: the formula guard cannot be bypassed by a second writer."""
    from coverage import paths

    writers = []
    for path in sorted((paths.REPO_ROOT / "coverage").rglob("*.py")) + sorted((paths.REPO_ROOT / "ui").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        relative = path.relative_to(paths.REPO_ROOT).as_posix()
        if relative == "coverage/export.py":
            continue
        if "openpyxl" in text or "csv.writer" in text or "ExcelWriter" in text:
            writers.append(relative)
    # The offline build writes the shipped data files with pandas (not downloads, never user text).
    assert [w for w in writers if not w.startswith("coverage/build/")] == []
