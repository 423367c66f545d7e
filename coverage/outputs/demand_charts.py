"""The demand trend chart: a force, its region or country and England and Wales over the years.

Each line is told apart by colour, by its dash and by its name written at its last point, so colour
is never the only cue. For stalking (8Q) the April 2018 and April 2020 counting-rule changes are
drawn as labelled rules and the years before the first comparable year are shaded, so nobody reads
a recording change as a rise in stalking.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from coverage.model.demand import RATE_ALL_AGES_LABEL
from coverage.outputs.charts import AF_DARK_BLUE, AF_ORANGE, AF_TEXT, FONT, ChartText, titled
from coverage.vocabulary import COUNTING_RULE_BREAKS, FIRST_COMPARABLE_YEAR, Measure

# afcharts 1.2 categorical palette, first three: dark blue, orange, turquoise (also dashed differently).
LINE_COLOURS = (AF_ORANGE, AF_DARK_BLUE, "#28A197")
LINE_DASHES = ([1, 0], [6, 3], [2, 2])


def trend_chart(rows: pd.DataFrame, *, measure: Measure, text: ChartText, width: int = 460) -> alt.VConcatChart:
    """``rows`` is ``demand.trend(...)``: one line per area, rate per 1,000 population (all ages) by year."""
    names = list(dict.fromkeys(rows["name"]))
    data = rows.assign(year=rows["year_ending"].astype(int))
    last = data.sort_values("year").groupby("name", sort=False).tail(1)
    first_year, last_year = int(data["year"].min()), int(data["year"].max())
    # Every layer shares one x scale (a rule or band alone would otherwise pull zero into it).
    scale = alt.Scale(domain=[first_year - 0.3, last_year + 2], zero=False, nice=False)  # room for names at the right
    x = alt.X(
        "year:Q",
        title="Year ending December",
        scale=scale,
        axis=alt.Axis(format="d", tickMinStep=1, grid=False, values=list(range(first_year, last_year + 1))),
    )
    y = alt.Y("rate_all_ages:Q", title=f"Offences {RATE_ALL_AGES_LABEL}", axis=alt.Axis(format=".1f"))
    colour = alt.Color("name:N", scale=alt.Scale(domain=names, range=list(LINE_COLOURS[: len(names)])), legend=None)
    dash = alt.StrokeDash("name:N", scale=alt.Scale(domain=names, range=list(LINE_DASHES[: len(names)])), legend=None)
    lines = (
        alt.Chart(data)
        .mark_line(point=True, strokeWidth=2)
        .encode(
            x=x,
            y=y,
            color=colour,
            strokeDash=dash,
            tooltip=[
                alt.Tooltip("name:N", title="Area"),
                alt.Tooltip("period:N", title="Period"),
                alt.Tooltip("offences:Q", title="Offences", format=","),
                alt.Tooltip("rate_all_ages:Q", title="Per 1,000 population", format=".2f"),
            ],
        )
    )
    end_labels = (
        alt.Chart(last)
        .mark_text(align="left", dx=6, fontSize=10, font=FONT)
        .encode(x=x, y=y, text="name:N", color=colour)
    )
    layers: list[alt.Chart] = [lines, end_labels]
    if measure.key == "stalking":
        breaks = pd.DataFrame(
            [
                {"year": year - 0.5, "label": f"Apr {year}: rules changed"}
                for year, _ in COUNTING_RULE_BREAKS
                if first_year < year <= last_year
            ]
        )
        if not breaks.empty:
            rules = alt.Chart(breaks).mark_rule(strokeDash=[4, 4], color=AF_TEXT).encode(x=alt.X("year:Q", scale=scale))
            # Each label one line below the last, so neighbouring rules never overprint each other.
            rule_labels = [
                alt.Chart(breaks.iloc[[index]])
                .mark_text(align="left", baseline="top", dx=3, fontSize=9, color=AF_TEXT, font=FONT)
                .encode(x=alt.X("year:Q", scale=scale), y=alt.value(2 + 13 * index), text="label:N")
                for index in range(len(breaks))
            ]
            shade = (
                alt.Chart(pd.DataFrame({"start": [first_year - 0.3], "end": [FIRST_COMPARABLE_YEAR - 0.5]}))
                .mark_rect(color="#E6E6E6", opacity=0.5)
                .encode(x=alt.X("start:Q", scale=scale), x2="end:Q")
            )
            layers = [shade, rules, *layers, *rule_labels]
    chart = alt.layer(*layers).properties(width=width, height=260)
    return titled(chart, text, width)


def trend_takeaway(rows: pd.DataFrame, measure: Measure, area_name: str) -> str:
    """One sentence on the force's own line, saying where the series stops being comparable."""
    own = rows[rows["name"] == area_name].sort_values("year_ending")
    if own.empty:
        return f"No recorded {measure.noun} for {area_name}."
    latest = own.iloc[-1]
    if measure.key == "stalking" and int(own["year_ending"].min()) < FIRST_COMPARABLE_YEAR:
        base = own[own["year_ending"] == FIRST_COMPARABLE_YEAR]
        since = ""
        if not base.empty and int(latest["year_ending"]) > FIRST_COMPARABLE_YEAR:
            before, after = float(base.iloc[0]["offences"]), float(latest["offences"])
            word = "rose" if after > before else "fell" if after < before else "stayed"
            since = (
                f" Since {FIRST_COMPARABLE_YEAR}, the first comparable year, it {word} from {int(before):,} to "
                f"{int(after):,} offences."
            )
        return (
            f"Recorded stalking in {area_name} climbed steeply up to {FIRST_COMPARABLE_YEAR} mostly because the "
            f"counting rules changed in April 2018 and April 2020, not because stalking rose as fast.{since}"
        )
    first = own.iloc[0]
    return (
        f"{area_name} recorded {int(first['offences']):,} {measure.noun} in {int(first['year_ending'])} and "
        f"{int(latest['offences']):,} in {int(latest['year_ending'])}."
    )
