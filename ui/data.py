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


@st.cache_resource(show_spinner=False)
def base_map(tiles: bool, data_dir: str = str(paths.DATA_DIR)):
    """The choropleth is the same for every visitor until the data change: build it once."""
    return provision_map(atlas(data_dir).boundaries, provision(data_dir), {key: PROVISION_CLASS_LABELS[key] for key in PROVISION_CLASSES}, tiles=tiles)
