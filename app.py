"""Stalking Provision Atlas: entry point (`streamlit run app.py`)."""

import os
import time

import streamlit as st

from ui.layout import sidebar

_started = time.perf_counter()

st.set_page_config(page_title="Stalking Provision Atlas", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/map.py", title="Map", url_path="map", default=True),
        st.Page("pages/evidence.py", title="Edit the evidence", url_path="evidence"),
        st.Page("pages/data_methods.py", title="Data & methods", url_path="data-and-methods"),
    ]
)
sidebar()
navigation.run()

# bench/map.py sets ATLAS_RUN_TIMES to measure the server time of each script run.
if run_times := os.environ.get("ATLAS_RUN_TIMES"):
    with open(run_times, "a", encoding="utf-8") as log:
        log.write(f"{navigation.url_path or 'map'}\t{time.perf_counter() - _started:.4f}\n")
