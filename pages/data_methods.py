"""Data & methods: every dataset with publisher, period, licence and attribution; how areas are classed."""

from __future__ import annotations

import streamlit as st

from coverage.catalogue import OGL_URL, ONS_ATTRIBUTION, OSM_ATTRIBUTION, catalogue_table
from coverage.services import PROVISION_RULES, export_register_csv
from ui import data

atlas = data.atlas()

st.title("Data & methods")
st.markdown(
    "Every figure in the atlas comes from one of the datasets below. Each row gives the publisher, the "
    "period, the licence and what the atlas did to it. Unknown is shown as unknown, never as none."
)

st.header("Datasets")
catalogue = catalogue_table().rename(
    columns={
        "title": "Dataset",
        "file": "File in the repository",
        "publisher": "Publisher",
        "period": "Period",
        "licence": "Licence",
        "attribution": "Attribution",
        "obtained_from": "Obtained from",
        "processing": "What was done",
    }
)
st.dataframe(catalogue.drop(columns=["key"]), hide_index=True, width="stretch")

st.header("Required attribution")
st.markdown(f"> {ONS_ATTRIBUTION}")
st.markdown(f"Where the optional basemap is shown: {OSM_ATTRIBUTION}. Licence text: [Open Government Licence v3.0]({OGL_URL}).")

st.header("How a force area is classed")
st.markdown("\n".join(f"{number}. {rule}" for number, rule in enumerate(PROVISION_RULES, start=1)))
st.markdown(
    "The register is a snapshot of a research search completed in early 2026 (latest source dated "
    "3 February 2026). *None found* means the search found no evidence, not that nothing exists."
)

st.header("Service register")
st.dataframe(atlas.register, hide_index=True, width="stretch")
st.download_button(
    "Download the register (CSV)",
    data=export_register_csv(atlas.register),
    file_name="stalking_service_register.csv",
    mime="text/csv",
)

st.header("Sources")
st.dataframe(
    atlas.sources,
    hide_index=True,
    width="stretch",
    column_config={"url": st.column_config.LinkColumn("url")},
)
