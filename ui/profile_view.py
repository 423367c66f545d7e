"""The force profile shown under the map: services, national services, demand and comparators."""

from __future__ import annotations

import pandas as pd
import streamlit as st
import vl_convert as vlc

from coverage.model.forces import force_names
from coverage.model.indicators import format_rate, indicator_wide, similar_forces
from coverage.model.profile import demand_summary, force_profile, national_services
from coverage.outputs.charts import ChartText, ranked_bar_chart
from coverage.vocabulary import OFFENCE_GROUP_CAVEAT, OGL_V3
from ui import data
from ui.markdown import bold, escape_markdown

COMPARE_KEY = "compare"
PEERS_KEY = "peers"
COMPARE_OPTIONS = {"ew": "England and Wales", "region": "Its region or country", "peers": "A peer group I choose"}
DATA_SOURCE = (
    "Source: ONS police force area data tables (years ending Dec 2022 and Dec 2023) and mid-2023 population "
    f"estimates, {OGL_V3}. {OFFENCE_GROUP_CAVEAT}"
)


def _comparison_choice(code: str, names: dict[str, str]) -> tuple[str, list[str]]:
    if COMPARE_KEY not in st.session_state:
        requested = st.query_params.get(COMPARE_KEY)
        st.session_state[COMPARE_KEY] = requested if requested in COMPARE_OPTIONS else "ew"
    choice = st.radio(
        "Compare with", list(COMPARE_OPTIONS), format_func=COMPARE_OPTIONS.get, key=COMPARE_KEY, horizontal=True
    )
    st.query_params[COMPARE_KEY] = choice
    peers: list[str] = []
    if choice == "peers":
        if st.session_state.get("peers_for") != code:
            requested = [p for p in st.query_params.get_all(PEERS_KEY) if p in names and p != code]
            st.session_state[PEERS_KEY] = requested or similar_forces(data.atlas().forces, code)
            st.session_state["peers_for"] = code
        peers = st.multiselect(
            "Peer forces",
            [c for c in sorted(names, key=names.get) if c != code],
            format_func=names.get,
            key=PEERS_KEY,
            help="Starts with the five forces most like this one in size and density (the atlas's own simple "
            "method, not HMICFRS's most similar groups). Add or remove any.",
        )
        st.query_params[PEERS_KEY] = peers
    elif PEERS_KEY in st.query_params:
        del st.query_params[PEERS_KEY]
    return choice, peers


def _chart_downloads(spec: dict, stem: str) -> None:
    """PNG (2x) and SVG downloads, rendered only when clicked: rendering takes most of a second."""
    left, right = st.columns(2)
    left.download_button(
        "Chart as PNG",
        data=lambda: vlc.vegalite_to_png(spec, scale=2),
        file_name=f"{stem}.png",
        mime="image/png",
        key=f"{stem}_png",
    )
    right.download_button(
        "Chart as SVG",
        data=lambda: vlc.vegalite_to_svg(spec),
        file_name=f"{stem}.svg",
        mime="image/svg+xml",
        key=f"{stem}_svg",
    )


# Read-only results shared between sessions (cache_resource: no copy on every rerun).
@st.cache_resource(show_spinner=False)
def _ranked_rates() -> pd.DataFrame:
    return indicator_wide(data.atlas().indicators)


@st.cache_resource(show_spinner=False, max_entries=512)
def _demand(code: str, peers: tuple[str, ...]):
    atlas = data.atlas()
    return demand_summary(atlas.indicators, atlas.forces, code, list(peers) or None, wide=_ranked_rates())


@st.cache_resource(show_spinner=False, max_entries=512)
def _ranked_chart_spec(code: str, choice: str, peers: tuple[str, ...]) -> dict:
    """The ranked chart as a Vega-Lite spec: building it with Altair takes a third of a second, so
    each (force, comparator) is built once per server."""
    demand = _demand(code, ())
    comparison = _demand(code, peers).comparison
    reference = comparison.iloc[{"ew": 2, "region": 1, "peers": 3 if peers else 2}[choice]]
    rate_column = "Rate per 1,000 aged 16+ (YE Dec 2023)"
    chart = ranked_bar_chart(
        _ranked_rates(),
        value_column="rate_2023",
        value_title="Offences per 1,000 people aged 16+",
        value_format=".1f",
        text=ChartText(
            title="Recorded stalking and harassment offences per 1,000 people aged 16+",
            subtitle="43 police force areas, England and Wales, year ending December 2023",
            takeaway=demand.takeaway,
            source=DATA_SOURCE,
        ),
        highlight_code=code,
        reference_value=float(reference[rate_column]),
        reference_label=f"{reference['Area']} {reference[rate_column]}",
        width=400,  # with its force names, this fills the page's wider column without running under the table
    )
    # Not validated again here: tests/test_charts.py validates what ranked_bar_chart builds, and
    # validating every force's copy cost a tenth of a second on its first opening.
    return chart.to_dict(validate=False)


def render(code: str, table: pd.DataFrame) -> None:
    atlas = data.atlas()
    names = force_names(table)
    profile = force_profile(code, table, data.register(), atlas.sources)
    st.header(profile.heading)
    st.markdown(f"{bold(profile.heading)}: {escape_markdown(profile.summary)}")

    demand = _demand(code, ())
    facts = st.columns(4)
    facts[0].metric("Population aged 16+ (mid-2023)", profile.population_16plus_text)
    facts[1].metric(
        "Stalking & harassment (2023)",
        demand.offences_2023,
        help="Police-recorded offences, year ending December 2023. " + OFFENCE_GROUP_CAVEAT,
    )
    facts[2].metric("Change since YE Dec 2022", demand.change)
    facts[3].metric("Offences per 1,000 aged 16+", demand.rate_2023, help="Rank " + demand.rank_text)

    st.subheader("Specialist services in this area")
    if profile.services.empty and profile.search_note:
        st.info(escape_markdown(profile.search_note))
    elif profile.services.empty:
        st.warning(profile.empty_message)
    else:
        st.dataframe(
            profile.services,
            hide_index=True,
            width="stretch",
        )
        if profile.search_note:
            st.caption(escape_markdown(profile.search_note))
    st.subheader("National services every area can use")
    st.dataframe(national_services(data.register()), hide_index=True, width="stretch")
    with st.expander(f"Sources for {profile.heading} ({len(profile.sources)})"):
        st.dataframe(
            profile.sources,
            hide_index=True,
            width="stretch",
            column_config={"Link": st.column_config.LinkColumn("Link", display_text="open")},
        )

    st.subheader("Demand beside provision")
    st.caption(
        OFFENCE_GROUP_CAVEAT
        + " England and Wales here is the sum of the 43 forces (British Transport Police excluded)."
    )
    choice, peers = _comparison_choice(code, names)
    peer_key = tuple(peers) if choice == "peers" else ()
    comparison = _demand(code, peer_key).comparison
    st.markdown(demand.takeaway)

    spec = _ranked_chart_spec(code, choice, peer_key)
    chart_column, table_column = st.columns([3, 2])
    with chart_column:
        st.vega_lite_chart(spec, width="content")
        _chart_downloads(spec, f"stalking_harassment_rate_{code}")
    with table_column:
        st.markdown("**Comparators**")
        st.table(comparison.set_index("Area"))
        wide = _ranked_rates()
        ranked = pd.DataFrame(
            {
                "Rank": wide["rank_rate_2023"].astype(int),
                "Force area": wide["name"],
                "Rate per 1,000 aged 16+": [format_rate(v) for v in wide["rate_2023"]],
            }
        )
        st.markdown("**All forces, highest rate first**")
        st.dataframe(ranked, hide_index=True, width="stretch", height=300)
