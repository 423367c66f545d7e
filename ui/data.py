"""Cached loaders: each reads the shipped files once per server, keyed on simple arguments."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from coverage import atlas_data, paths
from coverage.maps import provision_map
from coverage.services import PROVISION_CLASS_LABELS, PROVISION_CLASSES


@st.cache_data(show_spinner=False)
def atlas(data_dir: str = str(paths.DATA_DIR)) -> atlas_data.AtlasData:
    from pathlib import Path

    return atlas_data.load_all(Path(data_dir))


@st.cache_data(show_spinner=False)
def provision(data_dir: str = str(paths.DATA_DIR)) -> pd.DataFrame:
    data = atlas(data_dir)
    return atlas_data.provision_table(data.forces, data.register)


def base_map(tiles: bool, boundaries: dict, data_dir: str = str(paths.DATA_DIR)):
    """A fresh folium map each run: streamlit-folium renames a map's layers as it renders it,
    so a map object cannot be cached and rendered twice (its second script draws nothing)."""
    labels = {key: PROVISION_CLASS_LABELS[key] for key in PROVISION_CLASSES}
    return provision_map(boundaries, provision(data_dir), labels, tiles=tiles)
