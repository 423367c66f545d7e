"""The scenario workbook (``atlas cost --xlsx`` and the planner's XLSX download): inputs with their
sources, results, and every source cited, written by the one XLSX writer (``coverage.export``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from coverage.export import Sheet, xlsx_bytes
from coverage.planner.costing import ScenarioResult
from coverage.planner.schema import DEMAND_OFFENCES, Scenario, fiscal_year_label, source_ids_used
from coverage.sources import load_registry
from coverage.vocabulary import OFFENCE_GROUP_CAVEAT, ONS_SOURCE

# The totals listed on the Results sheet, in order.
RESULT_TOTALS = (
    "total_cost_nominal",
    "total_cost_real",
    "present_value",
    "fte_total",
    "year1_cost_nominal",
    "year1_cost_real",
    "steady_annual_cost_real",
    "referrals_per_year",
    "cost_per_referral",
    "cost_per_100k_16plus",
    "forces_covered",
    "optimism_bias",
    "discount_rate",
)


def _input_rows(s: Scenario) -> list[Sequence[object]]:
    rows: list[Sequence[object]] = [["section", "field", "value", "source", "assumption", "note"]]

    # param is a Param or SeriesParam (Any: the Demand validator, not the type, makes sure
    # fixed_referrals_per_year is set when it is passed here)
    def p(section: str, name: str, param: Any) -> None:
        value = param.value if not isinstance(param.value, list) else ", ".join(f"{v:g}" for v in param.value)
        rows.append([section, name, value, _ids(param.sources, param.user_input), param.assumption, param.note])

    rows.append(["scenario", "name", s.name, "", "", s.description])
    rows.append(["scenario", "schema_version", s.schema_version, "", "", ""])
    rows.append(
        ["scenario", "price_base_year", fiscal_year_label(s.price_base_year), "", "", "all money at these prices"]
    )
    rows.append(["scenario", "start_year", fiscal_year_label(s.start_year), "", "", "year 1"])
    rows.append(["scenario", "horizon_years", s.horizon_years, "", "", ""])
    for name in ("discount_rate", "optimism_bias", "pay_uplift", "non_pay_inflation", "gdp_deflator"):
        p("scenario", name, getattr(s, name))
    if s.demand is not None:
        if s.demand.referral_rate is not None:
            rr = s.demand.referral_rate
            derivation = ""
            if rr.observed_referrals is not None:
                derivation = (
                    f"{rr.observed_referrals:g} referrals in {rr.observed_months:g} months × 12/"
                    f"{rr.observed_months:g} ÷ {rr.reference_offences:,.0f} offences "
                    f"({rr.reference_area}, {rr.reference_period})"
                )
            rows.append(
                [
                    "demand",
                    "referral_rate",
                    rr.rate,
                    _ids(rr.sources, rr.user_input),
                    rr.assumption,
                    "; ".join(
                        x
                        for x in (
                            derivation,
                            f"confidence: {rr.confidence}",
                            f"per {DEMAND_OFFENCES[rr.offence_code]}, applied to {rr.offences_period or 'the latest year'}",
                            rr.note,
                        )
                        if x
                    ),
                ]
            )
        else:
            p("demand", "fixed_referrals_per_year", s.demand.fixed_referrals_per_year)
    for u in s.unit_models:
        sec = f"unit {u.id}"
        rows.append([sec, "name", u.name, _ids(u.sources), "", u.description])
        rows.append([sec, "price_year", fiscal_year_label(u.price_year), "", "", ""])
        for name in ("non_pay", "recruitment_training_cost_per_new_fte", "attrition_rate", "ramp_up"):
            p(sec, name, getattr(u, name))
    rows.append([])
    role_fields = [
        "role",
        "agency",
        "pension_scheme",
        "grade",
        "salary",
        "oncost_override",
        "overhead_rate",
        "fte_mode",
    ]
    role_fields += ["fte", "caseload_per_fte", "sources", "assumption", "note"]
    rows.append(["unit", *role_fields])
    for u in s.unit_models:
        for r in u.roles:
            cells = []
            for name in role_fields:
                value = getattr(r, name)
                if name == "oncost_override":
                    value = "from the dated rules" if value is None else value.value
                elif name == "sources":
                    value = _ids(value, r.user_input)
                cells.append(value)
            rows.append([u.id, *cells])
    if any(u.fixed_costs for u in s.unit_models):
        rows.append([])
        rows.append(["unit", "fixed-cost item", "agency", "amount", "index", "source", "assumption", "note"])
        for u in s.unit_models:
            for f in u.fixed_costs:
                rows.append(
                    [u.id, f.item, f.agency, f.amount, f.index, _ids(f.sources, f.user_input), f.assumption, f.note]
                )
    rows.append([])
    rows.append(["deployment", "forces", "start_year_offset", "first year", "unit_model", "name"])
    if s.placement is not None:
        rows.append(["rule", s.placement.rule, s.placement.start_year_offset, "", s.placement.unit_model, ""])
    for i, d in enumerate(s.deployments):
        rows.append(
            [
                i,
                "; ".join(d.forces),
                d.start_year_offset,
                fiscal_year_label(s.start_year + d.start_year_offset),
                d.unit_model,
                d.name,
            ]
        )
    return rows


def _ids(sources: Sequence[str], user_input: bool = False) -> str:
    return "; ".join([*(["user input"] if user_input else []), *sources])


def _inputs_sheet(scenario: Scenario) -> Sheet:
    sheet = Sheet("Inputs", bold_rows={1})
    for row in _input_rows(scenario):
        sheet.add_row(row)
    return sheet


def _results_sheet(result: ScenarioResult, scenario: Scenario) -> Sheet:
    sheet = Sheet("Results")
    totals = result.totals
    sheet.add_row(
        [
            f"{scenario.name}: costs at {result.price_base}; nominal = cash; real = {result.price_base}; "
            f"PV discounted at {totals['discount_rate']:.1%} a year, year 1 undiscounted"
        ],
        bold=True,
    )
    sheet.add_row(["total", "value"])
    for key in RESULT_TOTALS:
        sheet.add_row([key, totals[key]])
    coverage = result.coverage
    sheet.add_row(
        ["forces with a unit before → after", f"{coverage.get('before_forces')} → {coverage.get('after_forces')}"]
    )
    sheet.add_row(
        [
            "share of population 16+ served before → after",
            f"{coverage.get('before_share_16plus', 0):.1%} → {coverage.get('after_share_16plus', 0):.1%}",
        ]
    )
    for title, frame in (
        ("By year", result.by_year),
        ("By force", result.by_force),
        ("By unit", result.by_unit),
        ("By role", result.by_role),
        ("By agency", result.by_agency),
    ):
        sheet.add_row([])
        sheet.add_table(frame, title=title)
    return sheet


def _sources_sheet(scenario: Scenario) -> Sheet:
    sheet = Sheet("Sources", bold_rows={1})
    sheet.add_row(["id", "publisher", "title", "date", "url", "note"])
    registry = load_registry()
    for source_id in source_ids_used(scenario):
        info = registry.get(source_id)
        if info is None:
            sheet.add_row([source_id, "(not in data/sources.csv)", "", "", "", ""])
        else:
            sheet.add_row([source_id, info.publisher, info.title, info.date, info.url, info.note])
    sheet.add_row([])
    sheet.add_row([f"Offence counts: ONS police-recorded crime. {OFFENCE_GROUP_CAVEAT} {ONS_SOURCE}"])
    return sheet


def scenario_workbook(result: ScenarioResult, scenario: Scenario | None = None) -> bytes:
    """Inputs, Results and Sources sheets as XLSX bytes; formula-like text stays inert text."""
    scenario = scenario or result.scenario
    return xlsx_bytes([_inputs_sheet(scenario), _results_sheet(result, scenario), _sources_sheet(scenario)])
