"""Map: the 43 police force areas coloured by specialist stalking provision, a table and a force profile."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from coverage.maps import PROVISION_STYLES, selected_outline
from coverage.profile import force_profile, national_summary_sentence
from coverage.services import PROVISION_CLASS_LABELS, PROVISION_CLASSES
from ui import data
from ui.layout import attribution_caption

FORCE_KEY = "force"
MAP_KEY = "provision_map"

atlas = data.atlas()
table = data.provision()
names = dict(zip(table["code"], table["name"]))
codes = sorted(names, key=names.get)

# The URL carries the selection (?force=E23000006) so a link reproduces the view.
if FORCE_KEY not in st.session_state:
    requested = st.query_params.get(FORCE_KEY)
    st.session_state[FORCE_KEY] = requested if requested in names else None


def _select_clicked_force() -> None:
    clicked = (st.session_state.get(MAP_KEY) or {}).get("last_active_drawing") or {}
    code = (clicked.get("properties") or {}).get("code")
    if code in names:
        st.session_state[FORCE_KEY] = code


st.title("Specialist stalking provision by police force area")
st.markdown(national_summary_sentence(table))

controls = st.columns([2, 1])
selected = controls[0].selectbox(
    "Force area",
    options=codes,
    format_func=names.get,
    key=FORCE_KEY,
    index=None,
    placeholder="Choose a force, or click one on the map",
)
show_tiles = controls[1].toggle(
    "OpenStreetMap basemap",
    value=False,
    help="Off by default: the basemap needs the internet and tells the tile server who is looking.",
)
if selected:
    st.query_params[FORCE_KEY] = selected
elif FORCE_KEY in st.query_params:
    del st.query_params[FORCE_KEY]

map_column, table_column = st.columns([3, 2], gap="medium")
with map_column:
    st_folium(
        data.base_map(show_tiles),
        key=MAP_KEY,
        height=620,
        use_container_width=True,
        returned_objects=["last_active_drawing"],
        feature_group_to_add=selected_outline(atlas.boundaries, selected),
        on_change=_select_clicked_force,
    )
    legend = " · ".join(
        f"**{PROVISION_CLASS_LABELS[key]}**: {PROVISION_STYLES[key]['pattern']}" for key in PROVISION_CLASSES
    )
    st.caption(f"Key — {legend}. Selected force: orange outline.")
    attribution_caption(with_osm=show_tiles)
    st.page_link("pages/data_methods.py", label="Sources, periods and licences")

with table_column:
    st.markdown("**All 43 force areas**")
    shown = table.sort_values(["provision_rank", "name"])[
        ["name", "provision_label", "region", "pop_mid2023"]
    ].rename(
        columns={
            "name": "Force area",
            "provision_label": "Provision",
            "region": "Region / country",
            "pop_mid2023": "Population mid-2023",
        }
    )
    st.dataframe(shown, hide_index=True, height=620, width="stretch")

st.divider()
if not selected:
    st.info("Choose a force above, or click one on the map, to see its profile.")
else:
    profile = force_profile(selected, table, atlas.register, atlas.sources)
    st.header(profile.heading)
    facts = st.columns(4)
    facts[0].metric("Provision", profile.provision_label)
    facts[1].metric("Population (mid-2023)", profile.population_text)
    facts[2].metric("Population aged 16+", profile.population_16plus_text)
    facts[3].metric("Region / country", profile.region)
    st.markdown(profile.summary)
    if profile.services.empty:
        st.warning(profile.empty_message)
    else:
        st.dataframe(profile.services, hide_index=True, width="stretch")
        st.markdown("**Sources for this force**")
        st.dataframe(
            profile.sources,
            hide_index=True,
            width="stretch",
            column_config={"Link": st.column_config.LinkColumn("Link", display_text="open")},
        )
