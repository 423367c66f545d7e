"""The floor of bench/map.py's comparison: a Streamlit page with one title and nothing else.

    streamlit run bench/bare_page.py

Whatever a visitor waits for on this page (Streamlit's own front end, its websocket and one script
run) every Streamlit app pays; bench/map.py subtracts it to find what a map itself costs.
"""

import streamlit as st

st.title("Police force areas in England and Wales")
