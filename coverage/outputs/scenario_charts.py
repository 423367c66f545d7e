"""Altair charts and their words for the Scenario planner: cost by year, FTE by role and agency,
the tornado of one-way sensitivities, and scenarios side by side.

Each builder takes the tables ``coverage.planner.costing`` returns and a ``ChartText`` (title, subtitle with
measure, unit, period and price base, takeaway, source), and returns a chart that carries all of that
text inside the image, so a PNG or SVG exported with vl-convert stands alone. The ``*_text`` helpers
write those words from the numbers, so the sentence on the page and the one in the chart agree.

Colours are the UK Government Analysis Function palettes (afcharts 1.2). Colour is never the only
cue: lines also differ in dash and point shape, bars carry their category in the axis label and their
value as text.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any, Protocol, cast

import altair as alt
import pandas as pd

from coverage.outputs.charts import AF_DARK_BLUE, AF_ORANGE, AF_TEXT, FONT, ChartText
from coverage.outputs.charts import titled as _titled
from coverage.vocabulary import OGL_V3

__all__ = [
    "AF_CATEGORICAL",
    "AGENCY_LABELS",
    "comparison_chart",
    "comparison_text",
    "cost_by_year_chart",
    "cost_by_year_text",
    "fte_by_role_chart",
    "fte_by_role_table",
    "fte_text",
    "money",
    "money_axis",
    "offence_source",
    "source_line",
    "tornado_chart",
    "tornado_text",
]

# afcharts 1.2 "categorical" palette, in its order (tests check it against the package).
AF_CATEGORICAL = ("#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1")

AGENCY_LABELS = {
    "police": "Police",
    "probation": "Probation",
    "nhs": "NHS",
    "voluntary": "Voluntary sector",
    "cps": "CPS",
    "other": "Other",
}


def offence_source(demand: str) -> str:
    """The demand sentence of a chart's source: the offences the scenario's referral rate was applied to
    (``coverage.planner.schema.demand_description``), or nothing when it has no rate."""
    return f"Demand: {demand} (Home Office / ONS, {OGL_V3})." if demand else ""


# --------------------------------------------------------------------------------------------
# Words and numbers
# --------------------------------------------------------------------------------------------


def money(value: float | None, *, exact: bool = False) -> str:
    """£ with a sensible unit: £12.3m, £846k, £2,713. ``exact`` gives whole pounds."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "not available"
    sign = "−" if value < 0 else ""
    v = abs(float(value))
    if exact:
        return f"{sign}£{v:,.0f}"
    if v >= 1e9:
        return f"{sign}£{v / 1e9:,.2f}bn"
    if v >= 1e6:
        return f"{sign}£{v / 1e6:,.{2 if v < 1e7 else 1}f}m"
    if v >= 1e4:
        return f"{sign}£{v / 1e3:,.0f}k"
    return f"{sign}£{v:,.0f}"


def money_axis(max_value: float) -> tuple[float, str]:
    """Divisor and unit word for a money axis whose largest value is ``max_value``."""
    if max_value >= 1e6:
        return 1e6, "£ million"
    if max_value >= 1e3:
        return 1e3, "£ thousand"
    return 1.0, "£"


def source_line(scenario_name: str, price_base: str, *, demand: str = "") -> str:
    text = (
        f"Source: Stalking Provision Atlas cost model, scenario '{scenario_name}', {price_base}. "
        "Every input and its source or assumption is in the scenario file (sources: data/scenarios/SOURCES.md)."
    )
    return (text + " " + offence_source(demand)).strip()


# --------------------------------------------------------------------------------------------
# Cost by year: nominal and real apart
# --------------------------------------------------------------------------------------------


def _real_label(price_base: str) -> str:
    return f"Real ({price_base})"


NOMINAL_LABEL = "Nominal (cash)"


def cost_by_year_text(by_year: pd.DataFrame, price_base: str, scenario_name: str, *, demand: str = "") -> ChartText:
    first, last = by_year.iloc[0], by_year.iloc[-1]
    # by_year has a RangeIndex (one row a year): idxmax is an int label, and its row a Series
    peak = cast("pd.Series[Any]", by_year.loc[cast(int, by_year["cost_real"].idxmax())]) if len(by_year) else first
    takeaway = (
        f"In cash, the cost goes from {money(first['cost_nominal'])} in {first['fiscal_year']} to "
        f"{money(last['cost_nominal'])} in {last['fiscal_year']}, {money(by_year['cost_nominal'].sum())} in all. "
        f"At {price_base} the highest year is {peak['fiscal_year']} at {money(peak['cost_real'])}, and the total is "
        f"{money(by_year['cost_real'].sum())}."
    )
    return ChartText(
        title="Cost of the new units each year, in cash and in real terms",
        subtitle=(
            f"£ a year, {first['fiscal_year']} to {last['fiscal_year']}. Nominal = cash in each year; "
            f"real = at {price_base}."
        ),
        takeaway=takeaway,
        source=source_line(scenario_name, price_base, demand=demand),
    )


def cost_by_year_chart(
    by_year: pd.DataFrame, *, price_base: str, text: ChartText, width: int = 480
) -> alt.VConcatChart:
    """Two lines, nominal and real, told apart by colour, dash and point shape (and the legend)."""
    real = _real_label(price_base)
    long = pd.concat(
        [
            pd.DataFrame(
                {"fiscal_year": by_year["fiscal_year"], "measure": NOMINAL_LABEL, "value": by_year["cost_nominal"]}
            ),
            pd.DataFrame({"fiscal_year": by_year["fiscal_year"], "measure": real, "value": by_year["cost_real"]}),
        ],
        ignore_index=True,
    )
    divisor, unit = money_axis(float(long["value"].max()) if len(long) else 0.0)
    long["scaled"] = long["value"] / divisor
    long["label"] = long["value"].map(money)
    domain = [NOMINAL_LABEL, real]
    legend = alt.Legend(title=None, orient="top", direction="horizontal", symbolStrokeWidth=2.5, symbolSize=90)
    base = alt.Chart(long).encode(
        x=alt.X(
            "fiscal_year:O", title="Financial year", sort=list(by_year["fiscal_year"]), axis=alt.Axis(labelAngle=0)
        ),
        y=alt.Y(
            "scaled:Q",
            title=f"Cost a year ({unit})",
            axis=alt.Axis(format=",.1f", grid=True, gridColor="#E5E5E5"),
            scale=alt.Scale(zero=True),
        ),
        color=alt.Color("measure:N", scale=alt.Scale(domain=domain, range=[AF_DARK_BLUE, AF_ORANGE]), legend=legend),
        tooltip=[
            alt.Tooltip("fiscal_year:O", title="Year"),
            alt.Tooltip("measure:N", title="Measure"),
            alt.Tooltip("label:N", title="Cost"),
        ],
    )
    lines = base.mark_line(strokeWidth=2.5).encode(
        strokeDash=alt.StrokeDash("measure:N", scale=alt.Scale(domain=domain, range=[[1, 0], [6, 4]]), legend=legend)
    )
    points = base.mark_point(size=60, filled=True).encode(
        shape=alt.Shape("measure:N", scale=alt.Scale(domain=domain, range=["circle", "square"]), legend=legend)
    )
    chart = alt.layer(lines, points).properties(width=width, height=260)
    return _titled(chart, text, width)


# --------------------------------------------------------------------------------------------
# FTE by role and agency
# --------------------------------------------------------------------------------------------


def fte_by_role_table(by_role: pd.DataFrame) -> pd.DataFrame:
    """Staff roles only: role, agency (as words) and steady-state FTE, grouped by agency, largest first."""
    staff = by_role[by_role["line_type"].astype(str) == "staff"].copy()
    staff["agency_label"] = staff["agency"].astype(str).map(AGENCY_LABELS).fillna(staff["agency"].astype(str))
    agency_total = staff.groupby("agency_label", observed=True)["fte"].transform("sum")
    staff = staff.assign(_agency_total=agency_total).sort_values(
        ["_agency_total", "agency_label", "fte"], ascending=[False, True, False], kind="stable"
    )
    return staff[["role", "agency", "agency_label", "fte"]].reset_index(drop=True)


def fte_text(
    by_role: pd.DataFrame,
    by_agency: pd.DataFrame,
    scenario_name: str,
    price_base: str,
    forces_covered: int,
    *,
    demand: str = "",
) -> ChartText:
    staff = fte_by_role_table(by_role)
    total = float(staff["fte"].sum())
    if total <= 0:
        takeaway = "This scenario has no staff posts: its costs are fixed lines and non-pay only."
    else:
        top = staff.loc[cast(int, staff["fte"].idxmax())]  # fte_by_role_table resets the index: an int label
        agencies = staff.groupby("agency_label", observed=True)["fte"].sum().sort_values(ascending=False)
        lead, lead_fte = agencies.index[0], float(agencies.iloc[0])
        takeaway = (
            f"{total:,.1f} FTE in all when every unit is fully staffed. The largest role is {top['role']} "
            f"({top['agency_label']}, {top['fte']:,.1f} FTE); {lead} employs {lead_fte / total:.0%} of the FTE."
        )
    return ChartText(
        title="Staff needed, by role and employing agency",
        subtitle=(
            f"Full-time equivalent (FTE) posts when every unit is fully staffed, {forces_covered} force "
            f"area{'s' if forces_covered != 1 else ''}; demand-driven roles = referrals a year ÷ caseload, not rounded."
        ),
        takeaway=takeaway,
        source=source_line(scenario_name, price_base, demand=demand),
    )


def fte_by_role_chart(by_role: pd.DataFrame, *, text: ChartText, width: int = 520) -> alt.VConcatChart:
    """Horizontal bars, one per role, each named above its bar with its agency; the FTE is written at its end."""
    staff = fte_by_role_table(by_role)
    staff["bar"] = staff["role"].astype(str) + " (" + staff["agency_label"] + ")"
    staff["value_label"] = staff["fte"].map(lambda v: f"{v:,.1f} FTE")
    present = [AGENCY_LABELS[a] for a in AGENCY_LABELS if AGENCY_LABELS[a] in set(staff["agency_label"])]
    colours = [AF_CATEGORICAL[list(AGENCY_LABELS.values()).index(a) % len(AF_CATEGORICAL)] for a in present]
    max_fte = float(staff["fte"].max()) if len(staff) else 1.0
    base = alt.Chart(staff).encode(
        y=alt.Y(
            "bar:N", sort=list(staff["bar"]), title=None, axis=None, scale=alt.Scale(paddingInner=0, paddingOuter=0)
        ),
        tooltip=[
            alt.Tooltip("role:N", title="Role"),
            alt.Tooltip("agency_label:N", title="Agency"),
            alt.Tooltip("fte:Q", title="FTE", format=",.2f"),
        ],
    )
    x = alt.X(
        "fte:Q",
        title="FTE (full-time equivalent posts)",
        scale=alt.Scale(domain=[0, max_fte * 1.2 or 1]),
        axis=alt.Axis(format=",.1~f", grid=True, gridColor="#E5E5E5", tickCount=6),
    )
    bars = base.mark_bar(height=14, yOffset=7).encode(
        x=x,
        color=alt.Color(
            "agency_label:N",
            scale=alt.Scale(domain=present, range=colours),
            legend=alt.Legend(title="Agency", orient="top", direction="horizontal"),
        ),
    )
    names = base.mark_text(align="left", baseline="bottom", yOffset=-2, fontSize=11, color=AF_TEXT, font=FONT).encode(
        x=alt.value(0), text="bar:N"
    )
    values = base.mark_text(align="left", dx=4, yOffset=7, fontSize=11, color="#000000", font=FONT).encode(
        x=x, text="value_label:N"
    )
    chart = alt.layer(bars, names, values).properties(width=width, height=alt.Step(40))
    return _titled(chart, text, width)


# --------------------------------------------------------------------------------------------
# Tornado: one-way sensitivity of the present value
# --------------------------------------------------------------------------------------------

LOW_SIDE = "Lower input"
HIGH_SIDE = "Higher input"


class _TornadoRow(Protocol):
    """The columns of a ``coverage.planner.sensitivity.tornado`` row (from ``itertuples``) that the chart reads."""

    label: str
    low_input: str
    high_input: str
    pv_low: float
    pv_high: float
    base_pv: float


def tornado_text(
    frame: pd.DataFrame,
    scenario_name: str,
    price_base: str,
    discount_rate: float,
    horizon_years: int,
    swing: float = 0.2,
    *,
    demand: str = "",
) -> ChartText:
    if frame.empty:
        takeaway = "No assumptions were tested."
    else:
        base = float(frame["base_pv"].iloc[0])
        moving = frame[frame["range"] > 1e-6 * max(abs(base), 1.0)]
        still = [str(x) for x in frame.loc[~frame.index.isin(moving.index), "label"]]
        if moving.empty:
            takeaway = f"None of these assumptions changes the present value of {money(base)}."
        else:
            top = moving.iloc[0]
            takeaway = (
                f"The present value of {money(base)} is most sensitive to {top['label']}: "
                f"{money(top['pv_min'])} to {money(top['pv_max'])}."
            )
            if len(moving) > 1:
                second = moving.iloc[1]
                takeaway += f" Next comes {second['label']}: {money(second['pv_min'])} to {money(second['pv_max'])}."
        if still:
            takeaway += f" No effect in this scenario: {'; '.join(still)}."
    return ChartText(
        title="Which assumptions move the total most",
        subtitle=(
            f"Present value over {horizon_years} years, £, {price_base}, discounted at {discount_rate:.1%}; each "
            f"assumption moved ±{swing:.0%} on its own (optimism bias ±{swing * 100:.0f} points, never below 0)."
        ),
        takeaway=takeaway,
        source=source_line(scenario_name, price_base, demand=demand),
    )


def tornado_chart(frame: pd.DataFrame, *, text: ChartText, width: int = 520) -> alt.VConcatChart:
    """Bars from the base present value to its value at the low and the high input, largest range on top.

    Each assumption is named above its bars, and each bar end is labelled with its input (×0.8, 20%, …)
    and the present value, so the two sides are told apart by words as well as colour.
    """
    tol = 1e-6 * max(abs(float(frame["base_pv"].iloc[0])), 1.0) if len(frame) else 1e-6
    rows = []
    for r in cast(Iterator[_TornadoRow], frame.itertuples(index=False)):
        flat_lo, flat_hi = abs(r.pv_low - r.base_pv) <= tol, abs(r.pv_high - r.base_pv) <= tol
        lo_text = f"{r.low_input}: {money(r.pv_low)}" if not flat_lo else f"{r.low_input}: no change"
        hi_text = f"{r.high_input}: {money(r.pv_high)}" if not flat_hi else f"{r.high_input}: no change"
        if flat_lo and flat_hi:
            lo_text, hi_text = "no effect in this scenario", ""
        rows.append({"label": r.label, "side": LOW_SIDE, "start": r.base_pv, "end": r.pv_low, "text": lo_text})
        rows.append({"label": r.label, "side": HIGH_SIDE, "start": r.base_pv, "end": r.pv_high, "text": hi_text})
    data = pd.DataFrame(rows, columns=["label", "side", "start", "end", "text"])
    base_pv = float(frame["base_pv"].iloc[0]) if len(frame) else 0.0
    divisor, unit = money_axis(float(data[["start", "end"]].abs().to_numpy().max()) if len(data) else 0.0)
    data["start_s"] = data["start"] / divisor
    data["end_s"] = data["end"] / divisor
    flat = (data["end"] - data["start"]).abs() <= tol
    # a flat lower side is written to the left of the base line, so it never sits on the other bar
    data["goes_down"] = (data["end"] < data["start"] - tol) | (
        flat & (data["side"] == LOW_SIDE) & (data["text"] != "no effect in this scenario")
    )
    order = list(frame["label"])
    lo = min(float(data["end_s"].min()), base_pv / divisor) if len(data) else 0.0
    hi = max(float(data["end_s"].max()), base_pv / divisor) if len(data) else 1.0
    pad = (hi - lo) * 0.5 or max(abs(hi), 1.0) * 0.3
    x_scale = alt.Scale(domain=[max(lo - pad, 0.0), hi + pad], zero=False, nice=False)
    y = alt.Y("label:N", sort=order, title=None, axis=None, scale=alt.Scale(paddingInner=0, paddingOuter=0))
    enc = alt.Chart(data).encode(y=y)
    bars = enc.mark_bar(height=16, yOffset=8).encode(
        x=alt.X(
            "start_s:Q",
            title=f"Present value ({unit}, {text_price_hint(text)})",
            scale=x_scale,
            axis=alt.Axis(format=",.1f", grid=True, gridColor="#E5E5E5", tickCount=6),
        ),
        x2="end_s:Q",
        color=alt.Color(
            "side:N",
            scale=alt.Scale(domain=[LOW_SIDE, HIGH_SIDE], range=[AF_DARK_BLUE, AF_ORANGE]),
            legend=alt.Legend(title=None, orient="top", direction="horizontal"),
        ),
        tooltip=[alt.Tooltip("label:N", title="Assumption"), alt.Tooltip("text:N", title="Input: present value")],
    )
    names = (
        enc.transform_filter(alt.datum.side == LOW_SIDE)
        .mark_text(align="left", baseline="bottom", yOffset=-2, fontSize=11, color=AF_TEXT, font=FONT)
        .encode(x=alt.value(0), text="label:N")
    )
    left = (
        enc.transform_filter(alt.datum.goes_down)
        .mark_text(align="right", dx=-4, yOffset=8, fontSize=10, color="#000000", font=FONT)
        .encode(x=alt.X("end_s:Q", scale=x_scale), text="text:N")
    )
    right = (
        enc.transform_filter(~alt.datum.goes_down)
        .mark_text(align="left", dx=4, yOffset=8, fontSize=10, color="#000000", font=FONT)
        .encode(x=alt.X("end_s:Q", scale=x_scale), text="text:N")
    )
    rule_data = pd.DataFrame({"x": [base_pv / divisor], "label": [f"Base {money(base_pv)}"]})
    rule = alt.Chart(rule_data).mark_rule(color=AF_TEXT, strokeDash=[4, 3]).encode(x=alt.X("x:Q", scale=x_scale))
    rule_label = (
        alt.Chart(rule_data)
        .mark_text(align="left", baseline="top", dx=4, dy=2, fontSize=10, color=AF_TEXT, font=FONT)
        .encode(x=alt.X("x:Q", scale=x_scale), y=alt.value(0), text="label:N")
    )
    chart = alt.layer(bars, names, left, right, rule, rule_label).properties(width=width, height=alt.Step(44))
    return _titled(chart, text, width)


def text_price_hint(text: ChartText) -> str:
    """The price base named in a subtitle ('2024/25 prices'), for axis titles."""
    for part in text.subtitle.split(","):
        if "prices" in part:
            return part.strip()
    return "real"


# --------------------------------------------------------------------------------------------
# Scenarios side by side
# --------------------------------------------------------------------------------------------


def comparison_text(summary: pd.DataFrame, price_bases: Sequence[str], demands: Sequence[str] = ()) -> ChartText:
    """``summary`` has one row per scenario: label, present_value, total_cost_nominal, fte_total, horizon_years."""
    ordered = summary.sort_values("present_value", ascending=False)
    top, bottom = ordered.iloc[0], ordered.iloc[-1]
    if len(ordered) == 1:
        takeaway = f"{top['label']}: present value {money(top['present_value'])}. Add scenarios to compare them."
    else:
        ratio = (top["present_value"] / bottom["present_value"]) if bottom["present_value"] else None
        takeaway = (
            f"{top['label']} costs most ({money(top['present_value'])} present value) and {bottom['label']} least "
            f"({money(bottom['present_value'])})" + (f": {ratio:,.1f} times as much." if ratio else ".")
        )
    bases = sorted(set(price_bases))
    warning = "" if len(bases) <= 1 else " Price bases differ, so the figures are not directly comparable."
    horizons = sorted({int(h) for h in summary["horizon_years"]})
    horizon_text = (
        f"{horizons[0]} years"
        if len(horizons) == 1
        else "horizons of " + ", ".join(f"{h}" for h in horizons) + " years"
    )
    return ChartText(
        title="Scenarios side by side: present value of their costs",
        subtitle=f"Present value, £, {', '.join(bases)}, over {horizon_text}; cash totals and FTE in the labels.{warning}",
        takeaway=takeaway,
        source=(
            "Source: Stalking Provision Atlas cost model; each scenario's inputs and their sources are in its scenario "
            "file (data/scenarios/SOURCES.md). "
            + (
                offence_source(next(iter(set(demands))))
                if len(set(demands)) == 1
                else "Demand: each scenario's own offences (its file says which)."
                if demands
                else ""
            )
        ),
    )


def comparison_chart(summary: pd.DataFrame, *, text: ChartText, width: int = 520) -> alt.VConcatChart:
    """One bar per scenario (present value), named above the bar; PV, cash total and FTE written at its end."""
    data = summary.copy()
    divisor, unit = money_axis(float(data["present_value"].max()) if len(data) else 0.0)
    data["pv_s"] = data["present_value"] / divisor
    data["value_label"] = [
        f"PV {money(pv)} · cash {money(nom)} · {fte:,.1f} FTE"
        for pv, nom, fte in zip(data["present_value"], data["total_cost_nominal"], data["fte_total"])
    ]
    max_s = float(data["pv_s"].max()) if len(data) else 1.0
    x = alt.X(
        "pv_s:Q",
        title=f"Present value ({unit})",
        scale=alt.Scale(domain=[0, max_s * 1.8 or 1]),
        axis=alt.Axis(format=",.1f", grid=True, gridColor="#E5E5E5", tickCount=5),
    )
    base = alt.Chart(data).encode(
        y=alt.Y(
            "label:N", sort=list(data["label"]), title=None, axis=None, scale=alt.Scale(paddingInner=0, paddingOuter=0)
        ),
        tooltip=[alt.Tooltip("label:N", title="Scenario"), alt.Tooltip("value_label:N", title="Totals")],
    )
    bars = base.mark_bar(height=18, yOffset=9, color=AF_DARK_BLUE).encode(x=x)
    names = base.mark_text(align="left", baseline="bottom", yOffset=-2, fontSize=11, color=AF_TEXT, font=FONT).encode(
        x=alt.value(0), text="label:N"
    )
    labels = base.mark_text(align="left", dx=4, yOffset=9, fontSize=11, color="#000000", font=FONT).encode(
        x=x, text="value_label:N"
    )
    chart = alt.layer(bars, names, labels).properties(width=width, height=alt.Step(48))
    return _titled(chart, text, width)
