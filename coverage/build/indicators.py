"""Build ``data/indicators/indicators.csv`` from the ONS police force area data tables (offline only).

Reads the recorded-crime tables and the force table, checks the sums of forces against the ONS
region, country and England and Wales rows, and writes the long indicator table (one row per
area, indicator and period, each with its source) that :mod:`coverage.model.indicators` reads.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, cast

import pandas as pd

from coverage.errors import InputError, InputErrors
from coverage.model.demand import change_pct, rate_per_1000
from coverage.model.indicators import (
    AREA_CODE_PATTERN,
    AREA_TYPE_ORDER,
    CHANGE,
    CHANGE_PERIOD,
    COUNTRY_CODES,
    ENGLAND_AND_WALES,
    INDICATOR_COLUMNS,
    INDICATOR_UNITS,
    INDICATORS,
    OFFENCE_PERIODS,
    OFFENCES,
    OGL,
    ONS_CRIME_TABLES,
    ONS_POPULATION,
    PERIOD_2022,
    PERIOD_2023,
    PERIOD_YEAR,
    POPULATION_16PLUS,
    POPULATION_ALL_AGES,
    POPULATION_PERIOD,
    RATE,
    REGION_CODE_PATTERN,
    validate_indicators,
)
from coverage.vocabulary import FORCE_CODE_PATTERN

# The offences file for each period, inside the shared/data folder given to the build.
ONS_OFFENCE_FILES = {
    PERIOD_2022: Path("crime") / "ons_pfa_recorded_crime_by_offence_group_december2022.csv",
    PERIOD_2023: Path("crime") / "ons_pfa_recorded_crime_by_offence_group_december2023.csv",
}


ONS_OFFENCE_COLUMN = "Stalking and harassment"


_NOTE_MARKER = re.compile(r"\[note\s*\d+\]", re.IGNORECASE)


@dataclass(frozen=True)
class _OnsTable:
    """One ONS offence table: counts by area code, and the British Transport Police row if any."""

    path: Path
    counts: dict[str, int]
    btp: int | None


def _normalise_heading(text: str) -> str:
    return " ".join(_NOTE_MARKER.sub(" ", text).split()).casefold()


def _parse_count(text: str) -> int | None:
    # ONS separates thousands with spaces (sometimes none at all); any whitespace is a separator.
    digits = re.sub(r"[\s,]", "", text)
    return int(digits) if digits.isascii() and digits.isdigit() else None


def _read_ons_table(path: Path) -> _OnsTable:
    where = str(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError("not found; expected the ONS police force area data table here", where=where) from None
    except OSError as error:
        raise InputError(f"cannot be read ({error.strerror or error})", where=where) from None
    except UnicodeDecodeError:
        raise InputError("is not UTF-8 text", where=where) from None

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    header: list[str] | None = None
    columns: dict[str, int] = {}
    counts: dict[str, int] = {}
    first_line: dict[str, int] = {}
    btp: int | None = None
    problems: list[str] = []
    line = 0
    try:
        for fields in reader:
            start_line, line = line + 1, reader.line_num
            if header is None:
                # Title rows may sit above the header; the header is the row naming 'Area Code'.
                headings = [_normalise_heading(field) for field in fields]
                if "area code" not in headings:
                    continue
                header = headings
                wanted = {
                    "area code": "Area Code",
                    "area name": "Area Name",
                    _normalise_heading(ONS_OFFENCE_COLUMN): ONS_OFFENCE_COLUMN,
                }
                missing = [label for key, label in wanted.items() if key not in headings]
                if missing:
                    raise InputError(
                        f"line {start_line}: no column {', '.join(repr(m) for m in missing)} in the header",
                        where=where,
                    )
                columns = {label: headings.index(key) for key, label in wanted.items()}
                continue
            cells = fields + [""] * (len(header) - len(fields))
            code = cells[columns["Area Code"]].strip()
            is_btp = not code and "british transport police" in _normalise_heading(cells[columns["Area Name"]])
            if not (AREA_CODE_PATTERN.match(code) or is_btp):
                continue  # a note, a title or a blank line
            if len(fields) <= max(columns.values()):
                problems.append(f"line {start_line}: has {len(fields)} field(s); the header has {len(header)}")
                continue
            raw = fields[columns[ONS_OFFENCE_COLUMN]].strip()
            value = _parse_count(raw)
            if value is None:
                problems.append(
                    f"line {start_line}, field '{ONS_OFFENCE_COLUMN}': '{raw}' is not a whole number of offences"
                )
                continue
            if is_btp:
                btp = value
            elif code in counts:
                problems.append(f"line {start_line}: area code {code} appears twice (first on line {first_line[code]})")
            else:
                counts[code] = value
                first_line[code] = start_line
    except csv.Error as error:
        raise InputError(f"line {line + 1}: is not a readable ';'-separated table ({error})", where=where) from None
    if header is None:
        raise InputError("no header row naming 'Area Code'; is this the ONS police force area data table?", where=where)
    if problems:
        raise InputErrors(problems, where=where)
    return _OnsTable(path=path, counts=counts, btp=btp)


@dataclass(frozen=True)
class _Area:
    code: str
    name: str
    area_type: str
    members: tuple[str, ...]


# (area_code, area_name, area_type, indicator, period, value, source): an indicator row without its unit.
_AreaRow = tuple[str, str, str, str, str, float, str]


class _ForceRow(Protocol):
    """The columns of a force-table row (from ``itertuples``) that the build reads, once checked."""

    code: str
    name: str
    pop_mid2023: int
    pop_mid2023_16plus: int


_FORCE_TABLE_NEEDS = ("code", "name", "country", "region_code", "region", "pop_mid2023", "pop_mid2023_16plus")


def _check_force_table(forces: pd.DataFrame) -> None:
    missing = [column for column in _FORCE_TABLE_NEEDS if column not in forces.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", where="force table")
    problems = []
    for row in forces.itertuples(index=False):
        if row.country not in COUNTRY_CODES:
            problems.append(f"force {row.code}: country '{row.country}' is neither England nor Wales")
        elif row.country == "Wales" and row.region_code != COUNTRY_CODES["Wales"]:
            problems.append(f"force {row.code}: a Welsh force should have region_code {COUNTRY_CODES['Wales']}")
        elif row.country == "England" and not REGION_CODE_PATTERN.match(str(row.region_code)):
            problems.append(f"force {row.code}: region_code '{row.region_code}' is not an English region (E12) code")
        for column in ("pop_mid2023", "pop_mid2023_16plus"):
            value = getattr(row, column)
            if pd.isna(value) or value <= 0:
                problems.append(f"force {row.code}: {column} must be a positive number, not {value}")
    if problems:
        raise InputErrors(problems, where="force table")


def _areas(forces: pd.DataFrame) -> list[_Area]:
    """The forces, then each English region, England, Wales and England and Wales."""
    # The force table (read_force_table, build_force_table) holds codes, names, regions and countries as text.
    areas = [
        _Area(row.code, row.name, "force", (row.code,))
        for row in cast(Iterator[_ForceRow], forces.sort_values("code").itertuples())
    ]
    # ... so the group keys of region_code and country are text too.
    for region_code, group in cast(Iterable[tuple[str, pd.DataFrame]], forces.groupby("region_code", sort=True)):
        if REGION_CODE_PATTERN.match(region_code):
            areas.append(_Area(region_code, group["region"].iloc[0], "region", tuple(sorted(group["code"]))))
    for country, group in cast(Iterable[tuple[str, pd.DataFrame]], forces.groupby("country", sort=True)):
        areas.append(_Area(COUNTRY_CODES[country], country, "country", tuple(sorted(group["code"]))))
    areas.append(_Area(*ENGLAND_AND_WALES, "england_and_wales", tuple(sorted(forces["code"]))))
    return areas


def _check_against_ons(table: _OnsTable, areas: list[_Area], force_codes: Collection[str]) -> None:
    """Check every force is present and each comparator's ONS row equals the sum of its forces.

    The ONS England and Wales row alone may exceed its forces' sum, by the British Transport Police
    count (ONS note 3). When the table has a BTP row the difference must equal it exactly.
    """
    where = str(table.path)
    problems = []
    missing = sorted(set(force_codes) - set(table.counts))
    if missing:
        problems.append(f"no row for force(s) {', '.join(missing)}")
    unknown = sorted(code for code in table.counts if FORCE_CODE_PATTERN.match(code) and code not in force_codes)
    if unknown:
        problems.append(f"force code(s) not in the force table: {', '.join(unknown)}")
    if problems:
        raise InputErrors(problems, where=where)

    for area in areas:
        if area.area_type == "force":
            continue
        if area.code not in table.counts:
            problems.append(f"no row for {area.name} ({area.code}) to check the sum of its forces against")
            continue
        forces_sum = sum(table.counts[code] for code in area.members)
        ons_value = table.counts[area.code]
        difference = ons_value - forces_sum
        if area.area_type == "england_and_wales":
            if table.btp is not None and difference != table.btp:
                problems.append(
                    f"{area.name} row {ons_value:,} minus the sum of its {len(area.members)} forces "
                    f"({forces_sum:,}) is {difference:,}, not the British Transport Police count {table.btp:,}"
                )
            elif difference < 0:
                problems.append(f"{area.name} row {ons_value:,} is less than the sum of its forces ({forces_sum:,})")
        elif difference != 0:
            problems.append(
                f"{area.name} ({area.code}) row {ons_value:,} differs from the sum of its "
                f"{len(area.members)} forces ({forces_sum:,})"
            )
    if problems:
        raise InputErrors(problems, where=where)


def _offence_source(period: str) -> str:
    year = PERIOD_YEAR[period]
    return f"{ONS_CRIME_TABLES}, year ending December {year}, offence group '{ONS_OFFENCE_COLUMN}'; {OGL}"


def _rate_source(period: str) -> str:
    return (
        f"Offences: {ONS_CRIME_TABLES}, year ending December {PERIOD_YEAR[period]}, offence group "
        f"'{ONS_OFFENCE_COLUMN}'; population aged 16+: ONS mid-2023 population estimates (used for both years); "
        f"{OGL}"
    )


_CHANGE_SOURCE = (
    f"{ONS_CRIME_TABLES}, years ending December 2022 and December 2023, offence group '{ONS_OFFENCE_COLUMN}'; {OGL}"
)


def _sum_of_forces(area: _Area) -> str:
    count = len(area.members)
    return f"Sum of the {count} police force area{'s' if count != 1 else ''} in {area.name}"


def _area_note(
    area: _Area,
    periods: Sequence[str],
    counts: Mapping[str, int],
    england_and_wales_rows: Mapping[str, int] | None,
) -> str:
    """What a comparator's figure is: the sum of its forces; for England and Wales, without BTP."""
    if area.area_type == "force":
        return ""
    note = f" {_sum_of_forces(area)}"
    if area.area_type != "england_and_wales":
        return note + "."
    note += "; excludes British Transport Police (BTP), which is not a territorial police force area."
    for period in periods:
        if england_and_wales_rows and period in england_and_wales_rows:
            ons_value = england_and_wales_rows[period]
            note += (
                f" The ONS England and Wales row for the year ending December {PERIOD_YEAR[period]} ({ons_value:,}) "
                f"includes {ons_value - counts[period]:,} BTP offences."
            )
    return note


def _area_rows(
    area: _Area,
    counts: Mapping[str, int],
    populations: tuple[int, int],
    england_and_wales_rows: Mapping[str, int] | None,
) -> list[_AreaRow]:
    """(area_code, area_name, area_type, indicator, period, value, source) rows for one area."""
    head = (area.code, area.name, area.area_type)
    pop16, pop_all = populations
    population_source = f"{ONS_POPULATION}; {OGL}."
    if area.area_type != "force":
        population_source += f" {_sum_of_forces(area)}."
    rows = []
    for period in OFFENCE_PERIODS:
        note = _area_note(area, (period,), counts, england_and_wales_rows)
        rows.append((*head, OFFENCES, period, float(counts[period]), f"{_offence_source(period)}.{note}"))
    rows.append((*head, POPULATION_16PLUS, POPULATION_PERIOD, float(pop16), population_source))
    rows.append((*head, POPULATION_ALL_AGES, POPULATION_PERIOD, float(pop_all), population_source))
    for period in OFFENCE_PERIODS:
        note = _area_note(area, (period,), counts, england_and_wales_rows)
        rows.append((*head, RATE, period, rate_per_1000(counts[period], pop16), f"{_rate_source(period)}.{note}"))
    change = change_pct(counts[PERIOD_2022], counts[PERIOD_2023])
    if not math.isnan(change):
        note = _area_note(area, OFFENCE_PERIODS, counts, england_and_wales_rows)
        rows.append((*head, CHANGE, CHANGE_PERIOD, change, f"{_CHANGE_SOURCE}.{note}"))
    return rows


def indicators_from_counts(
    offences: Mapping[str, Mapping[str, int]],
    forces: pd.DataFrame,
    *,
    england_and_wales_rows: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """The long indicator table from offence counts per force.

    ``offences`` maps each period (``YE Dec 2022``, ``YE Dec 2023``) to {force code: count}.
    ``england_and_wales_rows`` are the ONS England and Wales totals (which include British
    Transport Police), quoted in the source text of the England and Wales rows.
    """
    _check_force_table(forces)
    if set(offences) != set(OFFENCE_PERIODS):
        raise InputError(f"offence counts needed for exactly {', '.join(OFFENCE_PERIODS)}; got {', '.join(offences)}")
    codes = list(forces["code"])
    problems = []
    for period in OFFENCE_PERIODS:
        missing = [code for code in codes if code not in offences[period]]
        if missing:
            problems.append(f"{period}: no offence count for {', '.join(missing)}")
        negative = [code for code in codes if code in offences[period] and offences[period][code] < 0]
        if negative:
            problems.append(f"{period}: negative offence count for {', '.join(negative)}")
    if problems:
        raise InputErrors(problems, where="offence counts")

    # Text codes (as in _areas); _check_force_table has checked the populations are present and positive.
    pop16 = {row.code: int(row.pop_mid2023_16plus) for row in cast(Iterator[_ForceRow], forces.itertuples())}
    pop_all = {row.code: int(row.pop_mid2023) for row in cast(Iterator[_ForceRow], forces.itertuples())}
    rows: list[_AreaRow] = []
    for area in _areas(forces):
        counts = {period: sum(int(offences[period][c]) for c in area.members) for period in OFFENCE_PERIODS}
        populations = (sum(pop16[c] for c in area.members), sum(pop_all[c] for c in area.members))
        rows += _area_rows(area, counts, populations, england_and_wales_rows)
    frame = pd.DataFrame(rows, columns=[c for c in INDICATOR_COLUMNS if c != "unit"])
    frame["unit"] = frame["indicator"].map(INDICATOR_UNITS)
    return _sorted(frame[INDICATOR_COLUMNS])


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    indicator_order = {name: i for i, name in enumerate(INDICATORS)}
    keys = pd.DataFrame(
        {
            "indicator": frame["indicator"].map(indicator_order),
            "period": frame["period"],
            "type": frame["area_type"].map(AREA_TYPE_ORDER),
            "code": frame["area_code"],
        }
    )
    order = keys.sort_values(["indicator", "period", "type", "code"], kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def build_indicators(source_dir: Path, forces: pd.DataFrame) -> pd.DataFrame:
    """Build the long indicator table from the ONS tables in ``source_dir`` (``shared/data``).

    Reads the police force area data tables for the years ending December 2022 and 2023,
    checks every force in ``forces`` is present and that each comparator's ONS row equals the
    sum of its forces (England and Wales exceeds it by British Transport Police), and returns
    the table described in the module docstring. Raises InputError naming file and problem.
    """
    _check_force_table(forces)
    areas = _areas(forces)
    force_codes = set(forces["code"])
    offences: dict[str, dict[str, int]] = {}
    england_and_wales_rows: dict[str, int] = {}
    for period, relative in ONS_OFFENCE_FILES.items():
        table = _read_ons_table(Path(source_dir) / relative)
        _check_against_ons(table, areas, force_codes)
        offences[period] = {code: table.counts[code] for code in force_codes}
        england_and_wales_rows[period] = table.counts[ENGLAND_AND_WALES[0]]
    frame = indicators_from_counts(offences, forces, england_and_wales_rows=england_and_wales_rows)
    return validate_indicators(frame, force_codes=force_codes, name="indicators built from " + str(source_dir))
