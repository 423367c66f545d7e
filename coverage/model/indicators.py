"""Demand-side evidence: recorded offences, population and rates per force, with comparators.

Long form, one row per (area, indicator, period), for the 43 territorial police force areas and
their comparators: each English region, England, Wales and England and Wales. Comparator counts
are the sums of their forces, so a comparator's rate uses the same population as its forces.

Offences come from the ONS "Police force area data tables" (police recorded crime by offence group
and police force area, years ending December 2022 and December 2023). The ONS offence group
"Stalking and harassment" is five Home Office offence codes, not stalking alone
(``vocabulary.OFFENCE_GROUP_CAVEAT``), and every label below says so. Population comes from the force table
(ONS mid-2023 population estimates). All sources: Open Government Licence v3.0.

All functions are pure (data in, data out) except the build, which reads the folder it is given,
and :func:`read_indicators`, which reads the shipped CSV.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from coverage import paths
from coverage.errors import InputError, InputErrors
from coverage.model.forces import read_force_table
from coverage.vocabulary import FORCE_CODE_PATTERN, OFFENCE_GROUP_CAVEAT, OFFENCE_GROUP_INCLUDES

INDICATORS_CSV = paths.DATA_DIR / "indicators" / "indicators.csv"

INDICATOR_COLUMNS = ["area_code", "area_name", "area_type", "indicator", "period", "value", "unit", "source"]
AREA_TYPES = ("force", "region", "country", "england_and_wales")

OFFENCES = "stalking_harassment_offences"
POPULATION_16PLUS = "population_16plus"
POPULATION_ALL_AGES = "population_all_ages"
RATE = "stalking_harassment_rate_per_1000_16plus"
CHANGE = "stalking_harassment_change_pct"
INDICATORS = (OFFENCES, POPULATION_16PLUS, POPULATION_ALL_AGES, RATE, CHANGE)

PERIOD_2022 = "YE Dec 2022"
PERIOD_2023 = "YE Dec 2023"
OFFENCE_PERIODS = (PERIOD_2022, PERIOD_2023)
POPULATION_PERIOD = "mid-2023"
CHANGE_PERIOD = f"{PERIOD_2022} to {PERIOD_2023}"
PERIOD_YEAR = {PERIOD_2022: 2022, PERIOD_2023: 2023}

INDICATOR_PERIODS = {
    OFFENCES: OFFENCE_PERIODS,
    POPULATION_16PLUS: (POPULATION_PERIOD,),
    POPULATION_ALL_AGES: (POPULATION_PERIOD,),
    RATE: OFFENCE_PERIODS,
    CHANGE: (CHANGE_PERIOD,),
}
INDICATOR_UNITS = {
    OFFENCES: "offences",
    POPULATION_16PLUS: "people",
    POPULATION_ALL_AGES: "people",
    RATE: "offences per 1,000 people aged 16+",
    CHANGE: "%",
}
COUNT_INDICATORS = (OFFENCES, POPULATION_16PLUS, POPULATION_ALL_AGES)


INDICATOR_LABELS = {
    OFFENCES: f"Stalking and harassment offences recorded by the police (the ONS group {OFFENCE_GROUP_INCLUDES})",
    POPULATION_16PLUS: "Population aged 16 and over",
    POPULATION_ALL_AGES: "Population, all ages",
    RATE: f"Stalking and harassment offences per 1,000 people aged 16+ (the ONS group {OFFENCE_GROUP_INCLUDES})",
    CHANGE: f"Change in stalking and harassment offences (the ONS group {OFFENCE_GROUP_INCLUDES}), %",
}

INDICATOR_NOTES = {
    OFFENCES: (
        f"{OFFENCE_GROUP_CAVEAT} Police recorded crime, years ending December 2022 and December 2023, from the "
        "ONS Police force area data tables. Regions, England, Wales and England and Wales are the sums of their "
        "forces; the England and Wales figure therefore excludes British Transport Police, which the ONS "
        "England and Wales total includes."
    ),
    POPULATION_16PLUS: (
        "ONS mid-2023 population estimates (published 15 July 2024), local authorities summed to police force "
        "areas. The denominator for per-person rates."
    ),
    POPULATION_ALL_AGES: (
        "ONS mid-2023 population estimates (published 15 July 2024), local authorities summed to police force areas."
    ),
    RATE: (
        f"{OFFENCE_GROUP_CAVEAT} Offences ÷ population aged 16+ × 1,000. Both years use the ONS mid-2023 "
        "estimate of the population aged 16+, the only 16+ estimate the atlas ships, so the rate for the year "
        "ending December 2022 uses a population from a year after the middle of that period. Stored unrounded; "
        "shown to 1 decimal place."
    ),
    CHANGE: (
        f"{OFFENCE_GROUP_CAVEAT} Percentage change in police recorded offences from the year ending December 2022 "
        "to the year ending December 2023. Changes in recording practice affect it as well as changes in crime."
    ),
}

OGL = "Open Government Licence v3.0"
ONS_CRIME_TABLES = "ONS Police force area data tables (police recorded crime by offence group and police force area)"
ONS_POPULATION = (
    "ONS Estimates of the population for England and Wales: mid-2023 (published 15 July 2024), "
    "local authorities summed to police force areas"
)


ENGLAND_AND_WALES = ("K04000001", "England and Wales")
COUNTRY_CODES = {"England": "E92000001", "Wales": "W92000004"}
REGION_CODE_PATTERN = re.compile(r"^E12\d{6}$")
AREA_CODE_PATTERN = re.compile(r"^[EKNSW]\d{8}$")
REGION_CODES = frozenset(f"E120000{i:02d}" for i in range(1, 10))
COMPARATOR_CODES = REGION_CODES | frozenset(COUNTRY_CODES.values()) | {ENGLAND_AND_WALES[0]}

INDICATOR_DATASET = {
    "title": (
        f"Stalking and harassment offences (the ONS group {OFFENCE_GROUP_INCLUDES}), population and "
        "rates per 1,000 aged 16+, by police force area, region, country and England and Wales"
    ),
    "publisher": "Office for National Statistics",
    "period": "Offences: years ending December 2022 and December 2023; population: mid-2023",
    "licence": OGL,
    "attribution": "Source: Office for National Statistics licensed under the Open Government Licence v.3.0.",
    "obtained_from": (
        "ONS 'Police force area data tables' (Crime in England and Wales), police recorded crime by offence group "
        "and police force area, years ending December 2022 and December 2023, copied byte-for-byte from the "
        "public GitHub repository burysek/immigration_and_crime (commit 7609310, 2025-05-11; "
        "data/external/Crime_rates_December2022.csv and Crime_rates_December2023.csv); population mid-2023 from "
        "the atlas's force table (ONS mid-2023 population estimates); see shared/data/PROVENANCE.md"
    ),
    "processing": (
        f"Offence group 'Stalking and harassment' ({OFFENCE_GROUP_INCLUDES} as well as stalking) taken "
        "for the 43 territorial forces. Regions, England, Wales and England and Wales are the sums of their "
        "forces, checked to equal the ONS rows; the England and Wales sum excludes British Transport Police "
        "(270 offences in the year ending December 2022, 299 in the year ending December 2023), which the ONS "
        "England and Wales row includes. Rates per 1,000 people aged 16+ use the mid-2023 population for both "
        "years. Change is the percentage change from the year ending December 2022 to December 2023. "
        "Values unrounded."
    ),
}

AREA_TYPE_ORDER = {area_type: i for i, area_type in enumerate(reversed(AREA_TYPES))}


# ---------------------------------------------------------------------------------------------
# Validation and reading the shipped file


def _reject(reason: str) -> PydanticCustomError:
    # The reason travels in the context so braces in data are never read as a template.
    return PydanticCustomError("indicator_value", "{reason}", {"reason": reason})


def _expected_area_type(code: str) -> str | None:
    if FORCE_CODE_PATTERN.match(code):
        return "force"
    if code in REGION_CODES:
        return "region"
    if code in COUNTRY_CODES.values():
        return "country"
    if code == ENGLAND_AND_WALES[0]:
        return "england_and_wales"
    return None


class IndicatorRow(BaseModel):
    """One validated row of the long indicator table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    area_code: str
    area_name: str
    area_type: str
    indicator: str
    period: str
    value: float
    unit: str
    source: str

    @field_validator("area_code")
    @classmethod
    def _area_code(cls, value: str, info: ValidationInfo) -> str:
        if not value:
            raise _reject("area_code is missing")
        known = (info.context or {}).get("area_codes")
        if known is not None and value not in known:
            raise _reject(f"unknown area code '{value}' (not a force in the force table or a comparator area)")
        return value

    @field_validator("area_name", "unit", "source")
    @classmethod
    def _required(cls, value: str, info: ValidationInfo) -> str:
        if not value:
            raise _reject(f"{info.field_name} is missing")
        return value

    @field_validator("area_type")
    @classmethod
    def _area_type(cls, value: str, info: ValidationInfo) -> str:
        if value not in AREA_TYPES:
            raise _reject(f"'{value}' is not an area type; allowed: {', '.join(AREA_TYPES)}")
        expected = _expected_area_type(info.data.get("area_code", ""))
        if expected is not None and value != expected:
            raise _reject(f"area type '{value}' does not fit code {info.data['area_code']} (a {expected})")
        return value

    @field_validator("indicator")
    @classmethod
    def _indicator(cls, value: str) -> str:
        if value not in INDICATORS:
            raise _reject(f"unknown indicator '{value}'; allowed: {', '.join(INDICATORS)}")
        return value

    @field_validator("period")
    @classmethod
    def _period(cls, value: str, info: ValidationInfo) -> str:
        allowed = INDICATOR_PERIODS.get(info.data.get("indicator", ""))
        if allowed is not None and value not in allowed:
            raise _reject(f"period '{value}' is not one of {', '.join(allowed)} for {info.data['indicator']}")
        return value

    @field_validator("value", mode="before")
    @classmethod
    def _parse_value(cls, value: Any) -> float:
        if isinstance(value, bool):
            raise _reject(f"'{value}' is not a number")
        if isinstance(value, str):
            if not value.strip():
                raise _reject("value is missing")
            try:
                value = float(value)
            except ValueError:
                raise _reject(f"'{value}' is not a number") from None
        if value is None or pd.isna(value):
            raise _reject("value is missing")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise _reject(f"'{value}' is not a number") from None

    @field_validator("value")
    @classmethod
    def _check_value(cls, value: float, info: ValidationInfo) -> float:
        indicator = info.data.get("indicator")
        if not math.isfinite(value):
            raise _reject(f"{value} is not a finite number")
        if indicator != CHANGE and value < 0:
            raise _reject(f"{value:g} is negative; {indicator or 'this indicator'} cannot be")
        if indicator in COUNT_INDICATORS and not value.is_integer():
            raise _reject(f"{value:g} is not a whole number of {INDICATOR_UNITS[indicator]}")
        return value

    @field_validator("unit", mode="after")
    @classmethod
    def _unit(cls, value: str, info: ValidationInfo) -> str:
        expected = INDICATOR_UNITS.get(info.data.get("indicator", ""))
        if expected is not None and value != expected:
            raise _reject(f"unit '{value}' should be '{expected}' for {info.data['indicator']}")
        return value


# A record is (CSV line number, {column: raw value}).
_Record = tuple[int, dict[str, Any]]


def _check_header(header: Sequence[str], name: str) -> None:
    problems = []
    missing = [c for c in INDICATOR_COLUMNS if c not in header]
    if missing:
        problems.append(f"{name} line 1: missing column(s) {', '.join(missing)}")
    extra = [c for c in header if c not in INDICATOR_COLUMNS]
    if extra:
        problems.append(f"{name} line 1: unexpected column(s) {', '.join(map(str, extra))}")
    repeated = sorted({c for c in header if list(header).count(c) > 1})
    if repeated:
        problems.append(f"{name} line 1: column(s) {', '.join(repeated)} appear more than once")
    if problems:
        raise InputErrors(problems)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    if value is None or (not isinstance(value, (int, float, np.number)) and pd.isna(value)):
        return ""
    return value


def _validate_records(records: list[_Record], name: str, area_codes: frozenset[str]) -> pd.DataFrame:
    problems: list[str] = []
    rows: list[dict[str, Any]] = []
    first_line: dict[tuple[str, str, str], int] = {}
    for line, raw in records:
        cells = {column: _clean(raw.get(column)) for column in INDICATOR_COLUMNS}
        for column in INDICATOR_COLUMNS:
            if column != "value" and not isinstance(cells[column], str):
                cells[column] = str(cells[column])
        try:
            row = IndicatorRow.model_validate(cells, context={"area_codes": area_codes})
        except ValidationError as error:
            for detail in error.errors():
                field = detail["loc"][0] if detail["loc"] else "row"
                problems.append(f"{name} line {line}, field '{field}': {detail['msg']}")
            continue
        key = (row.area_code, row.indicator, row.period)
        if key in first_line:
            problems.append(
                f"{name} line {line}, field 'area_code': duplicate row for {row.area_code}, {row.indicator}, "
                f"{row.period} (first on line {first_line[key]})"
            )
            continue
        first_line[key] = line
        rows.append(row.model_dump())
    if problems:
        raise InputErrors(problems)
    frame = pd.DataFrame(rows, columns=INDICATOR_COLUMNS)
    text_columns = [c for c in INDICATOR_COLUMNS if c != "value"]
    frame[text_columns] = frame[text_columns].astype(str)
    frame["value"] = frame["value"].astype("float64")
    return frame


def validate_indicators(
    frame: pd.DataFrame, *, force_codes: Collection[str], name: str = "indicators.csv"
) -> pd.DataFrame:
    """Validate a long indicator table; returns it clean (value as float, the rest as text).

    Area codes must be forces in ``force_codes`` or comparator areas (English regions, England,
    Wales, England and Wales). Row *i* is reported as line *i + 2*, as if written to CSV under a
    header. Raises InputErrors naming file, line and field for every problem found.
    """
    _check_header([str(c) for c in frame.columns], name)
    # The header check has passed, so the column labels are the (text) indicator columns.
    records = [(i + 2, row) for i, row in enumerate(cast(list[dict[str, Any]], frame.to_dict(orient="records")))]
    return _validate_records(records, name, frozenset(force_codes) | COMPARATOR_CODES)


def indicators_csv(frame: pd.DataFrame) -> str:
    """CSV text of the indicator table: counts as whole numbers, other values unrounded (exact round trip)."""
    text = frame[INDICATOR_COLUMNS].copy()
    text["value"] = [
        str(int(value)) if indicator in COUNT_INDICATORS else repr(float(value))
        for indicator, value in zip(frame["indicator"], frame["value"])
    ]
    return text.to_csv(index=False, lineterminator="\n")


def read_indicators(path: Path | str = INDICATORS_CSV, *, force_codes: Collection[str] | None = None) -> pd.DataFrame:
    """Read and validate the shipped indicator CSV (``data/indicators/indicators.csv``).

    ``force_codes`` defaults to the codes in the shipped force table.
    """
    name = str(path)
    if force_codes is None:
        force_codes = list(read_force_table(paths.FORCES_CSV)["code"])
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError("not found; run `python -m coverage build-data --source ../shared/data`", where=name) from None
    except OSError as error:
        raise InputError(f"cannot be read ({error.strerror or error})", where=name) from None
    except UnicodeDecodeError:
        raise InputError("is not UTF-8 text", where=name) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[_Record] = []
    header: list[str] | None = None
    line = 0
    problems = []
    try:
        for fields in reader:
            start_line, line = line + 1, reader.line_num
            if header is None:
                header = [field.strip() for field in fields]
                _check_header(header, name)
                continue
            if not fields:
                continue
            if len(fields) != len(header):
                problems.append(
                    f"{name} line {start_line}: has {len(fields)} field(s) but the header has {len(header)}"
                )
                continue
            records.append((start_line, dict(zip(header, fields))))
    except csv.Error as error:
        raise InputError(f"line {line + 1}: is not a readable CSV ({error})", where=name) from None
    if header is None:
        raise InputError("the file is empty; expected a header line", where=name)
    if problems:
        raise InputErrors(problems)
    return _validate_records(records, name, frozenset(force_codes) | COMPARATOR_CODES)


# ---------------------------------------------------------------------------------------------
# Comparators and ranking


# The presets' referral rates are per offence of the ONS "Stalking and harassment" group in the year
# ending December 2023 (312 referrals a year against Cheshire's 13,691 offences), so the planner costs
# demand on that basis until its presets are re-based on stalking (8Q).
PLANNER_DEMAND_PERIOD = PERIOD_2023


def planner_offences_by_force(indicators: pd.DataFrame, period: str = PLANNER_DEMAND_PERIOD) -> dict[str, float]:
    """Force code → offences in the ONS group, as published by ONS, for the planner's demand."""
    rows = indicators[
        (indicators["indicator"] == OFFENCES) & (indicators["period"] == period) & (indicators["area_type"] == "force")
    ]
    return {str(code): float(value) for code, value in zip(rows["area_code"], rows["value"])}
