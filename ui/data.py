"""Cached loaders: each reads the shipped files once per server, keyed on simple arguments."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from coverage import atlas_data, paths
from coverage.maps import add_service_layers, provision_map, representative_points
from coverage.services import PROVISION_CLASS_LABELS, PROVISION_CLASSES, provision_flags

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
    table = atlas_data.provision_table(forces, register)
    flags = provision_flags(register, list(forces["code"])).drop(columns=["provision_class"], errors="ignore")
    return table.merge(flags, on="code", how="left", validate="one_to_one")


def provision() -> pd.DataFrame:
    """One row per force: attributes, provision class and per-type flags, for the current register."""
    return _provision(atlas().forces, register())


@st.cache_data(show_spinner=False, max_entries=8)
def badge_points(boundaries: dict) -> dict:
    return representative_points(boundaries)


def base_map(tiles: bool, boundaries: dict):
    """A fresh folium map each run: streamlit-folium renames a map's layers as it renders it,
    so a map object cannot be cached and rendered twice (its second script draws nothing)."""
    labels = {key: PROVISION_CLASS_LABELS[key] for key in PROVISION_CLASSES}
    table = provision()
    fmap = provision_map(boundaries, table, labels, tiles=tiles)
    add_service_layers(fmap, table, dict(zip(table["code"], table["name"])), badge_points(boundaries))
    return fmap
