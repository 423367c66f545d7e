"""Build ``data/indicators/recorded_crime.csv`` from the Home Office offence-code table (offline only).

Input: ``shared/data/crime/home_office_prc_pfa_offence_codes_8L_8M_8Q_8R_8U_annual_*.csv``, the
annual extract of the Home Office police recorded crime open data tables by police force area
(``shared/data/PROVENANCE.md`` section 6). The years ending December are kept (the periods of the
ONS tables and of the atlas's trends); regions, England, Wales and England and Wales are the sums
of their forces, and England and Wales is checked against the source's own sum.

A new release is a new file and ``atlas build-data``: periods are read from the file, never named here.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from coverage.errors import InputError, InputErrors
from coverage.model.demand import AREA_TYPES, RECORDED_CRIME_COLUMNS, recorded_crime_csv, validate_recorded_crime
from coverage.model.indicators import COUNTRY_CODES, ENGLAND_AND_WALES
from coverage.vocabulary import MEASURE, MEASURES

SOURCE_GLOB = "home_office_prc_pfa_offence_codes_8L_8M_8Q_8R_8U_annual_*.csv"
SOURCE_DIR = Path("crime")
PERIOD_TYPE = "year_ending_december"
SOURCE_COLUMNS = (
    "pfa_code",
    "pfa_name",
    "period_type",
    "period",
    "quarters",
    *(measure.column for measure in MEASURES if measure.code),
    "sum_of_listed_codes",
    "codes_listed_in_source",
)
_PERIOD = re.compile(r"^YE Dec (\d{4})$")
MAX_SOURCE_BYTES = 20_000_000  # the April 2026 file is 121 KB


@dataclass
class RecordedCrimeBuild:
    table: pd.DataFrame
    source_file: str
    notes: list[str] = field(default_factory=list)


def find_source(source_dir: Path) -> Path:
    """The annual extract in ``shared/data/crime``; exactly one must be there."""
    found = sorted((Path(source_dir) / SOURCE_DIR).glob(SOURCE_GLOB))
    if not found:
        raise InputError(f"no file matching {SOURCE_GLOB}", where=str(Path(source_dir) / SOURCE_DIR))
    if len(found) > 1:
        names = ", ".join(path.name for path in found)
        raise InputError(
            f"more than one release ({names}): keep only the one to build from", where=str(found[0].parent)
        )
    return found[0]


def _count(text: str, *, where: str, notes: list[str]) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"'{text[:40]}' is not a number of offences", where=where) from None
    if not value.is_integer():
        raise InputError(f"'{text[:40]}' is not a whole number of offences", where=where)
    if value < 0:
        # The Home Office publishes a few negative adjustments; they are kept as published.
        notes.append(f"{where}: negative count {int(value)} kept as published (a source adjustment)")
    return int(value)


def _read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    data = path.read_bytes()
    if len(data) > MAX_SOURCE_BYTES:
        raise InputError(
            f"is {len(data):,} bytes; more than {MAX_SOURCE_BYTES:,} is not a release of this table", where=str(path)
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("is not UTF-8 text", where=str(path)) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [cell.strip() for cell in next(reader, [])]
    missing = [column for column in SOURCE_COLUMNS if column not in header]
    if missing:
        raise InputError(f"line 1: missing column(s) {', '.join(missing)} (renamed in a new release?)", where=str(path))
    rows = []
    for fields in reader:
        if not fields:
            continue
        if len(fields) != len(header):
            raise InputError(
                f"line {reader.line_num}: has {len(fields)} fields but the header has {len(header)}", where=str(path)
            )
        rows.append((reader.line_num, dict(zip(header, fields))))
    return rows


def build_recorded_crime(source_dir: Path, forces: pd.DataFrame) -> RecordedCrimeBuild:
    """The shipped table: one row per area and year ending December, one column per measure.

    Refuses (InputError naming file, line and field) a missing column, a force missing from a period,
    a code missing where the source says it is listed, or a value that is not a whole number; keeps a
    negative adjustment with a note. Nothing is written here: ``build_data`` writes only a whole build.
    """
    path = find_source(source_dir)
    name = f"{SOURCE_DIR / path.name}"
    notes: list[str] = []
    force_codes = set(forces["code"].astype(str))
    counts: dict[tuple[str, str], dict[str, int | None]] = {}
    source_totals: dict[str, dict[str, int | None]] = {}
    quarters: dict[str, str] = {}
    for line, row in _read_rows(path):
        if row["period_type"].strip() != PERIOD_TYPE:
            continue
        period = row["period"].strip()
        if not _PERIOD.match(period):
            raise InputError(f"line {line}, field 'period': '{period[:40]}' is not 'YE Dec <year>'", where=name)
        code = row["pfa_code"].strip()
        listed = set(row["codes_listed_in_source"].split())
        values: dict[str, int | None] = {}
        for measure in MEASURES:
            if not measure.code:
                continue
            where = f"{name} line {line}, field '{measure.column}'"
            value = _count(row[measure.column], where=where, notes=notes)
            if value is None and measure.code in listed:
                raise InputError(
                    f"line {line}, field '{measure.column}': {measure.code} is listed for {period} but has no count",
                    where=name,
                )
            if value is not None and measure.code not in listed:
                raise InputError(
                    f"line {line}, field '{measure.column}': a count for {measure.code}, which the row says is not listed",
                    where=name,
                )
            values[measure.column] = value
        if code == ENGLAND_AND_WALES[0]:
            source_totals[period] = values
        elif code in force_codes:
            counts[(code, period)] = values
            quarters[period] = row["quarters"].strip()
        else:
            raise InputError(
                f"line {line}, field 'pfa_code': '{code[:20]}' is not one of the 43 police force areas", where=name
            )
    periods = sorted({period for _, period in counts}, key=lambda p: int(p[-4:]))
    if not periods:
        raise InputError(f"no rows with period_type '{PERIOD_TYPE}'", where=name)
    names = dict(zip(forces["code"].astype(str), forces["name"].astype(str), strict=True))
    problems = [
        f"{name}: {period} has no row for {code} ({names[code]})"
        for period in periods
        for code in sorted(force_codes)
        if (code, period) not in counts
    ]
    if problems:
        raise InputErrors(problems)

    rows: list[dict[str, object]] = []
    groups: list[tuple[str, str, str, list[str]]] = [
        (code, names[code], "force", [code]) for code in sorted(force_codes)
    ]
    regions: dict[tuple[str, str], list[str]] = {}
    for code, region_code, region in zip(forces["code"], forces["region_code"], forces["region"], strict=True):
        regions.setdefault((str(region_code), str(region)), []).append(str(code))
    for (region_code, region), members in sorted(regions.items()):
        if region_code in COUNTRY_CODES.values():
            continue  # Wales is a country, not an English region
        groups.append((region_code, region, "region", sorted(members)))
    for country, country_code in COUNTRY_CODES.items():
        members = sorted(str(c) for c, k in zip(forces["code"], forces["country"], strict=True) if k == country)
        groups.append((country_code, country, "country", members))
    groups.append((ENGLAND_AND_WALES[0], ENGLAND_AND_WALES[1], "england_and_wales", sorted(force_codes)))
    for period in periods:
        for area_code, area_name, area_type, members in groups:
            area_row: dict[str, object] = {
                "area_code": area_code,
                "area_name": area_name,
                "area_type": area_type,
                "period": period,
                "year_ending": int(period[-4:]),
                "quarters": quarters[period],
            }
            listed_total = 0
            for measure in MEASURES:
                if not measure.code:
                    continue
                member_values = [counts[(code, period)][measure.column] for code in members]
                total = (
                    None if any(v is None for v in member_values) else sum(v for v in member_values if v is not None)
                )
                area_row[measure.column] = total
                listed_total += total or 0
            area_row[MEASURE["group"].column] = listed_total
            rows.append(area_row)
        expected = source_totals.get(period)
        if expected is not None:
            ours = next(r for r in rows if r["area_code"] == ENGLAND_AND_WALES[0] and r["period"] == period)
            for column, value in expected.items():
                if value != ours[column]:
                    raise InputError(
                        f"{period}, {column}: the 43 forces sum to {ours[column]} but the source's England and Wales row says {value}",
                        where=name,
                    )
    frame = pd.DataFrame(rows, columns=RECORDED_CRIME_COLUMNS)
    order = {area_type: rank for rank, area_type in enumerate(reversed(AREA_TYPES))}
    frame = frame.sort_values(
        ["year_ending", "area_type", "area_code"], key=lambda s: s.map(order) if s.name == "area_type" else s
    ).reset_index(drop=True)
    # Round-trip through the runtime validator: the build never writes what the app would refuse.
    checked = validate_recorded_crime(
        pd.read_csv(io.StringIO(recorded_crime_csv(frame)), dtype=str, keep_default_na=False), force_codes=force_codes
    )
    return RecordedCrimeBuild(table=checked, source_file=name, notes=notes)


def describe(build: RecordedCrimeBuild) -> Sequence[str]:
    """Report lines for ``atlas build-data``."""
    periods = build.table["period"].unique()
    return [f"recorded crime: {build.source_file}, {periods[0]} to {periods[-1]} ({len(periods)} years)", *build.notes]
