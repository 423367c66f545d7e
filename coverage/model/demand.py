"""Demand beside provision: police recorded crime by offence code, as counts and rates, with trends.

The shipped table ``data/indicators/recorded_crime.csv`` (built by ``coverage.build.recorded_crime``
from the Home Office open data tables) holds counts only: one row per area (force, region, country,
England and Wales) and year ending December, one column per measure (``vocabulary.MEASURES``).
Rates are worked out here, always as offences ÷ population × 1,000, so every rate shown can be
checked against its count:

- per 1,000 population (all ages): the basis ONS and the Home Office publish;
- per 1,000 aged 16+.

Both use the ONS mid-2023 population estimate for every year (the latest the atlas has); every
label says so. "Latest" is the newest period in the data, never a year named in code.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pandas as pd

from coverage import paths
from coverage.errors import InputError, InputErrors
from coverage.vocabulary import FIRST_COMPARABLE_YEAR, FORCE_CODE_PATTERN, MEASURE, MEASURES, Measure

RECORDED_CRIME_CSV = paths.DATA_DIR / "indicators" / "recorded_crime.csv"
AREA_TYPES = ("force", "region", "country", "england_and_wales")
MEASURE_COLUMNS = tuple(measure.column for measure in MEASURES)
RECORDED_CRIME_COLUMNS = ["area_code", "area_name", "area_type", "period", "year_ending", "quarters", *MEASURE_COLUMNS]
ENGLAND_AND_WALES_CODE = "K04000001"
ENGLAND_AND_WALES_NAME = "England and Wales"
COUNTRY_CODES = {"England": "E92000001", "Wales": "W92000004"}
REGION_CODE_PATTERN = re.compile(r"^E12\d{6}$")
POPULATION_PERIOD = "mid-2023"
RATE_ALL_AGES_LABEL = f"per 1,000 population (all ages, {POPULATION_PERIOD})"
RATE_16PLUS_LABEL = f"per 1,000 aged 16+ ({POPULATION_PERIOD})"
MAX_BYTES = 5_000_000  # the shipped file is about 70 KB
_PERIOD = re.compile(r"^YE Dec (\d{4})$")


def _expected_type(code: str) -> str | None:
    if FORCE_CODE_PATTERN.match(code):
        return "force"
    if REGION_CODE_PATTERN.match(code):
        return "region"
    if code in COUNTRY_CODES.values():
        return "country"
    if code == ENGLAND_AND_WALES_CODE:
        return "england_and_wales"
    return None


# ---------------------------------------------------------------------------------------------
# The shipped table


def validate_recorded_crime(
    frame: pd.DataFrame, *, force_codes: Collection[str], name: str = "recorded_crime.csv"
) -> pd.DataFrame:
    """Check a recorded-crime table read as text; returns it typed (counts as nullable integers).

    Every problem names the file, line (row i is line i + 2) and field."""
    header = [str(column) for column in frame.columns]
    if header != RECORDED_CRIME_COLUMNS:
        missing = [c for c in RECORDED_CRIME_COLUMNS if c not in header]
        extra = [c for c in header if c not in RECORDED_CRIME_COLUMNS]
        detail = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"unexpected {', '.join(extra[:5])}" if extra else "",
                "columns out of order" if not missing and not extra else "",
            )
            if part
        )
        raise InputError(f"line 1: the header is not the recorded-crime header ({detail})", where=name)
    problems: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    forces_seen: dict[str, set[str]] = {}
    records: list[dict[str, Any]] = []
    for index, raw in enumerate(frame.astype(str).to_dict("records")):
        line = index + 2
        where = f"{name} line {line}"
        code, period = str(raw["area_code"]).strip(), str(raw["period"]).strip()
        area_type = str(raw["area_type"]).strip()
        expected = _expected_type(code)
        if expected is None or (expected == "force" and code not in force_codes):
            problems.append(f"{where}, field 'area_code': '{code[:20]}' is not a force or comparator area")
            continue
        if area_type != expected:
            problems.append(f"{where}, field 'area_type': '{area_type[:20]}' does not fit {code} (a {expected})")
        match = _PERIOD.match(period)
        if not match:
            problems.append(f"{where}, field 'period': '{period[:20]}' is not 'YE Dec <year>'")
            continue
        if str(raw["year_ending"]).strip() != match.group(1):
            problems.append(f"{where}, field 'year_ending': '{raw['year_ending']}' does not match {period}")
        if (code, period) in seen:
            problems.append(f"{where}, field 'area_code': {code} {period} repeats line {seen[(code, period)]}")
        seen[(code, period)] = line
        if expected == "force":
            forces_seen.setdefault(period, set()).add(code)
        record: dict[str, Any] = {
            "area_code": code,
            "area_name": str(raw["area_name"]).strip(),
            "area_type": area_type,
            "period": period,
            "year_ending": int(match.group(1)),
            "quarters": str(raw["quarters"]).strip(),
        }
        for column in MEASURE_COLUMNS:
            text = str(raw[column]).strip()
            if text in ("", "nan", "<NA>"):
                record[column] = None
                continue
            try:
                value = float(text)
            except ValueError:
                problems.append(f"{where}, field '{column}': '{text[:20]}' is not a number of offences")
                continue
            if not value.is_integer():
                problems.append(f"{where}, field '{column}': '{text[:20]}' is not a whole number")
                continue
            record[column] = int(value)
        records.append(record)
    for period, present in sorted(forces_seen.items()):
        missing_forces = sorted(set(force_codes) - present)
        if missing_forces:
            problems.append(f"{name}: {period} has no row for {', '.join(missing_forces[:5])}")
    if problems:
        raise InputErrors(problems[:50])
    typed = pd.DataFrame(records, columns=RECORDED_CRIME_COLUMNS)
    return typed.astype(dict.fromkeys(MEASURE_COLUMNS, "Int64") | {"year_ending": "int64"})


def recorded_crime_csv(frame: pd.DataFrame) -> str:
    """The shipped file's text: counts as whole numbers, blank where a code was not listed."""
    out = frame[RECORDED_CRIME_COLUMNS].copy()
    for column in MEASURE_COLUMNS:
        out[column] = ["" if pd.isna(v) else str(int(v)) for v in out[column]]
    return out.to_csv(index=False, lineterminator="\n")


def read_recorded_crime(path: Path | str = RECORDED_CRIME_CSV, *, force_codes: Collection[str]) -> pd.DataFrame:
    """Read and check the shipped recorded-crime table."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError("not found; run `atlas build-data --source ../shared/data`", where=name) from None
    except OSError as error:
        raise InputError(f"cannot be read ({error.strerror or error})", where=name) from None
    if len(data) > MAX_BYTES:
        raise InputError(f"is {len(data):,} bytes, more than {MAX_BYTES:,}", where=name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("is not UTF-8 text", where=name) from None
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as error:
        raise InputError(f"is not a readable CSV ({str(error).splitlines()[0][:120]})", where=name) from None
    return validate_recorded_crime(frame, force_codes=force_codes, name=name)


# ---------------------------------------------------------------------------------------------
# Periods


def periods(crime: pd.DataFrame) -> list[str]:
    """Every period in the data, oldest first."""
    table = crime[["period", "year_ending"]].drop_duplicates().sort_values("year_ending")
    return [str(p) for p in table["period"]]


def latest_period(crime: pd.DataFrame, measure: Measure | str = "stalking") -> str:
    """The newest period with a count of ``measure`` for every force."""
    column = _measure(measure).column
    forces = crime[crime["area_type"] == "force"]
    complete = forces.groupby("period")[column].apply(lambda s: bool(s.notna().all()))
    years = forces.drop_duplicates("period").set_index("period")["year_ending"]
    usable = [str(p) for p in complete.index if complete[p]]
    if not usable:
        raise InputError(f"no period has {_measure(measure).name} for every force", where="recorded crime")
    return max(usable, key=lambda p: int(years[p]))


def year_of(period: str) -> int:
    match = _PERIOD.match(period)
    if not match:
        raise InputError(f"'{period[:30]}' is not 'YE Dec <year>'", where="period")
    return int(match.group(1))


def period_of(year: int) -> str:
    return f"YE Dec {year}"


def _measure(measure: Measure | str) -> Measure:
    if isinstance(measure, Measure):
        return measure
    if measure not in MEASURE:
        raise InputError(f"unknown measure '{str(measure)[:30]}'; choose from {', '.join(MEASURE)}", where="measure")
    return MEASURE[measure]


# ---------------------------------------------------------------------------------------------
# Populations and rates


def rate_per_1000(offences: float, population: float) -> float:
    """Offences per 1,000 people; the single formula every rate in the atlas uses."""
    return offences / population * 1000 if population else math.nan


def change_pct(before: float, after: float) -> float:
    """Percentage change; NaN when there is nothing to change from."""
    return (after - before) / before * 100 if before else math.nan


def area_populations(forces: pd.DataFrame) -> pd.DataFrame:
    """Population (all ages and 16+, mid-2023) of every area the recorded-crime table holds, by code:
    forces as in the force table; regions, countries and England and Wales as sums of their forces."""
    table = forces[["code", "name", "country", "region_code", "region", "pop_mid2023", "pop_mid2023_16plus"]].copy()
    rows = [
        {"code": str(code), "pop_all_ages": int(all_ages), "pop_16plus": int(adults)}
        for code, all_ages, adults in zip(table["code"], table["pop_mid2023"], table["pop_mid2023_16plus"], strict=True)
    ]
    for key, members in (
        *((str(code), table[table["region_code"] == code]) for code in table["region_code"].unique()),
        *((COUNTRY_CODES[country], table[table["country"] == country]) for country in COUNTRY_CODES),
        (ENGLAND_AND_WALES_CODE, table),
    ):
        rows.append(
            {
                "code": key,
                "pop_all_ages": int(members["pop_mid2023"].sum()),
                "pop_16plus": int(members["pop_mid2023_16plus"].sum()),
            }
        )
    return pd.DataFrame(rows).drop_duplicates("code").set_index("code")


DEMAND_COLUMNS = ["code", "name", "area_type", "offences", "rate_all_ages", "rate_16plus"]


def demand_by_area(crime: pd.DataFrame, forces: pd.DataFrame, measure: Measure | str, period: str) -> pd.DataFrame:
    """Every area's offences of ``measure`` in ``period`` and its two rates (NaN where not listed)."""
    column = _measure(measure).column
    rows = crime[crime["period"] == period]
    if rows.empty:
        raise InputError(f"no recorded crime for {period}", where="demand")
    population = area_populations(forces)
    all_ages = population["pop_all_ages"].astype(float).to_dict()
    adults = population["pop_16plus"].astype(float).to_dict()
    offences = [float(value) for value in rows[column].astype("Float64").astype(float)]
    codes = [str(code) for code in rows["area_code"]]
    table = pd.DataFrame(
        {
            "code": codes,
            "name": rows["area_name"].to_numpy(),
            "area_type": rows["area_type"].to_numpy(),
            "offences": rows[column].to_numpy(),
            "rate_all_ages": [rate_per_1000(o, all_ages[c]) for o, c in zip(offences, codes, strict=True)],
            "rate_16plus": [rate_per_1000(o, adults[c]) for o, c in zip(offences, codes, strict=True)],
        }
    )
    return table.reset_index(drop=True)


RANKING_COLUMNS = [
    "code",
    "name",
    "offences",
    "rate_all_ages",
    "rate_16plus",
    "rank",
    "offences_previous",
    "change_pct",
]


def force_ranking(crime: pd.DataFrame, forces: pd.DataFrame, measure: Measure | str, period: str) -> pd.DataFrame:
    """The 43 forces, highest rate per 1,000 population first: offences, both rates, rank (1 = highest
    rate; ties share the best rank), last year's offences and the change since (NaN where unknown)."""
    table = demand_by_area(crime, forces, measure, period)
    table = table[table["area_type"] == "force"].drop(columns="area_type")
    previous = period_of(year_of(period) - 1)
    if previous in set(crime["period"]):
        before = demand_by_area(crime, forces, measure, previous).set_index("code")["offences"]
        table["offences_previous"] = table["code"].map(before)
    else:
        table["offences_previous"] = pd.NA
    table["change_pct"] = [
        change_pct(float(b), float(a)) if not (pd.isna(a) or pd.isna(b)) else math.nan
        for a, b in zip(table["offences"], table["offences_previous"])
    ]
    table["rank"] = table["rate_all_ages"].rank(ascending=False, method="min").astype("Int64")
    table = table.sort_values(["rate_all_ages", "name"], ascending=[False, True]).reset_index(drop=True)
    return table[RANKING_COLUMNS]


def offences_by_force(crime: pd.DataFrame, measure: Measure | str, period: str) -> dict[str, float]:
    """Force code → offences of ``measure`` in ``period`` (forces with a count only)."""
    column = _measure(measure).column
    rows = crime[(crime["period"] == period) & (crime["area_type"] == "force")]
    return {str(code): float(value) for code, value in zip(rows["area_code"], rows[column]) if not pd.isna(value)}


# ---------------------------------------------------------------------------------------------
# Comparators


COMPARISON_COLUMNS = ["comparator", "code", "offences", "rate_all_ages", "rate_16plus", "difference"]


def comparison(
    crime: pd.DataFrame,
    forces: pd.DataFrame,
    code: str,
    measure: Measure | str,
    period: str,
    peer_codes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """A force beside its region (Wales for a Welsh force), England and Wales and, if given, its peers
    (pooled: their offences ÷ their population). ``difference`` is the force's rate per 1,000 population
    minus the comparator's (positive: the force is higher)."""
    table = forces.set_index("code")
    if code not in table.index:
        raise InputError(f"unknown force code '{code[:20]}'", where="comparison")
    unknown = [peer for peer in (peer_codes or []) if peer not in table.index]
    if unknown:
        raise InputError(f"unknown peer force code(s) {', '.join(unknown)}", where="comparison")
    areas = demand_by_area(crime, forces, measure, period).set_index("code")
    force = table.loc[code]
    rows = []
    for area_code in (code, str(force["region_code"]), ENGLAND_AND_WALES_CODE):
        area = cast("pd.Series[Any]", areas.loc[area_code])  # area codes are unique: one row
        rows.append(
            {
                "comparator": str(area["name"]),
                "code": area_code,
                "offences": area["offences"],
                "rate_all_ages": float(area["rate_all_ages"]),
                "rate_16plus": float(area["rate_16plus"]),
            }
        )
    if peer_codes:
        peers = list(dict.fromkeys(peer_codes))
        offences = areas.loc[peers, "offences"]
        total = float(offences.sum()) if offences.notna().all() else math.nan
        population = area_populations(forces).loc[peers]
        rows.append(
            {
                "comparator": f"Peer group ({len(peers)} force{'s' if len(peers) != 1 else ''})",
                "code": "",
                "offences": pd.NA if math.isnan(total) else int(total),
                "rate_all_ages": rate_per_1000(total, float(population["pop_all_ages"].sum())),
                "rate_16plus": rate_per_1000(total, float(population["pop_16plus"].sum())),
            }
        )
    result = pd.DataFrame(rows)
    result["offences"] = result["offences"].astype("Int64")
    result["difference"] = result["rate_all_ages"].iloc[0] - result["rate_all_ages"]
    return result[COMPARISON_COLUMNS]


# ---------------------------------------------------------------------------------------------
# Trends


TREND_COLUMNS = ["code", "name", "year_ending", "period", "offences", "rate_all_ages", "comparable"]


def trend(crime: pd.DataFrame, forces: pd.DataFrame, codes: Sequence[str], measure: Measure | str) -> pd.DataFrame:
    """Each area's offences and rate per 1,000 population (all ages, mid-2023) in every period with a count.

    ``comparable`` is False before ``FIRST_COMPARABLE_YEAR`` for stalking, whose counting rules changed
    in April 2018 and April 2020 (``vocabulary.COUNTING_RULE_BREAKS``)."""
    chosen = _measure(measure)
    population = area_populations(forces)
    rows = crime[crime["area_code"].isin(list(codes))].sort_values(["area_code", "year_ending"])
    rows = rows[rows[chosen.column].notna()]
    order = {code: i for i, code in enumerate(codes)}
    table = pd.DataFrame(
        {
            "code": rows["area_code"].to_numpy(),
            "name": rows["area_name"].to_numpy(),
            "year_ending": rows["year_ending"].to_numpy(),
            "period": rows["period"].to_numpy(),
            "offences": rows[chosen.column].to_numpy(),
            "rate_all_ages": [
                rate_per_1000(float(o), float(population.loc[c, "pop_all_ages"]))
                for o, c in zip(rows[chosen.column], rows["area_code"])
            ],
            "comparable": (rows["year_ending"] >= FIRST_COMPARABLE_YEAR).to_numpy()
            if chosen.key == "stalking"
            else True,
        }
    )
    table = table.sort_values(["code", "year_ending"], key=lambda s: s.map(order) if s.name == "code" else s)
    # West Midlands is a force and a region: each series needs a name of its own (the chart's legend, the
    # table's columns); the region keeps the name with "(region)" after it
    area_types = dict(zip(rows["area_code"], rows["area_type"]))
    owners: dict[str, str] = {}
    for code, name in dict.fromkeys(zip(table["code"], table["name"])):
        if name in owners and owners[name] != code:
            table.loc[table["code"] == code, "name"] = f"{name} ({area_types.get(code, code)})"
        owners.setdefault(name, code)
    return table.reset_index(drop=True)[TREND_COLUMNS]


@dataclass(frozen=True)
class Change:
    """Change in an area's offences: since the previous year and since the first comparable year."""

    period: str
    previous_period: str
    since_previous_pct: float
    baseline_period: str
    since_baseline_pct: float


def change(crime: pd.DataFrame, code: str, measure: Measure | str, period: str) -> Change:
    column = _measure(measure).column
    rows = crime[crime["area_code"] == code].set_index("period")[column]
    year = year_of(period)

    def pct(before: str) -> float:
        if before not in rows.index or pd.isna(rows.get(before)) or pd.isna(rows.get(period)):
            return math.nan
        return change_pct(float(rows[before]), float(rows[period]))

    previous, baseline = period_of(year - 1), period_of(FIRST_COMPARABLE_YEAR)
    return Change(
        period, previous, pct(previous), baseline, pct(baseline) if year > FIRST_COMPARABLE_YEAR else math.nan
    )


# ---------------------------------------------------------------------------------------------
# Display helpers


def format_rate(value: float | None) -> str:
    """A rate per 1,000 to 2 decimal places, e.g. ``4.62``; ``n/a`` when unknown."""
    if value is None or pd.isna(value):
        return "n/a"
    return f"{value:,.2f}"


def format_count(value: object) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{int(value):,}"  # type: ignore[call-overload]


def format_change(value: float | None) -> str:
    """A percentage change with its sign, e.g. ``+3.2%`` or ``−14.9%``; ``n/a`` when unknown."""
    if value is None or pd.isna(value):
        return "n/a"
    text = f"{abs(value):,.1f}%"
    if text == "0.0%":
        return text
    return ("+" if value > 0 else "\u2212") + text
