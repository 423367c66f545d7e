"""Data & methods: every dataset with publisher, period, licence and attribution; how areas are classed."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from coverage.errors import InputError
from coverage.model.catalogue import REGISTER_SNAPSHOT, catalogue_table
from coverage.model.forces import force_names
from coverage.model.register import PROVISION_RULES, export_register_csv
from coverage.vocabulary import (
    MEASURES,
    OFFENCE_GROUP_CAVEAT,
    OGL_URL,
    ONS_ATTRIBUTION,
    OSM_ATTRIBUTION,
    OSM_COPYRIGHT_URL,
    RATE_CAVEAT,
)
from ui import data, session
from ui.markdown import escape_markdown

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
        "source_ids": "Sources",
    }
)
# What a reader checks first (who, when, under what licence) comes first; the long columns last.
st.dataframe(
    catalogue[
        [
            "Dataset",
            "Publisher",
            "Period",
            "Licence",
            "Attribution",
            "File in the repository",
            "Obtained from",
            "What was done",
            "Sources",
        ]
    ],
    hide_index=True,
    width="stretch",
)

st.header("Required attribution")
st.markdown(f"> {ONS_ATTRIBUTION}")
st.markdown(f"Licence text of the ONS data: [Open Government Licence v3.0]({OGL_URL}).")
st.markdown(
    f"Where the optional basemap is shown: {OSM_ATTRIBUTION}. OpenStreetMap data is available under the "
    f"Open Database Licence: [openstreetmap.org/copyright]({OSM_COPYRIGHT_URL})."
)

st.header("How a force area is classed")
st.markdown("\n".join(f"{number}. {rule}" for number, rule in enumerate(PROVISION_RULES, start=1)))
st.markdown(
    "**Snapshot:** the register is a research search completed in early 2026 (latest source dated "
    f"3 February 2026): {REGISTER_SNAPSHOT}. *None found* means the search found "
    "no evidence, not that nothing exists; *unknown* means the area was not searched in depth (since the December "
    "2026 review every force has been searched)."
)

st.header("Demand measures")
st.markdown(
    "Demand is police recorded crime by Home Office offence code, years ending December, from the Home Office "
    "police recorded crime open data tables. The headline is **stalking (8Q)**; a reader can switch to harassment "
    "(8L), racially or religiously aggravated harassment (8M), malicious communications (8R), controlling or "
    f"coercive behaviour (8U) or their sum. {OFFENCE_GROUP_CAVEAT}\n\n"
    + "\n".join(f"- **{measure.name}**: {measure.caveat}" for measure in MEASURES)
    + "\n\nRates are offences ÷ population × 1,000: per 1,000 population (all ages, the basis ONS and the Home "
    "Office publish, so a figure can be checked against their tables) and per 1,000 aged 16+. Both use the ONS "
    "mid-2023 estimate for every year, the latest the atlas has. England and Wales, regions, England and Wales "
    "are the sums of their forces, so British Transport Police is left out. "
    f"{RATE_CAVEAT} The Scenario planner still costs demand from the ONS group in the year ending December 2023, "
    "the basis its presets' referral rates were derived on."
)

st.header("Service register")
st.dataframe(data.register(), hide_index=True, width="stretch")
st.download_button(
    "Download the register (CSV)",
    data=export_register_csv(data.register()),
    file_name="stalking_service_register.csv",
    mime="text/csv",
)

st.header("Checks on the evidence")
st.markdown(
    "The most consequential claims (the multi-agency units and clinics, the national services, and advocacy "
    "services whose funding ended in 2025–26) were re-checked on 2026-11-26 against stored copies of public "
    "pages. Every change this made to the research draft is listed in `data/services/CHANGES.md`."
)
st.dataframe(data.verification(), hide_index=True, width="stretch")

st.header("Sources")
st.markdown(
    "Every source the atlas cites, in one registry (`data/sources.csv`): the service register's evidence "
    "(R, S and V ids), the Scenario planner's costs (P and S ids) and the official tables behind the demand "
    "figures (D ids, and S145). *used_for* says which part of the atlas cites each one."
)
st.dataframe(
    atlas.sources,
    hide_index=True,
    width="stretch",
    column_config={"url": st.column_config.LinkColumn("url")},
)

st.header("Check your own files")
st.markdown(
    "Check a police force area boundary file downloaded from the ONS Open Geography Portal (GeoJSON, "
    "GeoPackage, a zipped shapefile, or the .shp/.shx/.dbf/.prj parts; EPSG:27700 or EPSG:4326; "
    "PFAxxCD/PFAxxNM fields of any vintage). Nothing you upload is saved "
    "or shared; it lasts for your session only."
)
uploads = st.file_uploader(
    "Boundary file",
    type=["geojson", "json", "gpkg", "zip", "shp", "shx", "dbf", "prj", "cpg"],
    accept_multiple_files=True,
    key="boundary_upload",
)
if uploads:
    try:
        # read and checked once per upload, in a worker process with a time budget (ui/session.py)
        checked = session.checked_boundary_upload([(f.name, f.getvalue()) for f in uploads], force_names(atlas.forces))
    except InputError as error:
        st.error("This boundary file cannot be used. Nothing has changed on the map.")
        st.dataframe(session.problems_table(error), hide_index=True, width="stretch")
    else:
        st.success(
            f"{len(checked.frame)} force areas, fields {checked.code_field}, CRS {checked.source_crs}."
            + (f" Repaired {len(checked.repaired)} invalid geometr(ies)." if checked.repaired else "")
        )
        if checked.repaired:
            st.dataframe(pd.DataFrame({"Repaired": checked.repaired}), hide_index=True)
        if st.button("Draw the map with this file (this session only)", key="use_boundaries"):
            try:
                session.use_boundaries(checked.frame, ", ".join(f.name for f in uploads))
            except InputError as error:
                st.error(f"The map cannot be drawn with this file: {escape_markdown(str(error))}")
            else:
                st.success("Done: the Map page now draws your file.")
st.page_link("app_pages/evidence.py", label="Check or use an edited service register: Edit the evidence")
