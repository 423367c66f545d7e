"""Stalking Provision Atlas: entry point (`streamlit run app.py`)."""

import os
import time

import streamlit as st

from ui.access import account_box, sign_in_gate
from ui.layout import responsive_columns, sidebar, uploaded_register_notice

_started = time.perf_counter()

st.set_page_config(page_title="Stalking Provision Atlas", layout="wide")
sign_in_gate()  # team mode: nothing but the sign-in page until the visitor has signed in

# Each file's name is its URL path, so a link, a first visit and AppTest's switch_page all agree.
PAGES = [
    ("app_pages/map.py", "Map", "map"),
    ("app_pages/lottery.py", "Postcode lottery", "lottery"),
    ("app_pages/scenarios.py", "Scenario planner", "scenarios"),
    ("app_pages/briefing.py", "Briefing", "briefing"),
    ("app_pages/evidence.py", "Edit the evidence", "evidence"),
    ("app_pages/methods.py", "Data & methods", "methods"),
]
# The pages live in app_pages/, not pages/: with a pages/ folder beside app.py Streamlit falls back to
# its old folder-based navigation for whichever URL is opened first on a fresh server, and runs that
# page without this script (no sidebar, no layout) or shows "Page not found" for url paths that differ
# from file names. tests/test_browser.py opens /lottery first on a fresh server to guard this.
navigation = st.navigation(
    [st.Page(path, title=title, url_path=url, default=(url == "map")) for path, title, url in PAGES]
)
sidebar()
account_box()
responsive_columns()
uploaded_register_notice()
if navigation.url_path == "briefing":
    # The page's charts are drawn in vl-convert's own process: started now, it starts while the page's
    # code is imported instead of after (coverage/outputs/renderer.py).
    from coverage.outputs import renderer

    renderer.start()
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
