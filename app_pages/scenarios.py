"""Scenario planner: where new stalking units go, what each one looks like, and what they cost.

Thin page: it reads the widgets, asks ``coverage.planner.editing`` (tables ↔ scenario), ``ui.scenario_view``
(state, loaders, callbacks) and ``coverage`` (cost model, charts, store) for everything else, and renders. The last scenario that validated is kept
in ``st.session_state`` and stays on screen while an edit is refused.
"""

from __future__ import annotations

import sqlite3

import pandas as pd
import streamlit as st

from coverage.errors import InputError
from coverage.export import csv_bytes
from coverage.model.indicators import PLANNER_DEMAND_PERIOD
from coverage.outputs import scenario_charts as sc
from coverage.planner import editing as tables
from coverage.planner.schema import (
    AGENCIES,
    fiscal_year_label,
    scenario_from_dict,
    scenario_hash,
    scenario_to_dict,
    source_ids_used,
)
from coverage.vocabulary import OFFENCE_GROUP_INCLUDES, OGL_V3
from ui import scenario_view as view
from ui.markdown import escape_markdown
from ui.scenario_view import (
    BASE,
    BASE_LABEL,
    BASE_SAVED,
    COMPARE,
    COMPARE_SAVED,
    CONFIRM_DELETE,
    DUP_NAME,
    FILE_DEPS,
    FIXED,
    FLASH,
    FORCE,
    FORCES,
    HAS_PROBLEMS,
    LAST_GOOD,
    MAX_COMPARE,
    PARAMS,
    PRESET,
    RAMP,
    ROLES,
    SAVE_NAME,
    SAVED_PICK,
    UNIT,
    UPLOAD,
    UPLOAD_PROBLEM,
    VERSION_PICK,
    WAVE2,
    WAVE2_YEAR,
    WHERE,
)

ss = st.session_state
forces = view.forces_table()
names = view.force_names()
codes = sorted(names, key=names.get)
existing = view.existing_units()
no_unit_codes = [c for c in codes if c not in existing]
presets = view.presets()
view.start_from_link()

# ------------------------------------------------------------------------------------------
# Page
# ------------------------------------------------------------------------------------------
st.title("Scenario planner")
st.markdown(
    "Choose where new stalking units go and what each unit looks like; change any assumption in the tables. "
    "The staff, the cost per year (in cash and in real terms), the present value and the coverage update at once. "
    "Every default shows its source, or says it is an assumption."
)
flash_box = st.container()

base = ss[BASE]
pick_column, where_column = st.columns([2, 3], gap="large")
with pick_column:
    st.selectbox(
        "Unit model (preset)",
        list(presets),
        format_func=lambda p: presets[p]["name"],
        key=PRESET,
        on_change=view.on_preset,
        help="A preset is a complete scenario file: a unit model and its assumptions.",
    )
    st.caption(f"Editing: {escape_markdown(ss[BASE_LABEL])}. {escape_markdown(base.get('description', '')[:400])}")
    if not ss[BASE_LABEL].startswith("preset"):
        st.button("Start again from this preset", on_click=view.on_preset, key="scn_reset")
    unit_ids = [u["id"] for u in base["unit_models"]]
    if len(unit_ids) > 1:
        st.selectbox(
            "Unit model to place and edit",
            unit_ids,
            key=UNIT,
            on_change=view.on_unit_change,
            format_func=lambda i: next(u["name"] for u in base["unit_models"] if u["id"] == i),
        )
    unit_id = ss.get(UNIT) if ss.get(UNIT) in unit_ids else unit_ids[0]
    unit_index = unit_ids.index(unit_id)

with where_column:
    st.radio("Where the units go", list(tables.MODES), format_func=tables.MODES.get, key=WHERE, horizontal=True)
    mode = ss[WHERE]
    view.restore_placement_widgets(mode)
    if mode == "one":
        if ss.get(FORCE) not in names:
            ss[FORCE] = codes[0]
        st.selectbox("Force area", codes, format_func=names.get, key=FORCE)
    elif mode == "list":
        st.multiselect("Force areas", codes, format_func=names.get, key=FORCES, placeholder="Choose force areas")
    elif mode == "no_unit":
        st.caption(
            f"{len(no_unit_codes)} force areas have no multi-agency stalking unit in the register in use: "
            + ", ".join(names[c] for c in no_unit_codes)
            + "."
        )
    elif mode == "waves":
        first, second = st.columns(2)
        first.multiselect("Wave 1: from year 1", codes, format_func=names.get, key=FORCES)
        second.multiselect("Wave 2", codes, format_func=names.get, key=WAVE2)
        second.number_input(
            "Wave 2 starts in year",
            min_value=2,
            max_value=30,
            step=1,
            key=WAVE2_YEAR,
            help=f"Year 1 is {fiscal_year_label(int(base['start_year']))}.",
        )
    else:
        st.caption(f"{len(ss.get(FILE_DEPS) or [])} unit(s) exactly as in the opened scenario file.")
view.remember_placement_widgets(mode)

problem_box = st.container()
totals_box = st.container()

tab_results, tab_inputs, tab_sensitivity, tab_compare, tab_files = st.tabs(
    ["Results", "Assumptions", "Sensitivity", "Compare scenarios", "Save, open and share"]
)

# ---- Assumptions: editable tables, read before anything is costed ------------------------
with tab_inputs:
    unit = base["unit_models"][unit_index]
    st.markdown(
        f"All money is in pounds at **{fiscal_year_label(int(base['price_base_year']))} prices** (the price base); "
        "rates are percentages. Change a value and the figures above update; a value you change is recorded as "
        "*user input* and an assumption, with the file's value in its note."
    )
    st.subheader("Scenario and unit assumptions")
    params_in = tables.params_table(base, unit_index)
    params_out = st.data_editor(
        params_in,
        key=PARAMS,
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
    ramp = unit.get("ramp_up") or {}
    ramp_in = st.text_input(
        "Ramp-up: % of posts filled in each of a unit's first years",
        value=tables.ramp_text(base, unit_index),
        key=RAMP,
        help="One percentage per year, separated by commas, e.g. 50, 80: half the posts in year 1, 80% in year 2, "
        "all from year 3. Leave blank for a unit fully staffed from its first year. Non-pay and fixed lines "
        "are paid in full from year 1.",
    )
    st.caption(
        f"From the scenario file: {escape_markdown(tables.provenance(ramp.get('source'), ramp.get('assumption')))}. "
        + escape_markdown(ramp.get("note", ""))
    )

    st.subheader("Roles")
    st.caption(
        "One row per role in each unit. *FTE set by* **fixed** uses the FTE column; **demand** uses referrals a year ÷ "
        "referrals per FTE. Overheads are charged on salary plus on-costs. Add or delete rows at the table's edge."
    )
    roles_in = tables.roles_table(base, unit_index)
    roles_out = st.data_editor(
        roles_in,
        key=ROLES,
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        column_order=[
            "role",
            "agency",
            "salary",
            "oncost_rate",
            "overhead_rate",
            "fte_mode",
            "fte",
            "caseload_per_fte",
            "source",
            "assumption",
            "grade",
            "note",
        ],
        column_config={
            "role": st.column_config.TextColumn(tables.ROLE_LABELS["role"], width="medium"),
            "agency": st.column_config.SelectboxColumn(
                tables.ROLE_LABELS["agency"], options=list(AGENCIES), format_func=lambda a: sc.AGENCY_LABELS.get(a, a)
            ),
            "grade": st.column_config.TextColumn(tables.ROLE_LABELS["grade"]),
            "salary": st.column_config.NumberColumn(tables.ROLE_LABELS["salary"], format="£%,.0f"),
            "oncost_rate": st.column_config.NumberColumn(
                tables.ROLE_LABELS["oncost_rate"], format="%.2f", help="Employer pension and National Insurance"
            ),
            "overhead_rate": st.column_config.NumberColumn(
                tables.ROLE_LABELS["overhead_rate"], format="%.1f", help="% of salary plus on-costs"
            ),
            "fte_mode": st.column_config.SelectboxColumn(tables.ROLE_LABELS["fte_mode"], options=["fixed", "demand"]),
            "fte": st.column_config.NumberColumn(tables.ROLE_LABELS["fte"], format="%.2f"),
            "caseload_per_fte": st.column_config.NumberColumn(tables.ROLE_LABELS["caseload_per_fte"], format="%.0f"),
            "source": st.column_config.TextColumn(tables.ROLE_LABELS["source"], width="medium"),
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
        key=FIXED,
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
            "source": st.column_config.TextColumn(tables.FIXED_LABELS["source"], width="medium"),
            "assumption": st.column_config.CheckboxColumn(tables.FIXED_LABELS["assumption"]),
            "note": st.column_config.TextColumn(tables.FIXED_LABELS["note"], width="large"),
        },
    )

# ---- Validate the edit; keep the last good scenario when it is refused ------------------
placement = view.placement_now()
deployments, placement_problems = tables.deployments_for(placement, unit_id, no_unit_codes)
problem: InputError | None = None
result = None
try:
    candidate = tables.edited_scenario(
        base,
        unit_index=unit_index,
        params=params_out,
        roles=roles_out,
        fixed=fixed_out,
        ramp=ramp_in,
        deployments=deployments,
        placement_problems=placement_problems,
    )
    result = view.run(scenario_hash(candidate), existing, candidate)
except InputError as error:
    problem = error
else:
    ss[LAST_GOOD] = scenario_to_dict(candidate)
ss[HAS_PROBLEMS] = problem is not None

if result is None:
    fallback = ss.get(LAST_GOOD) or base
    try:
        scenario = scenario_from_dict(fallback)
        result = view.run(scenario_hash(scenario), existing, scenario)
    except InputError:  # the base itself cannot run (e.g. an opened file with unknown forces): cost nothing
        scenario = scenario_from_dict({**base, "deployments": []})
        result = view.run(scenario_hash(scenario), existing, scenario)
    ss[LAST_GOOD] = scenario_to_dict(scenario)
else:
    scenario = candidate

with problem_box:
    if problem is not None:
        view.show_problems(
            "These changes were not used: the figures below are for the last valid scenario. "
            "Each problem names its field and where it is on the page.",
            problem,
            base,
        )

with flash_box:
    for kind, text in ss.pop(FLASH, []):
        getattr(st, kind)(text)

# ---- Totals, at once --------------------------------------------------------------------
t = result.totals
cov = result.coverage
price_base = result.price_base
dep_now = scenario_to_dict(scenario)["deployments"]
where_text = tables.placement_summary(dep_now, names, scenario.start_year)
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
    else:
        year_text = sc.cost_by_year_text(result.by_year, price_base, scenario.name)
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
            by_year = result.by_year[["fiscal_year", "fte", "cost_nominal", "cost_real", "pv"]].rename(
                columns={
                    "fiscal_year": "Year",
                    "fte": "FTE",
                    "cost_nominal": "Cash £",
                    "cost_real": "Real £",
                    "pv": "PV £",
                }
            )
            st.dataframe(
                by_year,
                hide_index=True,
                width="stretch",
                column_config={
                    "FTE": st.column_config.NumberColumn(format="%.1f"),
                    **{c: st.column_config.NumberColumn(format="%,.0f") for c in ("Cash £", "Real £", "PV £")},
                },
            )

        fte_text = sc.fte_text(result.by_role, result.by_agency, scenario.name, price_base, t["forces_covered"])
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

        st.markdown("**By force area**")
        by_force = result.by_force.rename(
            columns={
                "code": "Code",
                "name": "Force area",
                "units": "Units",
                "fte": "FTE",
                "cost_nominal": "Cash (nominal) £",
                "cost_real": f"Real £ ({price_base})",
                "pv": "Present value £",
                "referrals_per_year": "Referrals a year",
                "pop_16plus": "Population 16+",
            }
        )
        st.dataframe(
            by_force,
            hide_index=True,
            width="stretch",
            column_config={
                **{
                    c: st.column_config.NumberColumn(format="%,.0f") for c in by_force.columns if "£" in c or "16+" in c
                },
                "FTE": st.column_config.NumberColumn(format="%.1f"),
                "Referrals a year": st.column_config.NumberColumn(format="%,.0f"),
            },
        )
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
            ("Costs by year (CSV)", result.by_year, "year"),
            ("Costs by force (CSV)", result.by_force, "force"),
            ("Costs by role (CSV)", result.by_role, "role"),
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
    st.caption(
        "Money in GBP. Nominal = cash in each year; real = at " + price_base + ". Offences used for demand: ONS "
        f"police-recorded 'Stalking and harassment' group (which also {OFFENCE_GROUP_INCLUDES}), "
        f"{PLANNER_DEMAND_PERIOD}, {OGL_V3}: the basis the presets' referral rates were derived on."
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
    else:
        frame = view.tornado_frame(scenario_hash(scenario), scenario)
        text = sc.tornado_text(frame, scenario.name, price_base, t["discount_rate"], t["horizon_years"])
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
    entries = ss.setdefault(COMPARE, [])
    st.markdown(f"Put up to **{MAX_COMPARE} scenarios** side by side: the one on screen, or saved ones.")
    a1, a2 = st.columns(2)
    auto_label = f"{scenario.name}: {where_text}"[:120]
    a1.button("Add the scenario on screen", key="scn_compare_add", on_click=view.on_compare_current, args=(auto_label,))
    try:
        saved_names = [i.name for i in view.store().list()]
    except (sqlite3.Error, OSError):
        saved_names = []
    if saved_names:
        if ss.get(COMPARE_SAVED) not in saved_names:
            ss[COMPARE_SAVED] = saved_names[0]
        a2.selectbox("Saved scenario", saved_names, key=COMPARE_SAVED)
        a2.button("Add the saved scenario", key="scn_compare_add_saved", on_click=view.on_compare_saved)
    if entries:
        table, summary_frame = view.comparison_tables(entries, existing)
        text = sc.comparison_text(summary_frame, list(summary_frame["price_base"]))
        st.markdown(f"**Side by side.** {escape_markdown(text.takeaway)}")
        st.dataframe(table, width="stretch", height=35 * (len(table) + 1) + 3)
        chart_column, remove_column = st.columns([3, 2], gap="medium")
        with chart_column:
            spec = view.chart_spec(
                ("comparison", tuple((e["label"], e["hash"]) for e in entries), existing),
                lambda: sc.comparison_chart(summary_frame, text=text),
            )
            view.show_chart(spec, "scenario_comparison", text.takeaway)
        with remove_column:
            for i, entry in enumerate(entries):
                st.button(
                    f"Remove “{escape_markdown(entry['label'][:60])}”",
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
        st.subheader("Save")
        if SAVE_NAME not in ss:
            ss[SAVE_NAME] = ss.get(BASE_SAVED) or ""
        st.text_input("Name", key=SAVE_NAME, max_chars=120, placeholder="e.g. North West, two waves")
        st.button(
            "Save",
            key="scn_save",
            on_click=view.on_save,
            type="primary",
            help="Saving under an existing name adds a new version; earlier versions are kept.",
        )
        st.subheader("Saved scenarios")
        try:
            listing = view.store().list()
        except (sqlite3.Error, OSError) as error:
            listing = []
            st.error(f"The scenario store could not be read ({type(error).__name__}); saving is unavailable.")
        if not listing:
            st.info("No saved scenarios yet.")
        else:
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "Name": i.name,
                            "Versions": i.versions,
                            "Latest": i.latest_version,
                            "Saved (UTC)": i.updated_at.replace("T", " ")[:16],
                            "Valid": "yes" if i.ok else f"no: {i.problem}",
                        }
                        for i in listing
                    ]
                ),
                hide_index=True,
                width="stretch",
            )
            listed = [i.name for i in listing]
            if ss.get(SAVED_PICK) not in listed:
                ss[SAVED_PICK] = listed[0]
            st.selectbox("Saved scenario", listed, key=SAVED_PICK)
            b1, b2 = st.columns(2)
            b1.button("Open", key="scn_open", on_click=view.on_open)
            b2.button("Delete…", key="scn_delete", on_click=view.on_delete, args=(False,))
            if ss.get(CONFIRM_DELETE) == ss[SAVED_PICK]:
                count = next(i.versions for i in listing if i.name == ss[SAVED_PICK])
                st.warning(f"Delete “{escape_markdown(ss[SAVED_PICK])}” and all {count} of its versions?")
                c1, c2 = st.columns(2)
                c1.button("Yes, delete", key="scn_delete_yes", on_click=view.on_delete, args=(True,))
                c2.button("Cancel", key="scn_delete_no", on_click=view.on_cancel_delete)
            st.text_input("Copy it as", key=DUP_NAME, max_chars=120, placeholder="New name")
            st.button("Duplicate", key="scn_duplicate", on_click=view.on_duplicate)
            versions = view.store().versions(ss[SAVED_PICK])
            numbers = [v.version for v in versions]
            labels = {
                v.version: f"Version {v.version}, {v.created_at.replace('T', ' ')[:16]} UTC"
                + (f" ({v.note})" if v.note else "")
                for v in versions
            }
            if ss.get(VERSION_PICK) not in numbers:
                ss[VERSION_PICK] = numbers[-2] if len(numbers) > 1 else numbers[-1]
            st.selectbox("Versions", numbers, format_func=labels.get, key=VERSION_PICK)
            st.button(
                "Make this version current again",
                key="scn_restore",
                on_click=view.on_restore,
                disabled=len(numbers) < 2,
                help="Copies the chosen version forward as the newest one; no version is ever overwritten.",
            )
    with share_column:
        st.subheader("Share as a file")
        st.download_button(
            "Download this scenario (YAML)",
            data=view.yaml_text(result.scenario_hash, scenario),
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
