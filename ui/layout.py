"""The sidebar every page shares: what the data are, how old, and the attribution they require."""

from __future__ import annotations

import streamlit as st

from coverage.glossary import GLOSSARY
from coverage.model.catalogue import REGISTER_SNAPSHOT
from coverage.vocabulary import HEADLINE_MEASURE, ONS_ATTRIBUTION
from ui import data
from ui.markdown import escape_markdown


def data_vintage() -> str:
    """The sidebar's vintage list; the recorded-crime year is read from the data, never written here."""
    period = data.latest_period(HEADLINE_MEASURE.key)
    return (
        "**Data vintage**\n\n"
        "- Boundaries: ONS police force areas, December 2023\n"
        "- Population: ONS mid-2023 estimates\n"
        f"- Recorded stalking: Home Office, to {period}\n"
        f"- Services: {REGISTER_SNAPSHOT}"
    )


# Below this window width, side-by-side columns (map | table, chart | table, rows of figures) stack
# instead of squeezing each to a sliver; Streamlit itself only stacks them below 640 px.
STACK_COLUMNS_BELOW_PX = 1100
STACK_COLUMNS_CSS = (
    f"<style>@media (max-width: {STACK_COLUMNS_BELOW_PX}px) {{"
    " .stHorizontalBlock {flex-wrap: wrap;}"
    " .stHorizontalBlock > .stColumn {min-width: 100%; flex: 1 1 100%;}"
    "}</style>"
)


def responsive_columns() -> None:
    st.html(STACK_COLUMNS_CSS)


def uploaded_register_notice() -> None:
    """On every page: which register the figures come from, when it is not the published one."""
    name = data.register_name()
    if name:
        st.info(
            f"Every page is using your edited register (**{escape_markdown(name[:80])}**), for this session only, "
            "not the published one. Reloading the page or opening a shared link goes back to the published "
            "register; Edit the evidence has the button to go back now."
        )


def sidebar() -> None:
    with st.sidebar:
        with st.popover("What the words mean", width="stretch"):
            st.markdown("\n".join(f"- **{term}**: {meaning}" for term, meaning in GLOSSARY))
        st.markdown(data_vintage())
        st.caption(ONS_ATTRIBUTION)
        st.caption("Every figure's source, period and licence: see Data & methods.")


def attribution_caption(with_osm: bool = False) -> None:
    text = ONS_ATTRIBUTION + (" © OpenStreetMap contributors." if with_osm else "")
    st.caption(text)
