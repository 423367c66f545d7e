"""Stalking Provision Atlas: entry point (`streamlit run app.py`)."""

import os
import time
from pathlib import Path

import streamlit as st

from ui.layout import sidebar

_started = time.perf_counter()

st.set_page_config(page_title="Stalking Provision Atlas", layout="wide")

PAGES = [
    ("pages/map.py", "Map", "map"),
    ("pages/lottery.py", "Postcode lottery", "lottery"),
    ("pages/scenario_planner.py", "Scenario planner", "scenarios"),
    ("pages/briefing.py", "Briefing", "briefing"),
    ("pages/evidence.py", "Edit the evidence", "evidence"),
    ("pages/data_methods.py", "Data & methods", "data-and-methods"),
]
_here = Path(__file__).parent
navigation = st.navigation(
    [
        st.Page(path, title=title, url_path=url, default=(url == "map"))
        for path, title, url in PAGES
        if (_here / path).exists()
    ]
)
sidebar()
try:
    navigation.run()
finally:
    # bench/map.py sets ATLAS_RUN_TIMES to measure the server time of each script run; a run that
    # a newer rerun interrupted is logged as "interrupted", not mixed with complete runs.
    if run_times := os.environ.get("ATLAS_RUN_TIMES"):
        import sys

        state = "interrupted" if sys.exc_info()[0] else "complete"
        with open(run_times, "a", encoding="utf-8") as log:
            log.write(f"{navigation.url_path or 'map'}\t{time.perf_counter() - _started:.4f}\t{state}\n")
