"""The 43 territorial police force areas (PFAs) of England and Wales and their attributes.

One table gives every page its display names, country, region and population, joined on the
ONS PFA code (``E23000001`` … ``W15000004``).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
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


def similar_forces(forces: pd.DataFrame, code: str, n: int = 5) -> list[str]:
    """The ``n`` forces most like ``code`` in size and density, nearest first.

    The atlas's own simple method, NOT HMICFRS's most similar groups: each force is placed by the
    log of its population aged 16+ and the log of its population density (all ages, mid-2023,
    per km² of land), each standardised to mean 0 and standard deviation 1 across the forces
    given; neighbours are the nearest by straight-line distance, ties broken by code.
    """
    if code not in set(forces["code"]):
        raise InputError(f"unknown force code '{code}'", where="similar_forces")
    if n < 0:
        raise InputError(f"the number of similar forces must be 0 or more, not {n}", where="similar_forces")
    table = forces.set_index("code")
    features = pd.DataFrame(
        {
            "size": np.log(table["pop_mid2023_16plus"].astype(float)),
            "density": np.log(table["pop_mid2023"].astype(float) / table["area_sq_km"].astype(float)),
        }
    )
    spread = features.std(ddof=0).replace(0, 1)
    scaled = (features - features.mean()) / spread
    distance = np.sqrt(((scaled - scaled.loc[code]) ** 2).sum(axis=1)).drop(code)
    ranked = distance.rename("distance").reset_index().sort_values(["distance", "code"])
    return list(ranked["code"].head(n))
