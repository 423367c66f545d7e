"""The force profile shown under the map: services, national services, demand and comparators."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from coverage.model.demand import (
    ENGLAND_AND_WALES_CODE,
    RATE_ALL_AGES_LABEL,
    demand_by_area,
    force_ranking,
    format_count,
    format_rate,
    trend,
    year_of,
)
from coverage.model.forces import force_names, similar_forces
from coverage.model.freshness import STALE_AFTER_MONTHS
from coverage.model.profile import DemandSummary, demand_summary, force_profile, national_services
from coverage.outputs import renderer
from coverage.vocabulary import (
    HEADLINE_MEASURE,
    HOME_OFFICE_ATTRIBUTION,
    MEASURE,
    MEASURES,
    OGL_V3,
    RATE_CAVEAT,
    Measure,
)
from ui import data
from ui.markdown import bold, escape_markdown

COMPARE_KEY = "compare"
PEERS_KEY = "peers"
MEASURE_KEY = "measure"
COMPARE_OPTIONS = {"ew": "England and Wales", "region": "Its region or country", "peers": "A peer group I choose"}
POPULATION_SOURCE = f"population: ONS mid-2023 estimates, {OGL_V3}"


def _source(measure: Measure, period: str) -> str:
    return f"Source: police recorded crime, {measure.name}, to {period}. {HOME_OFFICE_ATTRIBUTION} Rates use the {POPULATION_SOURCE}."


def measure_choice() -> Measure:
    """The demand measure, stalking (8Q) unless the reader picks another; mirrored in the URL."""
    if MEASURE_KEY not in st.session_state:
        requested = st.query_params.get(MEASURE_KEY)
        st.session_state[MEASURE_KEY] = requested if requested in MEASURE else HEADLINE_MEASURE.key
    key = st.selectbox(
        "Demand measure",
        [measure.key for measure in MEASURES],
        format_func=lambda k: MEASURE[k].name,
        key=MEASURE_KEY,
        help="Police recorded offences by Home Office offence code. Stalking (8Q) is the headline; the ONS "
        "'Stalking and harassment' group is the sum of all five codes.",
    )
    if key == HEADLINE_MEASURE.key:
        st.query_params.pop(MEASURE_KEY, None)
    else:
        st.query_params[MEASURE_KEY] = key
    return MEASURE[key]


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
        data=lambda: renderer.vegalite_to_png(spec, scale=2),
        file_name=f"{stem}.png",
        mime="image/png",
        key=f"{stem}_png",
    )
    right.download_button(
        "Chart as SVG",
        data=lambda: renderer.vegalite_to_svg(spec),
        file_name=f"{stem}.svg",
        mime="image/svg+xml",
        key=f"{stem}_svg",
    )


# Read-only results shared between sessions (cache_resource: no copy on every rerun).
@st.cache_resource(show_spinner=False, max_entries=16)
def _ranking(measure_key: str, period: str) -> pd.DataFrame:
    atlas = data.atlas()
    return force_ranking(atlas.crime, atlas.forces, measure_key, period)


@st.cache_resource(show_spinner=False, max_entries=16)
def england_and_wales_rate(period: str) -> float:
    """England and Wales's recorded stalking per 1,000 population in ``period``."""
    atlas = data.atlas()
    areas = demand_by_area(atlas.crime, atlas.forces, HEADLINE_MEASURE, period).set_index("code")
    return float(areas.loc[ENGLAND_AND_WALES_CODE, "rate_all_ages"])


def stalking_ranking(period: str) -> pd.DataFrame:
    """The 43 forces' recorded stalking (8Q) in ``period``, shared with the map's table."""
    return _ranking(HEADLINE_MEASURE.key, period)


@st.cache_resource(show_spinner=False, max_entries=512)
def _demand(code: str, measure_key: str, period: str, peers: tuple[str, ...]) -> DemandSummary:
    atlas = data.atlas()
    return demand_summary(
        atlas.crime, atlas.forces, code, measure_key, period, list(peers) or None, ranking=_ranking(measure_key, period)
    )


@st.cache_resource(show_spinner=False, max_entries=512)
def _ranked_chart_spec(
    code: str, measure_key: str, period: str, choice: str, peers: tuple[str, ...]
) -> tuple[dict, dict]:
    """The ranked chart as Vega-Lite specs, (for downloads, for the page): building it with Altair takes a
    third of a second, so each (force, measure, comparator) is built once per server."""
    from coverage.outputs.charts import ChartText, ranked_bar_chart, screen_spec  # Altair: only when drawn

    measure = MEASURE[measure_key]
    demand = _demand(code, measure_key, period, ())
    comparison = _demand(code, measure_key, period, peers).comparison
    reference = comparison.iloc[{"ew": 2, "region": 1, "peers": 3 if peers else 2}[choice]]
    rate_column = "Per 1,000 population"
    chart = ranked_bar_chart(
        _ranking(measure_key, period),
        value_column="rate_all_ages",
        value_title=f"Offences {RATE_ALL_AGES_LABEL}",
        value_format=".2f",
        text=ChartText(
            title=f"Police recorded {measure.noun} per 1,000 population",
            subtitle=f"43 police force areas, England and Wales, {period}; population all ages, mid-2023",
            takeaway=demand.takeaway,
            source=_source(measure, period),
        ),
        highlight_code=code,
        reference_value=float(str(reference[rate_column]).replace(",", "")),
        reference_label=f"{reference['Area']} {reference[rate_column]}",
        width=400,  # with its force names, this fills the page's wider column without running under the table
    )
    # Not validated again here: tests/test_charts.py validates what ranked_bar_chart builds, and
    # validating every force's copy cost a tenth of a second on its first opening.
    spec: dict = chart.to_dict(validate=False)
    return spec, screen_spec(chart)


@st.cache_resource(show_spinner=False, max_entries=512)
def _trend(code: str, measure_key: str) -> tuple[pd.DataFrame, dict, dict, str]:
    from coverage.outputs.charts import ChartText, screen_spec  # Altair: only when drawn
    from coverage.outputs.demand_charts import trend_chart, trend_takeaway

    atlas = data.atlas()
    force = atlas.forces.set_index("code").loc[code]
    rows = trend(atlas.crime, atlas.forces, [code, str(force["region_code"]), ENGLAND_AND_WALES_CODE], measure_key)
    measure = MEASURE[measure_key]
    takeaway = trend_takeaway(rows, measure, str(force["name"]))
    latest = str(rows["period"].iloc[-1]) if len(rows) else ""
    chart = trend_chart(
        rows,
        measure=measure,
        text=ChartText(
            title=f"Police recorded {measure.noun} per 1,000 population, over time",
            subtitle=(
                f"{force['name']}, {force['region']} and England and Wales, years ending December "
                f"{int(rows['year_ending'].min())}–{int(rows['year_ending'].max())}; population all ages, mid-2023"
            ),
            takeaway=takeaway,
            source=_source(measure, latest),
        ),
        width=400,
    )
    spec: dict = chart.to_dict(validate=False)
    return rows, spec, screen_spec(chart), takeaway


def render(code: str, table: pd.DataFrame) -> None:
    atlas = data.atlas()
    names = force_names(table)
    profile = force_profile(code, table, data.register(), atlas.sources, today=date.today())
    st.header(profile.heading, anchor="force-profile")  # the map's summary links here
    st.markdown(f"{bold(profile.heading)}: {escape_markdown(profile.summary)}")
    if profile.freshness is not None:
        fresh = profile.freshness
        if fresh.stale:
            st.warning(
                f"Evidence may be out of date: the newest source for {escape_markdown(profile.heading)} is from "
                f"{fresh.newest_evidence} ({fresh.newest_source}), more than {STALE_AFTER_MONTHS} months ago, so "
                f"services may have changed since. The register last looked on {fresh.last_looked}."
            )
        else:
            st.caption(escape_markdown(fresh.summary))

    measure = measure_choice()
    period = data.latest_period(measure.key)
    demand = _demand(code, measure.key, period, ())
    facts = st.columns(4)
    facts[0].metric(
        f"{measure.name}, {period}",
        demand.offences,
        help=f"Police recorded offences, year ending December {year_of(period)}. {measure.caveat}",
    )
    facts[1].metric(
        "Per 1,000 population", demand.rate_all_ages, help=f"All ages, mid-2023 population. Rank {demand.rank_text}."
    )
    facts[2].metric("Per 1,000 aged 16+", demand.rate_16plus, help="Population aged 16 and over, mid-2023.")
    facts[3].metric(
        f"Change {demand.change_previous_label}",
        demand.change_previous,
        help=f"Change {demand.change_baseline_label} (the first comparable year for stalking): {demand.change_baseline}.",
    )
    st.caption(
        f"Population aged 16+ (mid-2023): {profile.population_16plus_text}; all ages: {profile.population_text}."
    )

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
        f"{measure.caveat} England and Wales here is the sum of the 43 forces (British Transport Police excluded). "
        f"Rates are offences ÷ population × 1,000, using the ONS mid-2023 population for every year. {RATE_CAVEAT}"
    )
    choice, peers = _comparison_choice(code, names)
    peer_key = tuple(peers) if choice == "peers" else ()
    comparison = _demand(code, measure.key, period, peer_key).comparison
    st.markdown(escape_markdown(demand.takeaway))

    spec, on_screen = _ranked_chart_spec(code, measure.key, period, choice, peer_key)
    chart_column, table_column = st.columns([3, 2])
    with chart_column:
        # Fitted to the column (a phone included); the downloads carry takeaway and source inside the image.
        st.vega_lite_chart(on_screen, width="stretch")
        st.caption(escape_markdown(_source(measure, period)))
        _chart_downloads(spec, f"{measure.key}_rate_{code}")
    with table_column:
        st.markdown("**Comparators**")
        # A data frame, not a table: four columns overflow this column, and a scrolling table cannot be
        # reached by keyboard (axe: scrollable-region-focusable); the grid can.
        st.dataframe(comparison, hide_index=True, width="stretch")
        ranking = _ranking(measure.key, period)
        ranked = pd.DataFrame(
            {
                "Rank": ranking["rank"].astype(int),
                "Force area": ranking["name"],
                "Offences": [format_count(v) for v in ranking["offences"]],
                "Per 1,000 population": [format_rate(v) for v in ranking["rate_all_ages"]],
            }
        )
        st.markdown("**All forces, highest rate first**")
        st.dataframe(ranked, hide_index=True, width="stretch", height=300)

    rows, trend_spec, trend_on_screen, trend_text = _trend(code, measure.key)
    st.markdown(f"**Over time.** {escape_markdown(trend_text)}")
    trend_column, trend_table_column = st.columns([3, 2])
    with trend_column:
        st.vega_lite_chart(trend_on_screen, width="stretch")
        st.caption(escape_markdown(_source(measure, period)))
        _chart_downloads(trend_spec, f"{measure.key}_trend_{code}")
    with trend_table_column:
        wide = rows.pivot(index="period", columns="name", values="rate_all_ages")
        wide = wide.loc[sorted(wide.index, key=year_of), list(dict.fromkeys(rows["name"]))]
        st.markdown("**Per 1,000 population, by year**")
        st.dataframe(wide.map(format_rate), width="stretch", height=300)
