"""Postcode lottery: "what help is there where I live?", and how unequal provision is across areas."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from coverage.errors import InputError
from coverage.model.catalogue import REGISTER_SNAPSHOT
from coverage.model.contacts import CONTACTS_CSV, ENGLAND_AND_WALES, Contact, contacts_for, read_contacts
from coverage.model.contacts import KINDS as CONTACT_KINDS
from coverage.model.demand import latest_period, offences_by_force
from coverage.model.forces import force_names
from coverage.model.lottery import (
    INEQUALITY_METHOD,
    WHICH_FORCE_NAME,
    WHICH_FORCE_STRADDLE,
    SourcedText,
    area_answer,
    coverage_shares,
    display_url,
    help_regions,
    national_figures,
    national_help,
)
from coverage.outputs.charts import ChartText, footer_text, grouped_share_chart, labelled_line_chart, screen_spec
from coverage.outputs.compiled_maps import NO_SERVICE_MAP
from coverage.outputs.map_styles import no_service_table
from coverage.vocabulary import HEADLINE_MEASURE, HOME_OFFICE_ATTRIBUTION, OGL_V3
from ui import data, inline_map
from ui.markdown import escape_markdown

QUERY_KEY = "q"
ANSWER_KEY = "lottery_answer"  # the answer's container: Streamlit gives it the CSS class st-key-lottery_answer
FOCUS_KEY = "lottery_focus_requests"  # suggestions chosen so far
FOCUS_DONE_KEY = "lottery_focus_done"  # the last of them the answer was focused for
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


@st.cache_resource(show_spinner=False)
def _contacts() -> tuple[Contact, ...] | str:
    """The shipped contacts, checked once per server; the problem in words if the file is refused."""
    from coverage import paths

    try:
        return read_contacts(paths.DATA_DIR / CONTACTS_CSV, known_service_ids=atlas.register["service_id"])
    except InputError as error:
        return str(error)


@st.cache_data(show_spinner=False, max_entries=32)
def _figures(register_version: str, _forces: pd.DataFrame, _register: pd.DataFrame, _crime: pd.DataFrame) -> dict:
    return national_figures(_forces, _register, _crime, DEMAND, PERIOD)


if QUERY_KEY not in st.session_state:
    st.session_state[QUERY_KEY] = st.query_params.get(QUERY_KEY, "")[:200]


def _use_suggestion(text: str) -> None:
    st.session_state[QUERY_KEY] = text
    # The button pressed is gone after the rerun: move keyboard focus to the answer (see _focus_answer).
    st.session_state[FOCUS_KEY] = st.session_state.get(FOCUS_KEY, 0) + 1


def _focus_answer(count: int) -> None:
    """Put keyboard focus on the answer card once it is drawn.

    Streamlit has no focus API and a widget's callback runs before the page is redrawn, so the
    suggestion button a keyboard user pressed disappears and focus falls back to the page's body.
    ``st.html`` runs JavaScript in the page itself (not an iframe) when asked to; this fixed script,
    with no user text in it, makes the answer container focusable and focuses it. ``count`` changes
    the markup on every suggestion, so the script runs once per choice and never on other reruns."""
    st.html(
        f'<span hidden data-answer-focus="{count}"></span><script>(function () {{'
        f'var tries = 0; function go() {{ var card = document.querySelector(".st-key-{ANSWER_KEY}");'
        'if (card) { card.setAttribute("tabindex", "-1"); card.setAttribute("role", "region");'
        'card.setAttribute("aria-label", "Your answer"); card.focus(); return; }'
        "if (++tries < 100) { setTimeout(go, 50); } } go(); })();</script>",
        unsafe_allow_javascript=True,
    )


def _answer_card(code: str) -> None:
    answer = area_answer(code, table, register)
    with st.container(border=True):
        st.header(f"{escape_markdown(answer.name)}: {answer.provision_label}")
        if answer.present:
            st.markdown("**What exists**\n\n" + "\n".join(f"- {escape_markdown(line)}" for line in answer.present))
        elif answer.searched:
            st.markdown("**What exists:** no local specialist stalking service was found in the research search.")
        else:
            st.markdown(
                "**What exists:** unknown. The register has no row for this area, so it was not searched in depth."
            )
        if answer.missing:
            st.markdown("**Not found here**\n\n" + "\n".join(f"- {escape_markdown(line)}" for line in answer.missing))
        if answer.status_unknown:
            st.caption("Some of these services' funding ended or could not be confirmed: their status is unknown.")
        st.markdown(escape_markdown(answer.comparison))
        # The navigation's own page: a click switches to the Map (the default page, served at /) with
        # ?force=. Streamlit writes the default page's href as the relative "?force=…", so only a click,
        # not a link copied or opened in a new tab, reaches the Map (tests/test_browser_lottery.py).
        st.page_link(
            "app_pages/map.py",
            label=f"Open the {escape_markdown(answer.name)} profile on the map",
            icon=":material/map:",
            query_params={"force": code},
        )


def _contact_line(contact: Contact, status: str = "") -> str:
    line = f"- **{escape_markdown(contact.name)}**"
    if contact.phone:
        line += f": call **{contact.phone}**"
    if contact.url:
        line += (" · " if contact.phone else ": ") + f"[{escape_markdown(display_url(contact.url))}]({contact.url})"
    if status and status != "Active":
        line += f" ({escape_markdown(status.lower())})"
    if contact.hours:
        line += f". Open {escape_markdown(contact.hours)}"
    line += "."
    if contact.note:
        line += f" {escape_markdown(contact.note)}"
    return line


def _sources_expander(shown: list[Contact], extra: SourcedText | None = None) -> None:
    with st.expander("Where these numbers and addresses come from"):
        # One line per page read, naming what was taken from it.
        pages: dict[str, list[Contact]] = {}
        for contact in shown:
            pages.setdefault(contact.source_url, []).append(contact)
        lines = []
        for url, taken in pages.items():
            first = taken[0]
            what = ", ".join(
                dict.fromkeys(f"{c.name} {c.phone}" if c.phone else f"{c.name} (web address)" for c in taken)
            )
            citation = f"{first.source_publisher}, “{first.source_title}”, {first.source_date}"
            lines.append(
                f"- {escape_markdown(what)}: {escape_markdown(citation)}, "
                f"[{escape_markdown(display_url(url))}]({url}), read on {first.checked}"
            )
        if extra is not None:
            for publisher, title, when, url in extra.sources:
                lines.append(
                    f"- Which force: {escape_markdown(f'{publisher}, “{title}”, {when}')}, "
                    f"[{escape_markdown(display_url(url))}]({url}), read on {extra.checked}"
                )
        st.markdown(
            "Each number and address was read on the service's own published page (a stored copy), never "
            "typed from memory. Numbers change: the service's website has the latest.\n\n" + "\n".join(lines)
        )


def _contacts_section(region: str, contacts: tuple[Contact, ...], which: SourcedText | None, *, named: bool) -> None:
    """The contacts for one region; ``named`` puts the region in the heading (an answer with two)."""
    chosen = contacts_for(contacts, region)
    shown: list[Contact] = []
    where = {"Isle of Man": "the Isle of Man", "Guernsey": "the Bailiwick of Guernsey"}.get(region, region)
    st.subheader(f"Who to contact in {where}" if named or region != ENGLAND_AND_WALES else "Who to contact")
    blocks: list[str] = []
    if not any(c.kind == "emergency" for c in chosen):
        blocks.append(
            "**In an emergency**\n\n- The atlas found no emergency number on this police service's own pages: "
            "its website, below, gives its contacts."
        )
    for kind, label in CONTACT_KINDS.items():
        rows = [c for c in chosen if c.kind == kind]
        if region == ENGLAND_AND_WALES and kind == "stalking_service":
            services = national_help(register, contacts)
            lines = [
                _contact_line(s.contact, s.status)
                if s.contact is not None
                else f"- **{escape_markdown(s.name)}** ({escape_markdown(s.provider)}): the atlas has no checked "
                "contact details for it."
                for s in services
            ]
            shown += [s.contact for s in services if s.contact is not None]
            if lines:
                blocks.append(
                    "**National stalking services, for everyone in England and Wales**\n\n" + "\n".join(lines)
                )
            continue
        if rows:
            shown += rows
            blocks.append(f"**{label}**\n\n" + "\n".join(_contact_line(c) for c in rows))
    st.markdown("\n\n".join(blocks))
    if region != ENGLAND_AND_WALES:
        st.caption(
            "This atlas maps the 43 police force areas of England and Wales; these are the police and support "
            "services its sources name for this place."
        )
    _sources_expander(shown, which)


st.title("What help is there where I live?")
st.markdown(
    "Type a postcode, a postcode district, a local council or a police force. The answer is by police force "
    "area: what specialist stalking help exists there, what does not, who to contact, and what everyone can use."
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
    contacts = _contacts()
    which: SourcedText | None = None
    with st.container(key=ANSWER_KEY):
        # The lookup quotes typed text only in a sanitised, shortened form; escaped here as well, so
        # nothing a visitor types can become a link, emphasis or HTML.
        message = escape_markdown(result.message)
        if not codes:
            (st.info if result.kind == "outside_england_wales" else st.warning)(message)
            if result.suggestions:
                st.markdown("Did you mean:")
                columns = st.columns(min(len(result.suggestions), 4))
                for index, suggestion in enumerate(result.suggestions[:8]):
                    columns[index % 4].button(
                        escape_markdown(suggestion),
                        key=f"suggestion_{index}",
                        on_click=_use_suggestion,
                        args=(suggestion,),
                    )
        else:
            st.success(message)
            # The cards are long: the emergency number is said before them too, not only in the list below.
            emergency = [] if isinstance(contacts, str) else contacts_for(contacts, ENGLAND_AND_WALES)[:1]
            if emergency and emergency[0].kind == "emergency":
                st.markdown(
                    f"**In an emergency, call {emergency[0].phone}.** Who to contact, with the numbers of the "
                    "national stalking services, is under the answer."
                )
            if len(codes) > 1:
                which = WHICH_FORCE_STRADDLE if result.straddles else WHICH_FORCE_NAME
                st.markdown(f"**Which force?** {escape_markdown(which.text)}")
            for first in range(0, len(codes), 2):
                row = codes[first : first + 2]
                if len(codes) == 1:
                    _answer_card(row[0])
                else:
                    for column, code in zip(st.columns(2), row, strict=False):
                        with column:
                            _answer_card(code)
        regions = help_regions(result)
        if regions and isinstance(contacts, str):
            st.error(f"The contact details could not be read, so none are shown: {escape_markdown(contacts)}")
        elif regions and not isinstance(contacts, str):
            for region in regions:
                _contacts_section(
                    region, contacts, which if region == ENGLAND_AND_WALES else None, named=len(regions) > 1
                )
    focus = st.session_state.get(FOCUS_KEY, 0)
    if focus and st.session_state.get(FOCUS_DONE_KEY) != focus:
        st.session_state[FOCUS_DONE_KEY] = focus
        _focus_answer(focus)

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
    # Fitted to the column (a phone included); the exported image would carry its takeaway and source inside.
    st.vega_lite_chart(screen_spec(chart), width="stretch")
    st.caption(escape_markdown(footer_text(chart.to_dict(validate=False))))
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
map_table = no_service_table(table)
map_column, list_column = st.columns([3, 2])
with map_column:
    # Drawn in the page like the Map page's map (no iframe); shipped compiled in data/maps/.
    inline_map.inline_static_map(
        inline_map.compiled_map(NO_SERVICE_MAP, atlas.boundaries, data.SHIPPED), key="no_service_map", height=520
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
    st.vega_lite_chart(screen_spec(trend_chart), width="stretch")
    st.caption(escape_markdown(footer_text(trend_chart.to_dict(validate=False))))
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
