"""Scenario planner: where new stalking units go, what each one looks like, and what they cost.

Thin page. Everything on it is drawn from one ``PlannerState`` (``coverage/planner/state.py``) kept in the
session; every action is a function from state to state (the callbacks in ``ui/scenario_view.py``). The
tables' edits, the placement and the ramp-up are read back each run into the next state; the last
scenario that validated and ran stays on screen while an edit is refused.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from coverage.errors import InputError
from coverage.export import csv_bytes
from coverage.outputs import scenario_charts as sc
from coverage.planner import editing as tables
from coverage.planner import state as planner
from coverage.planner.schema import (
    AGENCIES,
    DEMAND_OFFENCES,
    PENSION_SCHEMES,
    demand_description,
    fiscal_year_label,
    scenario_from_dict,
    scenario_hash,
    scenario_to_dict,
    source_ids_used,
)
from coverage.vocabulary import OGL_V3
from ui import scenario_view as view
from ui.markdown import escape_markdown
from ui.scenario_view import (
    COMPARE_SAVED,
    MAX_COMPARE,
    UPLOAD,
    UPLOAD_PROBLEM,
)

ss = st.session_state
forces = view.forces_table()
names = view.force_names()
codes = sorted(names, key=names.get)
existing = view.existing_units()
no_unit_codes = [c for c in codes if c not in existing]
presets = view.presets()
view.start()
current, messages = planner.said(view.state())
view.put(current)
base = current.base
unit_index = current.unit_index
unit = base["unit_models"][unit_index]
p = current.placement

# The summary of the totals stays in view while the planner scrolls through the tables (sticky).
# The summary's own wrapper is the element that sticks (a sticky element cannot leave its parent).
st.html(
    "<style>div:has(> .st-key-scn_summary){position:sticky;top:3.75rem;z-index:990}"
    ".st-key-scn_summary{background:var(--background-color,#fff);border-bottom:1px solid #b3b3b3;"
    "padding:.35rem 0}</style>"
)

# ------------------------------------------------------------------------------------------
# Page
# ------------------------------------------------------------------------------------------
st.title("Scenario planner")
st.markdown(
    "Choose where new stalking units go and what each unit looks like; change any assumption in the tables. "
    "The staff, the cost per year (in cash and in real terms), the present value and the coverage update at once. "
    "Every default shows its source, or says it is an assumption."
)
# Messages go in a container that is always there, so the tabs below never move (a tab bar that moves
# is drawn again on its first tab, and the planner would lose their place after Save or Open).
with st.container():
    for kind, text in messages:
        getattr(st, kind)(text)

pick_column, where_column = st.columns([2, 3], gap="large")
with pick_column:
    preset_ids = list(presets)
    st.selectbox(
        "Unit model (preset)",
        preset_ids,
        index=preset_ids.index(current.preset_id) if current.preset_id in preset_ids else None,
        placeholder=f"Not a preset: {current.origin.label}"[:120],
        format_func=lambda pid: presets[pid]["name"],
        key=view.key("preset"),
        on_change=view.on_preset,
        args=(view.key("preset"),),
        help="A preset is a complete scenario file: a unit model and its assumptions. Where the units go is kept.",
    )
    st.caption(
        f"Editing: {escape_markdown(current.origin.label)}. {escape_markdown(base.get('description', '')[:400])}"
    )
    if len(current.unit_ids) > 1:
        st.selectbox(
            "Unit model to place and edit",
            current.unit_ids,
            index=unit_index,
            key=view.key("unit"),
            on_change=view.on_unit,
            args=(view.key("unit"),),
            format_func=lambda i: next(u["name"] for u in base["unit_models"] if u["id"] == i),
        )

with where_column:
    modes = [m for m in tables.MODES if m != "file" or p.mode == "file"]
    mode = st.radio(
        "Where the units go",
        modes,
        index=modes.index(p.mode) if p.mode in modes else 0,
        format_func=tables.MODES.get,
        key=view.key("where"),
        horizontal=True,
    )
    if mode == "one":
        force = st.selectbox(
            "Force area",
            codes,
            index=codes.index(p.force) if p.force in codes else 0,
            format_func=names.get,
            key=view.key("force"),
        )
        p = replace(p, mode=mode, force=force)
    elif mode == "list":
        chosen = st.multiselect(
            "Force areas",
            codes,
            default=[c for c in (p.forces or ((p.force,) if p.force else ())) if c in names],
            format_func=names.get,
            key=view.key("forces"),
            placeholder="Choose force areas",
        )
        p = replace(p, mode=mode, forces=tuple(chosen))
    elif mode == "no_unit":
        p = replace(p, mode=mode)
        st.caption(
            f"Kept as a rule: {len(no_unit_codes)} force areas have no multi-agency stalking unit in the register in "
            "use today: " + ", ".join(names[c] for c in no_unit_codes) + "."
        )
    elif mode == "waves":
        first, second = st.columns(2)
        wave1 = first.multiselect(
            "Wave 1: from year 1",
            codes,
            default=[c for c in (p.forces or ((p.force,) if p.force else ())) if c in names],
            format_func=names.get,
            key=view.key("forces_w1"),
        )
        wave2 = second.multiselect(
            "Wave 2", codes, default=[c for c in p.wave2 if c in names], format_func=names.get, key=view.key("wave2")
        )
        year = second.number_input(
            "Wave 2 starts in year",
            min_value=2,
            max_value=30,
            step=1,
            value=max(2, int(p.wave2_year)),
            key=view.key("wave2_year"),
            help=f"Year 1 is {fiscal_year_label(int(base['start_year']))}.",
        )
        p = replace(p, mode=mode, forces=tuple(wave1), wave2=tuple(wave2), wave2_year=int(year))
    elif mode == "shared":
        served = st.multiselect(
            "Force areas the unit serves",
            codes,
            default=[c for c in (p.forces or ((p.force,) if p.force else ())) if c in names],
            format_func=names.get,
            key=view.key("shared"),
            placeholder="e.g. the four Welsh forces, or the Met and the City of London",
        )
        label = st.text_input(
            "Name of the unit (optional)",
            value=p.shared_name,
            max_chars=120,
            key=view.key("shared_name"),
            placeholder="e.g. Wales-wide unit",
        )
        st.caption(
            "One unit, costed once, serving every force listed: their referrals are summed and each counts as "
            "covered. In the by-force table its cost is shared in proportion to population aged 16+."
        )
        p = replace(p, mode=mode, forces=tuple(served), shared_name=label)
    else:
        p = replace(p, mode=mode)
        st.caption(f"{len(p.file_deployments)} unit(s) exactly as in the opened scenario.")

summary_box = st.container(key="scn_summary")
problem_box = st.container()
totals_box = st.container()

# The tabs know which one is open, so the charts of Results and Sensitivity are drawn only when they can be
# seen: a planner editing the Assumptions tables waits for no chart they are not looking at. The other tabs
# hold widgets whose values must be read every run (tables, comparison, save), so they are always drawn.
tab_results, tab_inputs, tab_sensitivity, tab_compare, tab_files = st.tabs(
    ["Results", "Assumptions", "Sensitivity", "Compare scenarios", "Save, open and share"],
    key="scn_tab",
    on_change="rerun",
)

# ---- Assumptions: editable tables, read before anything is costed ------------------------
with tab_inputs:
    st.markdown(
        f"All money is in pounds at **{fiscal_year_label(int(base['price_base_year']))} prices** (the price base); "
        "rates are percentages. Change a value and the figures above update; a value you change is recorded as "
        "*user input* and an assumption, with what it replaced in its note."
    )
    st.subheader("Scenario and unit assumptions")
    params_in = tables.params_table(base, unit_index)
    params_out = st.data_editor(
        params_in,
        key=view.editor_key("params"),
        hide_index=True,
        width="stretch",
        height=35 * (len(params_in) + 1) + 3,
        disabled=["Parameter", "Unit", "Source", "Note"],
        column_config={
            "Parameter": st.column_config.TextColumn("Parameter", width="medium"),
            "Value": st.column_config.NumberColumn("Value", help="Rates in %, money in £", width="small"),
            "Unit": st.column_config.TextColumn("Unit", width="medium"),
            "Source": st.column_config.TextColumn(
                "Source or assumption", width="medium", help="Source ids are listed under 'Sources' below"
            ),
            "Note": st.column_config.TextColumn("Note", width="large"),
        },
    )
    rate = (base.get("demand") or {}).get("referral_rate")
    period_choice: str | bool | None = False
    if rate:
        periods = view.crime_periods()
        options = [None, *reversed(periods)]
        chosen_period = rate.get("offences_period")
        period_choice = st.selectbox(
            "Apply the referral rate to offences in",
            options,
            index=options.index(chosen_period) if chosen_period in options else 0,
            format_func=lambda x: f"the latest year ({periods[-1]})" if x is None else str(x),
            key=view.key("period"),
            help=f"The rate is per {DEMAND_OFFENCES[rate.get('offence_code', '8Q')]}.",
        )
        reference = rate.get("reference_period")
        if reference:
            st.caption(
                f"The rate was worked out against offences in {escape_markdown(str(reference))}"
                + (
                    f"; the referrals were made {escape_markdown(str(rate.get('referral_period')))}"
                    if rate.get("referral_period")
                    else ""
                )
                + ". Applied to another year, referrals are assumed to rise and fall with recorded offences."
            )
    ramp = unit.get("ramp_up") or {}
    ramp_in = st.text_input(
        "Ramp-up: % of posts filled in each of a unit's first years",
        value=tables.ramp_text(base, unit_index),
        key=view.editor_key("ramp"),
        help="One percentage per year, separated by commas, e.g. 50, 80: half the posts in year 1, 80% in year 2, "
        "all from year 3. Leave blank for a unit fully staffed from its first year. Non-pay and fixed lines "
        "are paid in full from year 1.",
    )
    st.caption(
        "From the scenario: "
        + escape_markdown(tables.provenance(ramp.get("sources"), ramp.get("assumption"), ramp.get("user_input")))
        + ". "
        + escape_markdown(ramp.get("note", ""))
    )

    st.subheader("Roles")
    st.caption(
        "One row per role. *FTE set by* **fixed** uses the FTE column; **demand** uses referrals a year ÷ "
        "referrals a year per FTE. On-costs (employer NI and pension) are worked out from the dated rules for the "
        "salary, pension scheme and year; type a rate to set it by hand, clear it to go back to the rules. "
        "Overheads are charged on salary plus on-costs. Add or delete rows at the table's edge."
    )
    roles_in = tables.roles_table(base, unit_index)
    roles_out = st.data_editor(
        roles_in,
        key=view.editor_key("roles"),
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        disabled=["oncost_basis"],
        column_order=[
            "role",
            "agency",
            "salary",
            "pension_scheme",
            "oncost_rate",
            "oncost_basis",
            "overhead_rate",
            "fte_mode",
            "fte",
            "caseload_per_fte",
            "sources",
            "assumption",
            "grade",
            "note",
        ],
        column_config={
            "role": st.column_config.TextColumn(tables.ROLE_LABELS["role"], width="medium"),
            "agency": st.column_config.SelectboxColumn(
                tables.ROLE_LABELS["agency"], options=list(AGENCIES), format_func=lambda a: sc.AGENCY_LABELS.get(a, a)
            ),
            "pension_scheme": st.column_config.SelectboxColumn(
                tables.ROLE_LABELS["pension_scheme"],
                options=list(PENSION_SCHEMES),
                format_func=lambda x: tables.PENSION_LABELS.get(x, x),
            ),
            "grade": st.column_config.TextColumn(tables.ROLE_LABELS["grade"]),
            "salary": st.column_config.NumberColumn(tables.ROLE_LABELS["salary"], format="£%,.0f"),
            "oncost_rate": st.column_config.NumberColumn(
                tables.ROLE_LABELS["oncost_rate"], format="%.2f", help="Employer pension and National Insurance"
            ),
            "oncost_basis": st.column_config.TextColumn(tables.ROLE_LABELS["oncost_basis"], width="large"),
            "overhead_rate": st.column_config.NumberColumn(
                tables.ROLE_LABELS["overhead_rate"], format="%.1f", help="% of salary plus on-costs"
            ),
            "fte_mode": st.column_config.SelectboxColumn(tables.ROLE_LABELS["fte_mode"], options=["fixed", "demand"]),
            "fte": st.column_config.NumberColumn(tables.ROLE_LABELS["fte"], format="%.2f"),
            "caseload_per_fte": st.column_config.NumberColumn(tables.ROLE_LABELS["caseload_per_fte"], format="%.0f"),
            "sources": st.column_config.TextColumn(
                tables.ROLE_LABELS["sources"], width="medium", help="Source ids, e.g. S054; S154"
            ),
            "assumption": st.column_config.CheckboxColumn(tables.ROLE_LABELS["assumption"]),
            "note": st.column_config.TextColumn(tables.ROLE_LABELS["note"], width="large"),
        },
    )

    st.subheader("Fixed-cost lines")
    st.caption(
        "Grants, contracts or commissioned services with no FTE in the model. *Grows with* pay or non-pay prices."
    )
    fixed_in = tables.fixed_table(base, unit_index)
    fixed_out = st.data_editor(
        fixed_in,
        key=view.editor_key("fixed"),
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        column_config={
            "item": st.column_config.TextColumn(tables.FIXED_LABELS["item"], width="medium"),
            "agency": st.column_config.SelectboxColumn(
                tables.FIXED_LABELS["agency"], options=list(AGENCIES), format_func=lambda a: sc.AGENCY_LABELS.get(a, a)
            ),
            "amount": st.column_config.NumberColumn(tables.FIXED_LABELS["amount"], format="£%,.0f"),
            "index": st.column_config.SelectboxColumn(tables.FIXED_LABELS["index"], options=["pay", "non_pay"]),
            "sources": st.column_config.TextColumn(tables.FIXED_LABELS["sources"], width="medium"),
            "assumption": st.column_config.CheckboxColumn(tables.FIXED_LABELS["assumption"]),
            "note": st.column_config.TextColumn(tables.FIXED_LABELS["note"], width="large"),
        },
    )

    st.subheader("The rules behind the on-costs")
    st.caption(
        f"Dated rules (data/planner/rules), as in force in the first year, {fiscal_year_label(int(base['start_year']))}; "
        "later years use the rules in force then. Type your own value to use it from the first year (it is "
        "recorded as user input); clear it to go back to the rule."
    )
    rules_in = tables.rules_table(base)
    rules_out = st.data_editor(
        rules_in,
        key=view.key("rules"),
        hide_index=True,
        width="stretch",
        disabled=["Rule", "In the first year", "In force from", "Source"],
        column_config={
            "Rule": st.column_config.TextColumn("Rule", width="large"),
            "In the first year": st.column_config.NumberColumn("In the first year", format="%.4g"),
            "Source": st.column_config.TextColumn("Source", width="large"),
            "Your value": st.column_config.NumberColumn("Your value", format="%.4g"),
        },
    )

# ---- Validate the edit; keep the last good scenario when it is refused ------------------
edits = planner.Edits(
    params=params_out, roles=roles_out, fixed=fixed_out, ramp=ramp_in, rules=rules_out, offences_period=period_choice
)
candidate = planner.edited(current, edits, p)
try:
    if candidate.problems:
        raise InputError("refused")
    scenario = scenario_from_dict(dict(candidate.scenario))
    result = view.run(scenario_hash(scenario), existing, scenario)
    current = candidate
except InputError as error:
    current = candidate if candidate.problems else planner.refused(replace(candidate, scenario=current.scenario), error)
    try:
        scenario = scenario_from_dict(dict(current.scenario))
        result = view.run(scenario_hash(scenario), existing, scenario)
    except InputError:  # the base itself cannot run (e.g. an opened file with unknown forces): cost nothing
        empty = {**dict(current.scenario), "deployments": [], "placement": None}
        scenario = scenario_from_dict(empty)
        result = view.run(scenario_hash(scenario), existing, scenario)
        current = replace(current, scenario=scenario_to_dict(scenario))
drawn_generation = view.state().generation
view.put(current)
if current.generation != drawn_generation:
    st.rerun()  # the edit changed what the tables must show (e.g. an on-cost): draw them again from it

with problem_box:
    if current.problems:
        view.show_problems(
            "These changes were not used: the figures below are for the last valid scenario. "
            "Each problem names its field and where it is on the page.",
            InputError(current.problems[0]) if len(current.problems) == 1 else view.as_errors(current.problems),
            base,
        )

# ---- Totals, at once --------------------------------------------------------------------
t = result.totals
cov = result.coverage
price_base = result.price_base
dep_now = [d.model_dump() for d in result.deployments]
where_text = tables.placement_summary(dep_now, names, scenario.start_year)
reference = view.reference_for(current)
changes = tables.changes_against(reference, current.scenario) if reference else []
with summary_box:
    st.markdown(
        f"**{escape_markdown(where_text)}** · cash **{sc.money(t['total_cost_nominal'])}** · real "
        f"**{sc.money(t['total_cost_real'])}** · present value **{sc.money(t['present_value'])}** · "
        f"**{t['fte_total']:,.1f} FTE**"
        + (f" · **{sc.money(t['cost_per_referral'])}** a referral" if t["cost_per_referral"] else "")
        + (
            f" · {len(changes)} figure{'s' if len(changes) != 1 else ''} changed from the {view.reference_name(current)}"
            if changes
            else ""
        )
    )
with totals_box:
    st.header(f"{escape_markdown(scenario.name)}: {escape_markdown(where_text)}")
    if t["units"] == 0:
        st.info("No units are placed yet: choose at least one force area above.")
    st.markdown(
        f"**{t['units']} unit{'s' if t['units'] != 1 else ''}** in {t['forces_covered']} force "
        f"area{'s' if t['forces_covered'] != 1 else ''} cost **{sc.money(t['total_cost_nominal'])} in cash** over "
        f"{t['first_year']} to {t['last_year']} ({t['horizon_years']} years), or **{sc.money(t['total_cost_real'])} "
        f"at {price_base}**. The present value is **{sc.money(t['present_value'])}**, discounted at "
        f"{t['discount_rate']:.1%} a year with {t['optimism_bias']:.0%} optimism bias."
    )
    row1 = st.columns(4)
    row1[0].metric(
        "Total cost, cash (nominal)",
        sc.money(t["total_cost_nominal"]),
        help=f"Sum of each year's cost in that year's prices, {t['first_year']} to {t['last_year']}.",
    )
    row1[1].metric(
        f"Total cost, real ({price_base})",
        sc.money(t["total_cost_real"]),
        help="Each year's cost at price-base prices (nominal ÷ GDP deflator index).",
    )
    row1[2].metric(
        f"Present value ({price_base})",
        sc.money(t["present_value"]),
        help=f"Real costs discounted at {t['discount_rate']:.1%} a year; year 1 undiscounted (Green Book).",
    )
    row1[3].metric(
        "Staff, fully staffed (FTE)",
        f"{t['fte_total']:,.1f}",
        help="Every unit at full strength; demand-driven roles are not rounded to posts.",
    )
    row2 = st.columns(4)
    row2[0].metric(
        "Cost per referral, a year",
        sc.money(t["cost_per_referral"], exact=True) if t["cost_per_referral"] else "not available",
        help=f"A fully staffed year at {price_base} ÷ referrals a year.",
    )
    row2[1].metric(
        "Cost per 100,000 aged 16+, a year",
        sc.money(t["cost_per_100k_16plus"], exact=True) if t["cost_per_100k_16plus"] else "not available",
        help=f"A fully staffed year at {price_base} ÷ the mid-2023 population aged 16+ of the forces covered "
        "× 100,000.",
    )
    row2[2].metric(
        "Forces with a multi-agency unit",
        f"{cov['before_forces']} → {cov['after_forces']}",
        help=f"Of {cov['forces_total']} police force areas, before → after this scenario.",
    )
    row2[3].metric(
        "People aged 16+ served by one",
        f"{cov['before_share_16plus']:.0%} → {cov['after_share_16plus']:.0%}",
        help="Share of the mid-2023 population aged 16+ of England and Wales, before → after.",
    )
    st.caption(
        f"Per referral and per 100,000: one fully staffed year at {price_base}. Coverage: forces, and their "
        "share of the population aged 16+, with a multi-agency stalking unit before → after this scenario."
    )
    if cov.get("unit_models_not_multi_agency"):
        st.caption(
            "Not a multi-agency unit (it has no police working with probation or health), so it adds no force to "
            "the coverage count; its costs are included: "
            + ", ".join(f"“{escape_markdown(name)}”" for name in cov["unit_models_not_multi_agency"])
            + "."
        )
    for warning in result.warnings:
        st.warning(escape_markdown(warning))
    if changes:
        with st.expander(f"What you changed from the {view.reference_name(current)} ({len(changes)})"):
            st.dataframe(
                pd.DataFrame([c.__dict__ for c in changes]).rename(
                    columns={"setting": "Setting", "was": "Was", "now": "Now", "change": "Change"}
                ),
                hide_index=True,
                width="stretch",
            )
    if cov.get("already_covered_in_scenario"):
        st.caption(
            "Already has a multi-agency unit (costed, but coverage does not change): "
            + ", ".join(names.get(c, c) for c in cov["already_covered_in_scenario"])
            + "."
        )

stem = tables.file_stem(scenario.name)

# ---- Results ----------------------------------------------------------------------------
with tab_results:
    if t["units"] == 0:
        st.info("Place at least one unit to see costs by year and staff by role.")
    elif not tab_results.open:
        pass  # drawn when the tab is opened
    else:
        view.show_value_for_money(result, scenario)

        demand_words = demand_description(scenario)
        year_text = sc.cost_by_year_text(result.by_year, price_base, scenario.name, demand=demand_words)
        st.markdown(f"**Cost by year.** {escape_markdown(year_text.takeaway)}")
        chart_column, table_column = st.columns([3, 2], gap="medium")
        with chart_column:
            spec = view.chart_spec(
                ("cost_by_year", result.scenario_hash),
                lambda: sc.cost_by_year_chart(result.by_year, price_base=price_base, text=year_text),
            )
            view.show_chart(spec, f"{stem}_cost_by_year", year_text.takeaway)
        with table_column:
            st.caption(f"£; real = {price_base}; present value discounted at {t['discount_rate']:.1%}.")
            st.dataframe(view.shown_by_year(result), hide_index=True, width="stretch")

        fte_text = sc.fte_text(
            result.by_role, result.by_agency, scenario.name, price_base, t["forces_covered"], demand=demand_words
        )
        st.markdown(f"**Staff by role and agency.** {escape_markdown(fte_text.takeaway)}")
        chart_column, table_column = st.columns([3, 2], gap="medium")
        with chart_column:
            spec = view.chart_spec(
                ("fte_by_role", result.scenario_hash), lambda: sc.fte_by_role_chart(result.by_role, text=fte_text)
            )
            view.show_chart(spec, f"{stem}_fte_by_role", fte_text.takeaway)
        with table_column:
            roles_table = sc.fte_by_role_table(result.by_role)[["role", "agency_label", "fte"]].rename(
                columns={"role": "Role", "agency_label": "Agency", "fte": "FTE"}
            )
            st.dataframe(
                roles_table,
                hide_index=True,
                width="stretch",
                column_config={
                    "Role": st.column_config.TextColumn(width="medium"),
                    "Agency": st.column_config.TextColumn(width="small"),
                    "FTE": st.column_config.NumberColumn(format="%.2f", width="small"),
                },
            )
            agency_table = result.by_agency.assign(agency=result.by_agency["agency"].map(sc.AGENCY_LABELS))[
                ["agency", "fte", "cost_real", "pv"]
            ].rename(columns={"agency": "Agency", "fte": "FTE", "cost_real": "Real £", "pv": "PV £"})
            st.dataframe(
                agency_table,
                hide_index=True,
                width="stretch",
                column_config={
                    "FTE": st.column_config.NumberColumn(format="%.2f"),
                    "Real £": st.column_config.NumberColumn(format="%,.0f"),
                    "PV £": st.column_config.NumberColumn(format="%,.0f"),
                },
            )
            st.caption(f"By agency over the horizon: real = {price_base}; PV = present value.")

        if len(result.by_unit) and any(len(d.forces) > 1 for d in result.deployments):
            st.markdown("**By unit**")
            st.dataframe(view.shown_by_unit(result), hide_index=True, width="stretch")
        st.markdown("**By force area**")
        st.dataframe(view.shown_by_force(result), hide_index=True, width="stretch")
    st.markdown("**Downloads**")
    d1, d2, d3, d4 = st.columns(4)
    d1.download_button(
        "Results workbook (XLSX)",
        data=lambda: view.xlsx_bytes(result),
        file_name=f"{stem}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="scn_dl_xlsx",
        on_click="ignore",
    )
    for column, (label, table, suffix) in zip(
        (d2, d3, d4),
        (
            ("Costs by year (CSV)", view.shown_by_year(result), "year"),
            ("Costs by force (CSV)", view.shown_by_force(result), "force"),
            ("Costs by role (CSV)", view.shown_by_role(result), "role"),
        ),
        strict=True,
    ):
        column.download_button(
            label,
            data=lambda table=table: csv_bytes(table),
            file_name=f"{stem}_by_{suffix}.csv",
            mime="text/csv",
            key=f"scn_dl_{suffix}",
            on_click="ignore",
        )
    basis = view.demand(scenario)
    st.caption(
        "Money in GBP. Nominal = cash in each year; real = at " + price_base + ". The downloads hold the tables "
        "as shown, with their rounding. Offences used for demand: "
        + escape_markdown(basis.description)
        + f" (Home Office and ONS, {OGL_V3})."
    )

# ---- Sources of the defaults --------------------------------------------------------------
with tab_inputs:
    known = view.source_list()
    used = source_ids_used(scenario)
    with st.expander(f"Sources cited by this scenario ({len(used)})"):
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Source": sid,
                        **{
                            k.capitalize().replace("_", " "): v
                            for k, v in known.get(sid, {"publisher": "(not in SOURCES.md)"}).items()
                        },
                    }
                    for sid in used
                ]
            ),
            hide_index=True,
            width="stretch",
            column_config={"Url": st.column_config.LinkColumn("Link", display_text="open")},
        )

# ---- Sensitivity -------------------------------------------------------------------------
with tab_sensitivity:
    if t["units"] == 0:
        st.info("Place at least one unit to test the assumptions.")
    elif not tab_sensitivity.open:
        pass  # drawn when the tab is opened
    else:
        frame = view.tornado_frame(scenario_hash(scenario), existing, scenario)
        text = sc.tornado_text(
            frame,
            scenario.name,
            price_base,
            t["discount_rate"],
            t["horizon_years"],
            demand=demand_description(scenario),
        )
        st.markdown(f"**{escape_markdown(text.title)}.** {escape_markdown(text.takeaway)}")
        chart_column, table_column = st.columns([3, 2], gap="medium")
        with chart_column:
            spec = view.chart_spec(("tornado", result.scenario_hash), lambda: sc.tornado_chart(frame, text=text))
            view.show_chart(spec, f"{stem}_tornado", text.takeaway)
        with table_column:
            st.dataframe(
                frame[["label", "low_input", "pv_low", "high_input", "pv_high"]].rename(
                    columns={
                        "label": "Assumption",
                        "low_input": "Low",
                        "pv_low": "PV low £",
                        "high_input": "High",
                        "pv_high": "PV high £",
                    }
                ),
                hide_index=True,
                width="stretch",
                column_config={c: st.column_config.NumberColumn(format="%,.0f") for c in ("PV low £", "PV high £")},
            )
            st.caption(f"Base present value {sc.money(t['present_value'], exact=True)} at {price_base}.")

# ---- Compare -----------------------------------------------------------------------------
with tab_compare:
    entries = current.compare
    st.markdown(f"Put up to **{MAX_COMPARE} scenarios** side by side: the one on screen, or saved ones.")
    a1, a2 = st.columns(2)
    auto_label = f"{scenario.name}: {where_text}"[:120]
    a1.button("Add the scenario on screen", key="scn_compare_add", on_click=view.on_compare_current, args=(auto_label,))
    saved_names = view.saved_names()
    if saved_names:
        if ss.get(COMPARE_SAVED) not in saved_names:
            ss[COMPARE_SAVED] = saved_names[0]
        a2.selectbox("Saved scenario", saved_names, key=COMPARE_SAVED)
        a2.button("Add the saved scenario", key="scn_compare_add_saved", on_click=view.on_compare_saved)
    if entries:
        table, summary_frame = view.comparison_tables(entries, existing)
        text = sc.comparison_text(
            summary_frame,
            list(summary_frame["price_base"]),
            [demand_description(scenario_from_dict(dict(e.scenario))) for e in entries],
        )
        st.markdown(f"**Side by side.** {escape_markdown(text.takeaway)}")
        st.dataframe(table, width="stretch", height=35 * (len(table) + 1) + 3)
        chart_column, remove_column = st.columns([3, 2], gap="medium")
        with chart_column:
            spec = view.chart_spec(
                ("comparison", tuple((e.label, e.hash) for e in entries), existing),
                lambda: sc.comparison_chart(summary_frame, text=text),
            )
            view.show_chart(spec, "scenario_comparison", text.takeaway)
        with remove_column:
            for i, entry in enumerate(entries):
                st.button(
                    f"Remove “{escape_markdown(entry.label[:60])}”",
                    key=f"scn_compare_remove_{i}",
                    on_click=view.on_compare_remove,
                    args=(i,),
                )
            st.button("Clear the comparison", key="scn_compare_clear", on_click=view.on_compare_clear)
            st.download_button(
                "Comparison (CSV)",
                data=lambda: csv_bytes(table.reset_index()),
                file_name="scenario_comparison.csv",
                mime="text/csv",
                key="scn_dl_compare",
                on_click="ignore",
            )
    else:
        st.info("Nothing to compare yet.")

# ---- Save, open and share ------------------------------------------------------------------
with tab_files:
    save_column, share_column = st.columns(2, gap="large")
    with save_column:
        current = view.save_panel(current)
    with share_column:
        view.share_link_panel(scenario)
        st.subheader("Share as a file")
        st.download_button(
            "Download this scenario (YAML)",
            data=view.yaml_text(scenario_hash(scenario), scenario),
            file_name=f"{stem}.yaml",
            mime="application/x-yaml",
            key="scn_dl_yaml",
            on_click="ignore",
        )
        st.caption(
            "The file holds every input with its source, so anyone can open it here or run "
            "`python -m coverage cost FILE.yaml`."
        )
        st.file_uploader(
            "Open a scenario file (YAML, up to 1 MB)", key=UPLOAD, on_change=view.on_upload, max_upload_size=1
        )
        st.caption("A file over 1 MB is refused by the box above (it turns red): a scenario file is a few kilobytes.")
        if ss.get(UPLOAD_PROBLEM):
            name, error = ss[UPLOAD_PROBLEM]
            view.show_problems(
                f"{escape_markdown(name)} cannot be opened: the scenario on screen is unchanged.", error, file_name=name
            )

# ---- The URL reproduces the view ----------------------------------------------------------
view.mirror_to_link()
