"""Postcode lottery: "what help is there where I live?", and how unequal provision is across areas."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from coverage.model.catalogue import REGISTER_SNAPSHOT
from coverage.model.demand import latest_period, offences_by_force
from coverage.model.forces import force_names
from coverage.model.lottery import INEQUALITY_METHOD, area_answer, coverage_shares, national_figures
from coverage.model.profile import national_services
from coverage.outputs.charts import ChartText, grouped_share_chart, labelled_line_chart
from coverage.outputs.maps import category_map
from coverage.vocabulary import HEADLINE_MEASURE, HOME_OFFICE_ATTRIBUTION, OGL_V3
from ui import data
from ui.markdown import escape_markdown

QUERY_KEY = "q"
NO_SERVICE_STYLES = {
    "none": {"fillColor": "#F46A25", "fillOpacity": 0.85, "dashArray": None, "pattern": "orange"},
    "some": {"fillColor": "#E6E6E6", "fillOpacity": 0.9, "dashArray": None, "pattern": "light grey"},
    "unknown": {"fillColor": "#FFFFFF", "fillOpacity": 0.9, "dashArray": "4 3", "pattern": "white, dashed outline"},
}
NO_SERVICE_LABELS = {
    "none": "No local specialist service found",
    "some": "At least one local specialist service",
    "unknown": "Unknown (not searched)",
}
atlas = data.atlas()
DEMAND = HEADLINE_MEASURE
PERIOD = latest_period(atlas.crime, DEMAND)
SOURCE = (
    f"Source: Stalking Provision Atlas service register ({REGISTER_SNAPSHOT}); ONS mid-2023 population "
    f"({OGL_V3}); police recorded {DEMAND.noun} ({DEMAND.code}), {PERIOD}: {HOME_OFFICE_ATTRIBUTION}"
)

register = data.register()
table = data.provision()
names = force_names(table)


@st.cache_resource(show_spinner=False)
def _lookup():
    from coverage import paths
    from coverage.model.postcodes import Lookup

    return Lookup.from_data_dir(paths.DATA_DIR)


@st.cache_data(show_spinner=False, max_entries=32)
def _figures(register_version: str, _forces: pd.DataFrame, _register: pd.DataFrame, _crime: pd.DataFrame) -> dict:
    return national_figures(_forces, _register, _crime, DEMAND, PERIOD)


if QUERY_KEY not in st.session_state:
    st.session_state[QUERY_KEY] = st.query_params.get(QUERY_KEY, "")[:200]


def _use_suggestion(text: str) -> None:
    st.session_state[QUERY_KEY] = text


st.title("What help is there where I live?")
st.markdown(
    "Type a postcode, a postcode district, a local council or a police force. The answer is by police force "
    "area: what specialist stalking help exists there, what does not, and what everyone can use."
)
query = st.text_input(
    "Postcode, district, council or force",
    key=QUERY_KEY,
    placeholder="e.g. CH1 2AB, SO14, Warrington, Cheshire",
    max_chars=200,
)
if query.strip():
    st.query_params[QUERY_KEY] = query.strip()
elif QUERY_KEY in st.query_params:
    del st.query_params[QUERY_KEY]

if query.strip():
    result = _lookup().lookup(query)
    # The force holding the district's centroid first, then any other force the district reaches into.
    codes = list(dict.fromkeys(([result.force_code] if result.force_code else []) + list(result.force_codes or [])))
    if not codes:
        (st.info if result.kind == "outside_england_wales" else st.warning)(result.message)
        if result.suggestions:
            st.markdown("Did you mean:")
            columns = st.columns(min(len(result.suggestions), 4))
            for index, suggestion in enumerate(result.suggestions[:8]):
                columns[index % 4].button(
                    suggestion, key=f"suggestion_{index}", on_click=_use_suggestion, args=(suggestion,)
                )
    else:
        st.success(result.message)
        for code in codes:
            answer = area_answer(code, table, register)
            with st.container(border=True):
                st.header(f"{escape_markdown(answer.name)}: {answer.provision_label}")
                if answer.present:
                    st.markdown(
                        "**What exists**\n\n" + "\n".join(f"- {escape_markdown(line)}" for line in answer.present)
                    )
                elif answer.searched:
                    st.markdown(
                        "**What exists:** no local specialist stalking service was found in the research search."
                    )
                else:
                    st.markdown(
                        "**What exists:** unknown. The register has no row for this area, so it was not searched in depth."
                    )
                if answer.missing:
                    st.markdown(
                        "**Not found here**\n\n" + "\n".join(f"- {escape_markdown(line)}" for line in answer.missing)
                    )
                if answer.status_unknown:
                    st.caption(
                        "Some of these services' funding ended or could not be confirmed: their status is unknown."
                    )
                st.markdown(escape_markdown(answer.comparison))
                st.markdown(
                    f"[Open the {escape_markdown(answer.name)} profile on the map](/?force={code})"
                )  # the Map is the default page: its path is /
    st.markdown("**National services everyone in England and Wales can use**")
    st.dataframe(national_services(register)[["Service", "Provider", "Status"]], hide_index=True, width="stretch")

st.divider()
st.header("The postcode lottery in numbers")
figures = _figures(data.register_version(), atlas.forces, register, atlas.crime)
unit_share = figures["population_16plus_share_multi_agency_unit"]
none_forces = figures["forces_with_no_specialist_service"]
none_share = figures["population_16plus_share_no_specialist_service"]
takeaway = (
    f"{figures['forces_with_multi_agency_unit']} of 43 force areas have a multi-agency stalking unit, home to "
    f"{unit_share:.0%} of people aged 16+; in {none_forces} areas, home to {none_share:.0%}, no local specialist "
    "stalking service was found."
)
st.markdown(f"**{takeaway}**")
metrics = st.columns(4)
metrics[0].metric("Areas with a multi-agency unit", f"{figures['forces_with_multi_agency_unit']} of 43")
metrics[1].metric("People 16+ covered by a unit", f"{unit_share:.0%}")
metrics[2].metric(
    "Stalking offences in areas with a unit",
    f"{figures['offences_share_multi_agency_unit']:.0%}",
    help=f"Police recorded stalking (8Q), {PERIOD}. {DEMAND.caveat}",
)
metrics[3].metric("Areas with no local service found", f"{none_forces} of 43")

shares = coverage_shares(table, atlas.forces, offences_by_force(atlas.crime, DEMAND, PERIOD))
st.subheader("Who is covered, by kind of provision")
st.caption(
    "Here an area counts under every kind of service it has, so these counts differ from the map's classes, "
    "which place each area once, by its best provision."
)
chart_column, table_column = st.columns([3, 2])
with chart_column:
    kinds = list(shares["label"])
    bar = pd.DataFrame(
        {
            "Kind of provision": shares["label"],
            "Areas": shares["forces"],
            "Share of people aged 16+": shares["population_16plus_share"],
            "Share of stalking offences": shares["offences_share"],
        }
    )
    chart = grouped_share_chart(
        shares,
        category_column="label",
        measures=[
            ("population_16plus_share", "Share of people aged 16+"),
            ("offences_share", "Share of recorded stalking offences"),
        ],
        text=ChartText(
            title="Who lives where each kind of stalking provision exists",
            subtitle=f"Share of people aged 16+ (mid-2023) and of police recorded stalking offences (8Q, {PERIOD})",
            takeaway=takeaway,
            source=SOURCE,
        ),
        width=360,  # with its category labels, this fills the wider column without running under the table
    )
    st.altair_chart(chart, width="content")
with table_column:
    shown = bar.copy()
    shown["Share of people aged 16+"] = shown["Share of people aged 16+"].map("{:.1%}".format)
    shown["Share of stalking offences"] = shown["Share of stalking offences"].map("{:.1%}".format)
    st.table(shown.set_index("Kind of provision"))
    st.caption(
        "An area can have several kinds, so rows do not add up to 100%. Offences: police recorded stalking "
        f"(Home Office offence code 8Q), {PERIOD}. {DEMAND.caveat}"
    )

st.subheader("Where no local specialist service was found")
map_table = table.copy()
map_table["lottery_class"] = [
    "unknown" if c == "unknown" else ("none" if c == "national_only" else "some") for c in map_table["provision_class"]
]
map_table["lottery_label"] = map_table["lottery_class"].map(NO_SERVICE_LABELS)
map_column, list_column = st.columns([3, 2])
with map_column:
    st_folium(
        category_map(
            atlas.boundaries,
            map_table,
            category_column="lottery_class",
            label_column="lottery_label",
            styles=NO_SERVICE_STYLES,
            labels=NO_SERVICE_LABELS,
            legend_title="Local specialist stalking service",
            tooltip_alias="Local service",
        ),
        key="no_service_map",
        height=520,
        use_container_width=True,
        returned_objects=[],
        render=False,
    )
with list_column:
    none_table = map_table[map_table["lottery_class"] == "none"][["name", "region", "pop_mid2023_16plus"]]
    st.markdown(f"**{len(none_table)} areas with no local specialist service found**")
    st.table(
        none_table.rename(
            columns={"name": "Force area", "region": "Region / country", "pop_mid2023_16plus": "People aged 16+"}
        )
        .assign(**{"People aged 16+": lambda f: f["People aged 16+"].map("{:,}".format)})
        .set_index("Force area")
    )

st.subheader("How unequal it is, and how that changed")
inequality = figures["inequality"]
ratio = inequality["quintile_ratio"]
st.markdown(
    f"Gini coefficient of local specialist services per 100,000 people aged 16+: **{inequality['gini_services_per_100k_16plus']:.2f}** "
    f"(0 = equal everywhere, 1 = all in one place). The best-served fifth of the population has "
    f"{inequality['top_quintile_services_per_100k_16plus']:.2f} services per 100,000 aged 16+; the worst-served fifth has "
    + (
        f"{inequality['bottom_quintile_services_per_100k_16plus']:.2f} ({ratio:.1f} times fewer)."
        if ratio
        else "none at all."
    )
)
trend = pd.DataFrame(figures["by_year"])
# Said with the chart, not folded away: the trend's biggest caveat changes how it reads.
BUILT_FROM_LATER_SEARCHES = (
    "Earlier years look emptier partly because the register was built from searches made in 2026: "
    "services that ended before then are likely to be missing."
)
trend_column, trend_table_column = st.columns([3, 2])
with trend_column:
    first, last = trend.iloc[0], trend.iloc[-1]
    trend_chart = labelled_line_chart(
        trend,
        x="year",
        y="forces_with_no_local_service",
        x_title="Year",
        y_title="Force areas with none",
        text=ChartText(
            title="Force areas with no local specialist stalking service",
            subtitle=f"England and Wales, {int(first['year'])}–{int(last['year'])}; services placed in time by their start and end years",
            takeaway=(
                f"{int(first['forces_with_no_local_service'])} of 43 areas had no local specialist service found in "
                f"{int(first['year'])}; {int(last['forces_with_no_local_service'])} in {int(last['year'])}. "
                f"{BUILT_FROM_LATER_SEARCHES}"
            ),
            source=SOURCE,
        ),
    )
    st.altair_chart(trend_chart, width="content")
with trend_table_column:
    st.table(
        trend.rename(
            columns={
                "year": "Year",
                "gini": "Gini",
                "forces_with_no_local_service": "Areas with none",
                "population_share_with_no_local_service": "Share of people 16+ with none",
                "local_services": "Local services",
            }
        )
        .assign(
            **{
                "Gini": lambda f: f["Gini"].map("{:.2f}".format),
                "Share of people 16+ with none": lambda f: f["Share of people 16+ with none"].map("{:.0%}".format),
            }
        )
        # As text: a whole-number index is not shown by st.table, and the years must be.
        .assign(Year=lambda f: f["Year"].astype(int).astype(str))
        .set_index("Year")
    )
with st.expander("How these figures are made"):
    st.markdown(escape_markdown(INEQUALITY_METHOD))
    st.markdown(
        "Earlier years count only services whose start and end years are in the register. Areas are classed "
        "by the police force area; a postcode district that straddles two forces shows both."
    )
