"""Cached loaders: each reads the shipped files once per server, keyed on simple arguments."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from coverage import atlas_data, paths
from coverage.maps import atlas_map
from coverage.services import PROVISION_CLASS_LABELS, PROVISION_CLASSES

REGISTER_KEY = "uploaded_register"
REGISTER_NAME_KEY = "uploaded_register_name"


@st.cache_data(show_spinner=False)
def atlas(data_dir: str = str(paths.DATA_DIR)) -> atlas_data.AtlasData:
    return atlas_data.load_all(Path(data_dir))


@st.cache_data(show_spinner=False)
def verification() -> pd.DataFrame:
    return atlas_data.load_verification()


def register() -> pd.DataFrame:
    """The register this visitor is using: their validated upload, else the shipped one."""
    uploaded = st.session_state.get(REGISTER_KEY)
    return uploaded if uploaded is not None else atlas().register


def register_name() -> str | None:
    return st.session_state.get(REGISTER_NAME_KEY)


@st.cache_data(show_spinner=False, max_entries=32)
def _provision(forces: pd.DataFrame, register: pd.DataFrame) -> pd.DataFrame:
    return atlas_data.provision_table(forces, register)


def provision() -> pd.DataFrame:
    """One row per force: attributes, provision class and per-type flags, for the current register."""
    return _provision(atlas().forces, register())


def base_map(tiles: bool, boundaries: dict):
    """A fresh folium map each run: streamlit-folium renames a map's layers as it renders it,
    so a map object cannot be cached and rendered twice (its second script draws nothing)."""
    labels = {key: PROVISION_CLASS_LABELS[key] for key in PROVISION_CLASSES}
    return atlas_map(boundaries, provision(), labels, tiles=tiles)
