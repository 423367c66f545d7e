"""The one CSV writer and the one XLSX writer, with the one formula-injection guard.

Every download and briefing file is written here, so a cell a spreadsheet would run as a formula
(OWASP "CSV injection") is handled the same way everywhere:

- in CSV it gets a leading ``'`` (``neutralise_formula``), which a re-upload of the register takes off;
- in XLSX it is stored as text with Excel's quote prefix (``keep_text_as_text``): it shows exactly as
  written and never runs.

Cells are written the same way in both formats: missing values are empty, numpy numbers become plain
numbers, booleans read "Yes"/"No", lists are joined with ", ". CSV is UTF-8 with a byte-order mark
(so spreadsheets read '£' and 'ô') and CRLF line ends (RFC 4180).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from openpyxl import Workbook

# A cell beginning with one of these is run as a formula by spreadsheets (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Control characters the XLSX (XML) format cannot hold; openpyxl refuses them.
_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
MAX_COLUMN_WIDTH = 70  # characters; longer text wraps
_SIZED_ROWS = 200  # column widths are judged on the first rows only: big tables stay fast


def neutralise_formula(value: str) -> str:
    """Make a cell safe for spreadsheets: prefix ``'`` if it starts with = + - @, tab or CR."""
    if value and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def formula_like_cells(frame: pd.DataFrame, id_column: str = "service_id") -> pd.DataFrame:
    """Every text cell that begins with = + - @ (or tab/CR): where it is and what it says."""
    found = []
    for position, record in enumerate(frame.to_dict("records"), start=2):
        for column, value in record.items():
            if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
                found.append({"line": position, "row id": record.get(id_column, ""), "column": column, "value": value})
    return pd.DataFrame(found, columns=["line", "row id", "column", "value"])


def plain_cell(value: object) -> object:
    """A table value as a file cell: None for missing, plain int/float, "Yes"/"No", lists joined."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):  # numpy's bool is not a Python bool
        return "Yes" if value else "No"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# ---------------------------------------------------------------------------------------------
# CSV


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The atlas's CSV: header and text cells neutralised, cells as ``plain_cell``; UTF-8 with BOM, CRLF."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise_formula(str(column)) for column in frame.columns])
    for row in frame.itertuples(index=False):
        cells = (plain_cell(value) for value in row)
        writer.writerow(
            ["" if cell is None else neutralise_formula(cell) if isinstance(cell, str) else cell for cell in cells]
        )
    return buffer.getvalue().encode("utf-8-sig")


# ---------------------------------------------------------------------------------------------
# XLSX


@dataclass
class Sheet:
    """One worksheet: rows of cells, with the rows to set in bold (1-based) and whether the first row
    is a header to freeze. ``Sheet.of(name, frame)`` makes the usual one-table sheet."""

    name: str
    rows: list[list[object]] = field(default_factory=list)
    bold_rows: set[int] = field(default_factory=set)
    freeze_header: bool = False

    @classmethod
    def of(cls, name: str, frame: pd.DataFrame) -> Sheet:
        sheet = cls(name, bold_rows={1}, freeze_header=True)
        sheet.add_table(frame)
        return sheet

    def add_row(self, cells: Iterable[object], *, bold: bool = False) -> None:
        self.rows.append(list(cells))
        if bold:
            self.bold_rows.add(len(self.rows))

    def add_table(self, frame: pd.DataFrame, *, title: str | None = None) -> None:
        """A table inside the sheet, below what is there: an optional bold title, a bold header, its rows."""
        if title is not None:
            self.add_row([title], bold=True)
        self.add_row([str(column) for column in frame.columns], bold=True)
        for row in frame.itertuples(index=False):
            self.add_row(row)


def _xlsx_cell(value: object) -> object:
    cell = plain_cell(value)
    # Text stays exactly as written (keep_text_as_text makes formula-like text inert), minus the
    # control characters the format cannot store.
    return _ILLEGAL_XLSX.sub(" ", cell) if isinstance(cell, str) else cell


def keep_text_as_text(workbook: Workbook) -> None:
    """Store every text cell a spreadsheet could run (it begins with = + - @) as text with Excel's quote
    prefix: it shows exactly as written, with no added apostrophe, and never runs as a formula.

    openpyxl otherwise stores a string beginning with "=" as a formula."""
    for worksheet in workbook.worksheets:
        for row in worksheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_TRIGGERS):
                    cell.data_type = "s"
                    cell.quotePrefix = True


def xlsx_bytes(sheets: Sequence[Sheet | tuple[str, pd.DataFrame]]) -> bytes:
    """The atlas's workbook: one worksheet per sheet (a ``(name, frame)`` pair is ``Sheet.of``), bold rows
    as given, columns sized to their text (long text wraps), formula-like text kept as text."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    for given in sheets:
        sheet = given if isinstance(given, Sheet) else Sheet.of(*given)
        worksheet = workbook.create_sheet(title=sheet.name[:31])  # Excel's limit on sheet names
        for cells in sheet.rows:
            worksheet.append([_xlsx_cell(value) for value in cells])
        for number in sheet.bold_rows:
            for cell in worksheet[number]:
                cell.font = bold
        widths: dict[int, int] = {}
        for cells in sheet.rows[:_SIZED_ROWS]:
            for index, value in enumerate(cells, start=1):
                widths[index] = max(widths.get(index, 0), len(str(_xlsx_cell(value) or "")))
        for index, longest in widths.items():
            letter = get_column_letter(index)
            worksheet.column_dimensions[letter].width = min(max(10, longest + 2), MAX_COLUMN_WIDTH)
            if longest > MAX_COLUMN_WIDTH:
                for cell in worksheet[letter][1:]:
                    cell.alignment = wrap
        if sheet.freeze_header:
            worksheet.freeze_panes = "A2"
    keep_text_as_text(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
