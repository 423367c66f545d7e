"""Map: the 43 police force areas coloured by specialist stalking provision, a table and a force profile."""

from __future__ import annotations

from datetime import date

import streamlit as st

from coverage.export import csv_bytes
from coverage.model.demand import latest_period
from coverage.model.forces import force_names
from coverage.model.profile import force_summary, national_summary_sentence, national_takeaway, provision_rows
from coverage.outputs.compiled_maps import PROVISION_MAP
from coverage.outputs.map_styles import PROVISION_STYLES
from coverage.vocabulary import HEADLINE_MEASURE, PROVISION_CLASS_LABELS, PROVISION_CLASSES
from ui import data, inline_map, profile_view, session
from ui.layout import attribution_caption
from ui.markdown import bold, escape_markdown

FORCE_KEY = "force"
MAP_KEY = "provision_map"
BASEMAP_KEY = "basemap"

atlas = data.atlas()
boundaries = session.boundaries(atlas.boundaries)
table = data.provision()
names = force_names(table)
codes = sorted(names, key=names.get)

# The URL carries the selection (?force=E23000006) so a link reproduces the view.
if FORCE_KEY not in st.session_state:
    requested = st.query_params.get(FORCE_KEY)
    st.session_state[FORCE_KEY] = requested if requested in names else None


def _select_clicked_force() -> None:
    # Only a force drawn from the boundaries in use now and known to the atlas; any other click (one that
    # names nothing, or a force a newly uploaded boundary file no longer draws) changes nothing.
    drawn = inline_map.force_codes(session.boundaries(data.atlas().boundaries))
    code = inline_map.clicked_force(inline_map.trigger_value(MAP_KEY), drawn, force_names(data.provision()))
    if code is not None:
        st.session_state[FORCE_KEY] = code


header = st.container()  # filled once the map is on its way (below)
map_column, side_column = st.columns([3, 2], gap="medium")

# The map is sent first so it starts drawing while the widgets beside it render; it reads the
# widgets' values from session state, where Streamlit keeps them between runs. Drawn in the page (no
# iframe): the compiled map is built once per server, and the browser keeps its live map across runs,
# only outlining the selected force and adding or removing the basemap.
selected = st.session_state.get(FORCE_KEY)
show_tiles = bool(st.session_state.get(BASEMAP_KEY, False))
with map_column:
    inline_map.inline_map(
        inline_map.compiled_map(PROVISION_MAP, boundaries, session.boundaries_version()),
        key=MAP_KEY,
        selected=selected,
        basemap=show_tiles,
        on_click=_select_clicked_force,
    )
# The map is the page's first element to reach the browser: Streamlit's code for it, Leaflet's script and
# the drawing start before the rest of the page (and the code of its widgets) arrives.
with header:
    st.title("Specialist stalking provision by police force area")
    st.markdown(national_takeaway(table, number=bold))
    if session.boundaries_name():
        notice, reset = st.columns([5, 1])
        notice.info(
            f"Drawn with your uploaded boundary file ({escape_markdown(session.boundaries_name())}), for this session only."
        )
        reset.button("Use the ONS boundaries", on_click=session.clear_boundaries)
with map_column:
    legend = " · ".join(
        f"**{PROVISION_CLASS_LABELS[key]}**: {PROVISION_STYLES[key]['pattern']}" for key in PROVISION_CLASSES
    )
    st.caption(f"Key — {legend}. Selected force: orange outline.")
    st.caption(national_summary_sentence(table))
    attribution_caption(with_osm=show_tiles)
    st.page_link("app_pages/methods.py", label="Sources, periods and licences")

with side_column:
    st.selectbox(
        "Force area",
        options=codes,
        format_func=names.get,
        key=FORCE_KEY,
        index=None,
        placeholder="Choose a force, or click one on the map",
    )
    st.toggle(
        "OpenStreetMap basemap",
        key=BASEMAP_KEY,
        help="Off by default: the basemap needs the internet and tells the tile server who is looking.",
    )
    period = latest_period(atlas.crime, HEADLINE_MEASURE)
    if selected:
        # The answer where the reader is looking: beside the map (below it on a phone), the full profile further down.
        summary = force_summary(
            selected, table, profile_view.stalking_ranking(period), period, profile_view.england_and_wales_rate(period)
        )
        with st.container(border=True, key="force_summary"):
            st.markdown(f"**{escape_markdown(summary.name)}: {escape_markdown(summary.provision_label)}**")
            if summary.exists:
                st.markdown("**Has:** " + escape_markdown("; ".join(summary.exists)) + ".")
            if summary.missing:
                st.markdown("**Not found:** " + escape_markdown("; ".join(summary.missing)) + ".")
            st.markdown(escape_markdown(summary.comparison))
            st.markdown(escape_markdown(summary.demand))
            st.markdown("[See the full profile below: services, sources, comparators and trend](#force-profile)")
    st.markdown("**All 43 force areas**")
    rows = provision_rows(
        table, profile_view.stalking_ranking(period), period, data.freshness(date.today().isoformat())
    )
    st.caption(f"Stalking: police recorded offences (8Q), {period}, per 1,000 population (all ages, mid-2023).")
    st.download_button(
        "Download this table (CSV)",
        data=lambda: csv_bytes(rows),
        file_name="stalking_provision_by_force.csv",
        mime="text/csv",
        key="map_table_csv",
        on_click="ignore",
    )
    # A grid, not a table: with demand and evidence dates beside provision it is wider than this column,
    # and a scrolling table cannot be reached by keyboard (axe: scrollable-region-focusable); the grid can.
    st.dataframe(rows, hide_index=True, width="stretch", height=420)

if selected:
    st.query_params[FORCE_KEY] = selected
elif FORCE_KEY in st.query_params:
    del st.query_params[FORCE_KEY]

st.divider()
if not selected:
    st.info("Choose a force above, or click one on the map, to see its profile.")
else:
    profile_view.render(selected, table)
