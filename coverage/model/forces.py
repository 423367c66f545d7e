"""The 43 territorial police force areas (PFAs) of England and Wales and their attributes.

One table gives every page its display names, country, region and population, joined on the
ONS PFA code (``E23000001`` … ``W15000004``).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd

from coverage.errors import InputError, InputErrors
from coverage.vocabulary import FORCE_CODE_PATTERN, FORCE_COUNT

FORCE_COLUMNS = [
    "code",
    "name",
    "ons_name",
    "country",
    "region_code",
    "region",
    "pop_mid2023",
    "pop_mid2023_16plus",
    "area_sq_km",
    "n_local_authorities",
]

# ONS names the City of London force area "London, City of" (index style); people say
# "City of London", so that is the display name. Every other display name is the ONS name.
DISPLAY_NAME_OVERRIDES = {"E23000034": "City of London"}

WALES_REGION = ("W92000004", "Wales")


def _region_by_force(crime_table_csv: Path) -> dict[str, tuple[str, str]]:
    """Region of each force from an ONS police-force-area crime table.

    ONS lists each English region (E12 code) followed by the forces in it, and Wales (W92)
    followed by the Welsh forces; that nesting is the official force → region assignment.
    """
    table = pd.read_csv(crime_table_csv, sep=";", dtype=str, usecols=[0, 1])
    table.columns = ["code", "name"]
    regions: dict[str, tuple[str, str]] = {}
    current: tuple[str, str] | None = None
    for raw_code, name in zip(table["code"].fillna(""), table["name"].fillna("")):
        code = raw_code.strip()
        if code.startswith(("E12", "W92")):
            current = (code, re.sub(r"\s*\[note \d+\]", "", name).strip())
        elif FORCE_CODE_PATTERN.match(code):
            if current is None:
                raise InputError(f"force {code} is listed before any region", where=str(crime_table_csv))
            regions[code] = current
    return regions


def build_force_table(source_dir: Path) -> pd.DataFrame:
    """Build the force table from the ONS files in ``source_dir`` (``shared/data``)."""
    lookup = pd.read_csv(source_dir / "lookups" / "lad23_to_pfa23_dec2023.csv", dtype=str)
    population = pd.read_csv(source_dir / "population" / "pfa23_population_mid2011_mid2023.csv", dtype={"PFA23CD": str})
    regions = _region_by_force(source_dir / "crime" / "ons_pfa_recorded_crime_by_offence_group_december2023.csv")

    names = lookup[["PFA23CD", "PFA23NM"]].drop_duplicates().set_index("PFA23CD")["PFA23NM"]
    lads = lookup.groupby("PFA23CD")["LAD23CD"].nunique()
    table = pd.DataFrame({"code": sorted(names.index)})
    table["ons_name"] = table["code"].map(names)
    table["name"] = [DISPLAY_NAME_OVERRIDES.get(c, n) for c, n in zip(table["code"], table["ons_name"])]
    table["country"] = table["code"].str[0].map({"E": "England", "W": "Wales"})
    table["region_code"] = table["code"].map(lambda c: regions.get(c, (None, None))[0])
    table["region"] = table["code"].map(lambda c: regions.get(c, (None, None))[1])

    population = population.set_index("PFA23CD")
    table["pop_mid2023"] = table["code"].map(population["pop_mid2023"]).astype("Int64")
    table["pop_mid2023_16plus"] = table["code"].map(population["pop_mid2023_age16plus"]).astype("Int64")
    table["area_sq_km"] = table["code"].map(population["area_sq_km"]).round(1)
    table["n_local_authorities"] = table["code"].map(lads).astype("Int64")
    return validate_force_table(table[FORCE_COLUMNS], where="force table built from " + str(source_dir))


def validate_force_table(table: pd.DataFrame, *, where: str) -> pd.DataFrame:
    """Check the force table is the 43 PFAs with every attribute present."""
    problems: list[str] = []
    missing_columns = [c for c in FORCE_COLUMNS if c not in table.columns]
    if missing_columns:
        raise InputError(f"missing column(s) {', '.join(missing_columns)}", where=where)
    if len(table) != FORCE_COUNT:
        problems.append(f"has {len(table)} forces; expected {FORCE_COUNT}")
    bad_codes = [c for c in table["code"] if not FORCE_CODE_PATTERN.match(str(c))]
    if bad_codes:
        problems.append(f"not PFA codes: {', '.join(map(str, bad_codes))}")
    duplicated = table.loc[table["code"].duplicated(), "code"].tolist()
    if duplicated:
        problems.append(f"duplicate codes: {', '.join(duplicated)}")
    for column in FORCE_COLUMNS:
        empty = table.loc[table[column].isna(), "code"].tolist()
        if empty:
            problems.append(f"column '{column}' is empty for {', '.join(map(str, empty))}")
    if problems:
        raise InputErrors(problems, where=where)
    return table.sort_values("code").reset_index(drop=True)


def read_force_table(path: Path | str | io.IOBase) -> pd.DataFrame:
    """Read the shipped force table (``data/forces/forces.csv``)."""
    table = pd.read_csv(
        path,
        dtype={"code": str, "name": str, "ons_name": str, "country": str, "region_code": str, "region": str},
    )
    for column in ("pop_mid2023", "pop_mid2023_16plus", "n_local_authorities"):
        table[column] = table[column].astype("Int64")
    return validate_force_table(table, where=str(path))


def force_names(forces: pd.DataFrame) -> dict[str, str]:
    """Code → display name: the one mapping every page, chart and briefing uses."""
    return {str(code): str(name) for code, name in zip(forces["code"], forces["name"])}
