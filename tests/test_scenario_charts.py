"""Scenario planner charts stand alone: title, subtitle, takeaway and source are inside the SVG that
vl-convert writes; colours are the Analysis Function palettes and never the only cue."""

from __future__ import annotations

import html

import pandas as pd
import pytest
import vl_convert as vlc
from afcharts.af_colours import get_af_colours

from coverage import paths
from coverage.model.forces import read_force_table
from coverage.outputs import scenario_charts as sc
from coverage.planner.costing import run_scenario, with_deployments
from coverage.planner.schema import demand_description, load_preset, scenario_from_dict, scenario_to_dict
from coverage.planner.sensitivity import tornado

KENT, DORSET, CHESHIRE = "E23000032", "E23000039", "E23000006"
FACTORS = ("salaries", "oncosts", "caseload", "referral_rate", "optimism_bias")


@pytest.fixture(scope="module")
def forces():
    return read_force_table(paths.FORCES_CSV)


@pytest.fixture(scope="module")
def offences(forces):
    """Plausible police-recorded stalking (8Q) counts: about 3 a year per 1,000 people aged 16+."""
    return {c: float(p) * 0.003 for c, p in zip(forces["code"], forces["pop_mid2023_16plus"])}


@pytest.fixture(scope="module")
def result(forces, offences):
    scenario = with_deployments(load_preset("cheshire_hru_like"), [KENT, DORSET])
    return scenario, run_scenario(scenario, forces, offences)


def svg_text(chart) -> str:
    """The SVG that vl-convert writes, with entities decoded."""
    return html.unescape(vlc.vegalite_to_svg(chart.to_json()))


def words_in(svg: str, sentence: str) -> bool:
    """Every word of a sentence appears in the SVG (it may be wrapped onto several lines)."""
    return all(word in svg for word in sentence.split())


def test_palette_is_the_analysis_function_categorical_palette():
    assert list(sc.AF_CATEGORICAL) == [c.upper() for c in get_af_colours("categorical")]


def test_money_uses_sensible_units():
    assert sc.money(9_098_530.7) == "£9.10m"
    assert sc.money(146_500_000) == "£146.5m"
    assert sc.money(846_382) == "£846k"
    assert sc.money(2_712.76) == "£2,713"
    assert sc.money(2_712.76, exact=True) == "£2,713"
    assert sc.money(1.2e9) == "£1.20bn"
    assert sc.money(None) == "not available"


def test_cost_by_year_chart_carries_its_text_and_tells_nominal_from_real(result):
    scenario, r = result
    text = sc.cost_by_year_text(r.by_year, r.price_base, scenario.name, demand=demand_description(scenario))
    chart = sc.cost_by_year_chart(r.by_year, price_base=r.price_base, text=text)
    svg = svg_text(chart)
    assert text.title in svg
    assert words_in(svg, text.subtitle) and "2024/25 prices" in svg
    assert words_in(svg, text.takeaway) and "In cash, the cost goes from" in svg
    assert words_in(svg, text.source) and "Stalking Provision Atlas cost model" in svg
    assert "Open Government" in svg
    # the two series are named in a legend and drawn with different dashes and shapes
    assert "Nominal (cash)" in svg and "Real (2024/25 prices)" in svg
    spec = chart.to_dict()
    layer = spec["vconcat"][0]["layer"]
    assert layer[0]["encoding"]["strokeDash"]["field"] == "measure"
    assert layer[1]["encoding"]["shape"]["field"] == "measure"
    assert sc.money(r.by_year["cost_nominal"].sum()) in text.takeaway


def test_fte_chart_names_each_role_with_its_agency_and_value(result):
    scenario, r = result
    text = sc.fte_text(
        r.by_role,
        r.by_agency,
        scenario.name,
        r.price_base,
        r.totals["forces_covered"],
        demand=demand_description(scenario),
    )
    chart = sc.fte_by_role_chart(r.by_role, text=text)
    svg = svg_text(chart)
    assert text.title in svg and words_in(svg, text.takeaway) and words_in(svg, text.source)
    assert "Detective constable (Police)" in svg and "Probation officer (Probation)" in svg
    staff = sc.fte_by_role_table(r.by_role)
    assert f"{staff['fte'].iloc[0]:,.1f} FTE" in svg
    assert "Unit non-pay" not in svg  # non-pay lines have no staff
    assert f"{staff['fte'].sum():,.1f} FTE in all" in text.takeaway


def test_tornado_chart_labels_both_ends_and_the_base(result, forces, offences):
    scenario, r = result
    frame = tornado(scenario, forces, offences, factors=FACTORS)
    text = sc.tornado_text(frame, scenario.name, r.price_base, 0.035, 10, demand=demand_description(scenario))
    chart = sc.tornado_chart(frame, text=text)
    svg = svg_text(chart)
    assert text.title in svg and words_in(svg, text.takeaway) and words_in(svg, text.source)
    # each assumption is named as in the table where it is edited (coverage.planner.editing.SETTING_NAMES)
    assert "Salary (£ a year), all roles" in svg and "×0.8: " in svg and "×1.2: " in svg
    assert "On-costs (% of salary), all roles" in svg
    assert f"Base {sc.money(frame['base_pv'].iloc[0])}" in svg
    assert "Lower input" in svg and "Higher input" in svg
    assert "0%: no change" in svg  # optimism bias cannot go below 0
    assert "most sensitive to" in text.takeaway


def test_tornado_says_which_assumptions_have_no_effect(forces, offences):
    scenario = load_preset("met_stac_like")  # fixed posts only: caseload and referrals change nothing
    frame = tornado(scenario, forces, offences, factors=FACTORS)
    text = sc.tornado_text(frame, scenario.name, "2024/25 prices", 0.035, 10)
    assert "No effect in this scenario: Referrals a year per FTE, demand-driven roles; Referral rate." in text.takeaway
    svg = svg_text(sc.tornado_chart(frame, text=text))
    assert "no effect in this scenario" in svg


def test_comparison_chart_carries_its_text(result):
    scenario, r = result
    summary = pd.DataFrame(
        [
            {
                "label": "Kent and Dorset",
                "present_value": r.totals["present_value"],
                "total_cost_nominal": r.totals["total_cost_nominal"],
                "fte_total": r.totals["fte_total"],
                "horizon_years": 10,
            },
            {
                "label": "Cheshire <b>only</b>",
                "present_value": 6.7e6,
                "total_cost_nominal": 9.1e6,
                "fte_total": 11.0,
                "horizon_years": 10,
            },
        ]
    )
    text = sc.comparison_text(summary, ["2024/25 prices", "2024/25 prices"])
    chart = sc.comparison_chart(summary, text=text)
    raw = vlc.vegalite_to_svg(chart.to_json())
    svg = html.unescape(raw)
    assert text.title in svg and words_in(svg, text.takeaway) and words_in(svg, text.source)
    assert "Kent and Dorset costs most" in text.takeaway
    assert "PV £6.70m · cash £9.10m · 11.0 FTE" in svg
    assert "Cheshire &lt;b&gt;only&lt;/b&gt;" in raw  # names are text, never markup
    mixed = sc.comparison_text(summary, ["2024/25 prices", "2020/21 prices"])
    assert "Price bases differ" in mixed.subtitle


def test_a_scenario_with_no_staff_still_draws(forces):
    scenario = load_preset("london_2020_21_grants")  # fixed-cost lines only
    r = run_scenario(scenario, forces, None)
    text = sc.fte_text(r.by_role, r.by_agency, scenario.name, r.price_base, 1)
    assert "no staff posts" in text.takeaway
    svg = svg_text(sc.fte_by_role_chart(r.by_role, text=text))
    assert text.title in svg
    year_text = sc.cost_by_year_text(r.by_year, r.price_base, scenario.name)
    assert year_text.title in svg_text(sc.cost_by_year_chart(r.by_year, price_base=r.price_base, text=year_text))


def test_a_regional_unit_draws_with_its_forces_named(forces, offences):
    data = scenario_to_dict(load_preset("cheshire_hru_like"))
    wales = list(forces.loc[forces["region"] == "Wales", "code"])
    data["deployments"] = [{"forces": wales, "unit_model": "cheshire_hru_like", "name": "Wales-wide unit"}]
    scenario = scenario_from_dict(data)
    r = run_scenario(scenario, forces, offences)
    text = sc.fte_text(
        r.by_role,
        r.by_agency,
        scenario.name,
        r.price_base,
        r.totals["forces_covered"],
        demand=demand_description(scenario),
    )
    assert f"{sc.fte_by_role_table(r.by_role)['fte'].sum():,.1f} FTE in all" in text.takeaway
    svg = svg_text(sc.fte_by_role_chart(r.by_role, text=text))
    assert text.title in svg and "Detective constable (Police)" in svg
    year_text = sc.cost_by_year_text(r.by_year, r.price_base, scenario.name)
    assert sc.money(r.totals["total_cost_nominal"]) in year_text.takeaway


def test_the_chart_source_names_the_offences_the_scenario_was_costed_on(result):
    scenario, r = result
    rate = scenario.demand.referral_rate
    assert rate.offence_code == "8Q" and rate.offences_period == "YE Dec 2018"
    source = sc.cost_by_year_text(r.by_year, r.price_base, scenario.name, demand=demand_description(scenario)).source
    assert "December 2023" not in source and "'Stalking and harassment' group" not in source
    assert "8Q" in source or "stalking offences" in source


def test_long_text_is_wrapped_inside_the_chart_width():
    from coverage.outputs.charts import wrap_lines

    lines = wrap_lines("word " * 200, 520, 11)
    assert len(lines) > 5 and all(len(line) <= 91 for line in lines)
