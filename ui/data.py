"""Cached loaders: each reads the shipped files once per server, keyed on simple arguments."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st

from coverage import paths
from coverage.model import atlas_data
from coverage.model.freshness import freshness_table

REGISTER_KEY = "uploaded_register"
REGISTER_NAME_KEY = "uploaded_register_name"
REGISTER_VERSION_KEY = "uploaded_register_version"
SHIPPED = "shipped"


# The shipped data and the tables derived from them are read-only, so they are cached as shared
# objects (cache_resource): copying them out of st.cache_data on every rerun cost a tenth of a second.
# Pages must not change them in place; they copy before adding columns.
@st.cache_resource(show_spinner=False)
def atlas(data_dir: str = str(paths.DATA_DIR)) -> atlas_data.AtlasData:
    return atlas_data.load_all(Path(data_dir))


@st.cache_resource(show_spinner=False, max_entries=16)
def latest_period(measure_key: str, data_dir: str = str(paths.DATA_DIR)) -> str:
    """The newest complete period of a measure in the shipped recorded-crime table (read once per server)."""
    from coverage.model.demand import latest_period as newest

    return newest(atlas(data_dir).crime, measure_key)


@st.cache_data(show_spinner=False)
def verification() -> pd.DataFrame:
    return atlas_data.load_verification()


def register() -> pd.DataFrame:
    """The register this visitor is using: their validated upload, else the shipped one."""
    uploaded = st.session_state.get(REGISTER_KEY)
    return uploaded if uploaded is not None else atlas().register


def register_name() -> str | None:
    return st.session_state.get(REGISTER_NAME_KEY)


def register_version() -> str:
    """A short key naming the register in use: "shipped", or a hash of the visitor's upload."""
    return st.session_state.get(REGISTER_VERSION_KEY, SHIPPED)


# Keyed on the register's version, not its contents: hashing two data frames on every rerun cost
# a tenth of a second. The underscored arguments are not hashed.
@st.cache_resource(show_spinner=False, max_entries=32)
def _provision(register_version: str, _forces: pd.DataFrame, _register: pd.DataFrame) -> pd.DataFrame:
    return atlas_data.provision_table(_forces, _register)


def provision() -> pd.DataFrame:
    """One row per force: attributes, provision class and per-type flags, for the current register."""
    return _provision(register_version(), atlas().forces, register())


@st.cache_resource(show_spinner=False, max_entries=16)
def _badge_points(boundaries_version: str, _boundaries: dict) -> dict:
    from coverage.outputs.maps import representative_points  # folium: only the Map page pays for it

    return representative_points(_boundaries)


@st.cache_resource(show_spinner=False, max_entries=32)
def _freshness(register_version: str, today: str, _register: pd.DataFrame, _sources: pd.DataFrame) -> pd.DataFrame:
    return freshness_table(_register, _sources, list(atlas().forces["code"]), date.fromisoformat(today))


def freshness(today: str) -> pd.DataFrame:
    """Each force's last look and newest evidence for the register in use, as of ``today`` (ISO date)."""
    return _freshness(register_version(), today, register(), atlas().sources)
