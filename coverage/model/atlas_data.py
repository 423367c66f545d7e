"""Load the shipped data files (``data/``) and join them into what the pages show.

Pure functions with paths as arguments; the Streamlit pages wrap them in ``st.cache_data``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from coverage import paths
from coverage.model.boundaries import read_shipped_geojson
from coverage.model.demand import read_recorded_crime
from coverage.model.forces import read_force_table
from coverage.model.indicators import read_indicators
from coverage.model.register import CsvSource, provision_by_force, provision_flags
from coverage.model.register import load_register as _load_register
from coverage.sources import load_registry, sources_table
from coverage.vocabulary import PROVISION_CLASS_LABELS, PROVISION_CLASSES


def load_forces(path: Path = paths.FORCES_CSV) -> pd.DataFrame:
    return read_force_table(path)


def load_boundary_geojson(path: Path = paths.BOUNDARIES_GEOJSON) -> dict[str, Any]:
    return read_shipped_geojson(path)


def load_sources_table(path: Path = paths.SOURCES_CSV) -> pd.DataFrame:
    """The sources registry (``data/sources.csv``) as a table: ``source_id``, publisher … ``used_for``."""
    return sources_table(load_registry(Path(path)))


def load_register(
    path: CsvSource = paths.SERVICES_CSV,
    *,
    forces: pd.DataFrame | None = None,
    sources: pd.DataFrame | None = None,
    name: str | None = None,
) -> pd.DataFrame:
    """Read and validate a register against the force table and the sources registry (as a table)."""
    forces = load_forces() if forces is None else forces
    sources = load_sources_table() if sources is None else sources
    label = name or (Path(path).name if isinstance(path, (str, Path)) else "register.csv")
    return _load_register(path, force_codes=set(forces["code"]), source_ids=set(sources["source_id"]), name=label)


@dataclass
class AtlasData:
    forces: pd.DataFrame
    boundaries: dict[str, Any]  # GeoJSON FeatureCollection
    register: pd.DataFrame
    sources: pd.DataFrame  # the sources registry, data/sources.csv (coverage.sources.sources_table)
    indicators: pd.DataFrame  # the ONS group, YE Dec 2022 and 2023: the planner's demand basis
    crime: pd.DataFrame  # recorded crime by offence code (coverage.model.demand): the demand every page shows


def load_all(data_dir: Path = paths.DATA_DIR) -> AtlasData:
    forces = load_forces(data_dir / "forces" / "forces.csv")
    sources = load_sources_table(data_dir / "sources.csv")
    register = load_register(data_dir / "services" / "register.csv", forces=forces, sources=sources)
    boundaries = load_boundary_geojson(data_dir / "boundaries" / "pfa_dec2023_simplified.geojson")
    indicators = read_indicators(data_dir / "indicators" / "indicators.csv", force_codes=set(forces["code"]))
    crime = read_recorded_crime(data_dir / "indicators" / "recorded_crime.csv", force_codes=set(forces["code"]))
    return AtlasData(
        forces=forces, boundaries=boundaries, register=register, sources=sources, indicators=indicators, crime=crime
    )


def load_verification(path: Path = paths.DATA_DIR / "services" / "verification.csv") -> pd.DataFrame:
    """The record of checks made on the register's most consequential claims (hand-written evidence)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def forces_with_multi_agency_unit(forces: pd.DataFrame, register: pd.DataFrame) -> set[str]:
    """Codes of the forces the register says already have a (counting) multi-agency stalking unit."""
    flags = provision_flags(register, list(forces["code"]))
    return set(flags.loc[flags["has_multi_agency_unit"].astype(bool), "code"])


def provision_table(forces: pd.DataFrame, register: pd.DataFrame) -> pd.DataFrame:
    """One row per force: name, region, population, its provision class (with label and rank) and
    the per-type flags (``has_multi_agency_unit`` … ``has_police_team``, ``class_status_unknown``)."""
    provision = provision_by_force(register, list(forces["code"]))
    table = forces.merge(provision, on="code", how="left", validate="one_to_one")
    table["provision_label"] = table["provision_class"].map(PROVISION_CLASS_LABELS)
    order = {key: rank for rank, key in enumerate(PROVISION_CLASSES)}
    table["provision_rank"] = table["provision_class"].map(order)
    flags = provision_flags(register, list(forces["code"])).drop(columns=["provision_class"])
    return table.merge(flags, on="code", how="left", validate="one_to_one")
