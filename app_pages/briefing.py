"""Briefing: publication-ready charts, a one-page PDF and the data behind them, for a force or England and Wales."""

from __future__ import annotations

import dataclasses

import streamlit as st

from coverage.errors import InputError
from coverage.model.forces import force_names
from coverage.outputs.briefing import NATIONAL_NAME, BriefingPack, build_briefing, data_version
from coverage.outputs.renderer import DrawingError
from coverage.planner.schema import list_presets
from coverage.vocabulary import OFFENCE_GROUP_CAVEAT, ONS_ATTRIBUTION
from ui import data
from ui.images import fit_for_screen
from ui.markdown import escape_markdown

FORCE_KEY = "briefing_force"
SCENARIO_KEY = "briefing_scenario"
FORCE_PARAM = "force"
SCENARIO_PARAM = "scenario"
MIME = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@st.cache_data(show_spinner=False, max_entries=8)
def _presets() -> dict[str, str]:
    return {preset["id"]: preset["name"] for preset in list_presets()}


@st.cache_data(show_spinner="Drawing the briefing…", max_entries=16)
def _pack(code: str, scenario_id: str, version: str, edited: str | None, _source) -> BriefingPack:
    """Keyed on (force, scenario, data version, edited register's name); ``_source`` is the data that
    version names."""
    return build_briefing(_source, code or None, scenario_id or None, edited_register=edited)


@st.cache_data(show_spinner=False, max_entries=64)
def _on_screen(png: bytes) -> bytes:
    """The picture shown on the page, shrunk once per server rather than by Streamlit on every run."""
    return fit_for_screen(png)


@st.cache_data(show_spinner=False, max_entries=16)
def _zip(code: str, scenario_id: str, version: str, edited: str | None, _pack: BriefingPack) -> bytes:
    return _pack.zip_bytes()


atlas = data.atlas()
source = dataclasses.replace(atlas, register=data.register())
names = force_names(atlas.forces)
presets = _presets()

# The URL carries the selection (?force=E23000006&scenario=cheshire_hru_like); blank = England and Wales.
requested_force = st.query_params.get(FORCE_PARAM, "")
requested_scenario = st.query_params.get(SCENARIO_PARAM, "")
if FORCE_KEY not in st.session_state:
    st.session_state[FORCE_KEY] = requested_force if requested_force in names else ""
if SCENARIO_KEY not in st.session_state:
    st.session_state[SCENARIO_KEY] = requested_scenario if requested_scenario in presets else ""

st.title("Briefing charts and packs")
st.markdown(
    "Charts, a one-page PDF and the data behind them, ready to publish: each image carries its title, what it "
    "measures, the takeaway, the source and the licence. Download any file on its own, or everything as one zip."
)

pick_force, pick_scenario = st.columns(2)
pick_force.selectbox(
    "Force area",
    options=["", *sorted(names, key=names.get)],
    format_func=lambda c: names.get(c, f"{NATIONAL_NAME} (all 43 force areas)"),
    key=FORCE_KEY,
)
pick_scenario.selectbox(
    "Cost scenario (optional)",
    options=["", *presets],
    format_func=lambda s: presets.get(s, "None"),
    key=SCENARIO_KEY,
    help="A shipped preset: the pack adds a chart of its cost by year, for one unit in the chosen force or, for "
    "England and Wales, one in each force area where no multi-agency stalking unit was found.",
)
code = st.session_state[FORCE_KEY] or ""
scenario_id = st.session_state[SCENARIO_KEY] or ""

if requested_force and requested_force not in names and not code:
    st.warning(
        f"No police force area has the code “{escape_markdown(requested_force[:60])}”: showing {NATIONAL_NAME}. "
        "Codes look like E23000006 (Cheshire)."
    )
if requested_scenario and requested_scenario not in presets and not scenario_id:
    st.warning(f"No scenario preset is called “{escape_markdown(requested_scenario[:60])}”: no cost chart is shown.")

for param, value in ((FORCE_PARAM, code), (SCENARIO_PARAM, scenario_id)):
    if value:
        st.query_params[param] = value
    elif param in st.query_params:
        del st.query_params[param]

if data.register_name():
    st.caption(
        "The PDF, README, images and workbooks below say they were built from your edited register, and every "
        "file name ends “-edited”."
    )

version = data_version(source)
try:
    pack = _pack(code, scenario_id, version, data.register_name(), source)
except InputError as error:
    st.error(f"Could not build the briefing: {escape_markdown(str(error))}")
    st.stop()
except DrawingError as error:
    st.error(f"Could not draw the briefing's charts ({escape_markdown(str(error))}). Reload the page to try again.")
    st.stop()

area = escape_markdown(pack.area_name)
st.header(f"Briefing: {area}")
whole, pdf_column = st.columns(2)
whole.download_button(
    f"Everything as one zip ({len(pack.files)} files)",
    data=_zip(code, scenario_id, version, data.register_name(), pack),
    file_name=pack.zip_name,
    mime="application/zip",
    key="briefing_zip",
    type="primary",
    on_click="ignore",
)
pdf_column.download_button(
    "One-page PDF briefing (A4)",
    data=pack.pdf,
    file_name=pack.pdf_name,
    mime="application/pdf",
    key="briefing_pdf",
    on_click="ignore",
)
st.caption(
    "The PDF gives the headline numbers, the map, what exists and what was not found (services by status and "
    "confidence, placed by area: never an address) and the sources. " + OFFENCE_GROUP_CAVEAT
)

# Each button's name says what it gives ("Ranked chart, PNG"; "Ranked chart data, CSV"): a screen reader
# lists them out of context, so four buttons called "PNG" would be indistinguishable.
FILE_KINDS = (
    ("png", "{chart}, PNG", "The chart as a PNG at twice its size, with its title, takeaway, source and licence"),
    ("svg", "{chart}, SVG", "The chart as an SVG (scales to any size), with its title, takeaway, source and licence"),
    ("csv", "{chart} data, CSV", "The rows the chart shows, as CSV"),
    ("xlsx", "{chart} data, XLSX", "The rows the chart shows, with a sources sheet, as an Excel workbook"),
)

for chart in pack.charts:
    st.subheader(chart.heading)
    files = chart.file_names(pack.stem)
    content = {
        "png": chart.png,
        "svg": chart.svg.encode("utf-8"),
        "csv": pack.files[files["csv"]],
        "xlsx": pack.files[files["xlsx"]],
    }
    picture, beside = st.columns([3, 2], gap="medium")
    with picture:
        st.image(_on_screen(chart.png), alt=chart.alt_text, width="stretch")
        for row in (FILE_KINDS[:2], FILE_KINDS[2:]):
            for column, (extension, label, describe) in zip(st.columns(2), row):
                column.download_button(
                    label.format(chart=chart.label),
                    data=content[extension],
                    file_name=files[extension],
                    mime=MIME[extension],
                    key=f"briefing_{chart.key}_{extension}",
                    on_click="ignore",
                    help=describe,
                    width="stretch",
                )
        shared = [image for image in pack.share if image.chart_key == chart.key]
        if shared:
            st.markdown("**For sharing** (title, takeaway, source and licence inside each image)")
            for column, image in zip(st.columns(len(shared)), shared):
                column.download_button(
                    image.label,
                    data=image.png,
                    file_name=image.file_name(pack.stem),
                    mime=MIME["png"],
                    key=f"briefing_{chart.key}_{image.shape}",
                    on_click="ignore",
                    width="stretch",
                )
            with st.expander("Preview the images for sharing, and their alt text"):
                for image in shared:
                    st.image(_on_screen(image.png), alt=image.alt_text, caption=image.label, width="stretch")
                st.markdown("**Alt text for both images** (copy it next to the image when you post it)")
                st.code(shared[0].alt_text, language=None, wrap_lines=True)
    with beside:
        st.markdown("**Data behind the chart** (the rows the chart shows)")
        st.dataframe(chart.data, hide_index=True, width="stretch", height=420)
    st.markdown("**Alt text** (copy it next to the image)")
    st.code(chart.alt_text, language=None, wrap_lines=True)

st.subheader("Services listed in the briefing")
st.caption("Placed by the force areas they cover; no addresses. Status and confidence come from the service register.")
st.dataframe(
    pack.services,
    hide_index=True,
    width="stretch",
)
left, right = st.columns(2)
left.download_button(
    "Services as CSV",
    data=pack.files[f"{pack.stem}-services.csv"],
    file_name=f"{pack.stem}-services.csv",
    mime=MIME["csv"],
    key="briefing_services_csv",
    on_click="ignore",
)
right.download_button(
    "Services as XLSX",
    data=pack.files[f"{pack.stem}-services.xlsx"],
    file_name=f"{pack.stem}-services.xlsx",
    mime=MIME["xlsx"],
    key="briefing_services_xlsx",
    on_click="ignore",
)

with st.expander(f"Sources for this pack ({len(pack.sources)})"):
    st.dataframe(pack.sources, hide_index=True, width="stretch")
st.caption(ONS_ATTRIBUTION)
