"""Stalking Provision Atlas: entry point (`streamlit run app.py`)."""

import streamlit as st

from ui.layout import sidebar

st.set_page_config(page_title="Stalking Provision Atlas", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/map.py", title="Map", url_path="map", default=True),
        st.Page("pages/data_methods.py", title="Data & methods", url_path="data-and-methods"),
    ]
)
sidebar()
navigation.run()
