"""Safe exports: cells a spreadsheet would run as formulas are neutralised before they leave the app."""

from __future__ import annotations

import pandas as pd

# A cell beginning with one of these is run as a formula by spreadsheets (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: str) -> str:
    """Make a cell safe for spreadsheets: prefix ``'`` if it starts with = + - @, tab or CR."""
    if value and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def keep_text_as_text(workbook) -> None:
    """Store every text cell a spreadsheet could run (it begins with = + - @) as text with Excel's quote
    prefix: it shows exactly as written, with no added apostrophe, and never runs as a formula.

    openpyxl otherwise stores a string beginning with "=" as a formula."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_TRIGGERS):
                    cell.data_type = "s"
                    cell.quotePrefix = True


def formula_like_cells(frame: pd.DataFrame, id_column: str = "service_id") -> pd.DataFrame:
    """Every text cell that begins with = + - @ (or tab/CR): where it is and what it says."""
    found = []
    for position, row in enumerate(frame.itertuples(index=False), start=2):
        record = row._asdict()
        for column, value in record.items():
            if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
                found.append({"line": position, "row id": record.get(id_column, ""), "column": column, "value": value})
    return pd.DataFrame(found, columns=["line", "row id", "column", "value"])


def safe_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV (with BOM, so spreadsheets read '£'); text cells starting with = + - @ are neutralised."""
    out = frame.copy()
    for column in out.columns:
        if (
            out[column].dtype == object
            or isinstance(out[column].dtype, pd.CategoricalDtype)
            or pd.api.types.is_string_dtype(out[column])
        ):
            out[column] = [neutralise_formula(v) if isinstance(v, str) else v for v in out[column].astype(object)]
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")
