"""Build ``data/forces/forces.csv`` (the 43 force areas: names, region, population) from ``shared/data`` (offline only)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from coverage.errors import InputError
from coverage.model.forces import DISPLAY_NAME_OVERRIDES, FORCE_COLUMNS, validate_force_table
from coverage.vocabulary import FORCE_CODE_PATTERN


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
