"""Altair chart builders. Each chart carries its title, subtitle (measure, unit, period), takeaway,
source and licence inside the image, so a PNG or SVG export stands alone.

Colours are the UK Government Analysis Function palettes (afcharts 1.2); the highlighted bar is
also labelled with its name and value, so colour is never the only cue.
"""

from __future__ import annotations

import copy
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import altair as alt
import pandas as pd

# afcharts 1.2: "focus" palette (dark blue, grey) and the "duo" orange for the highlighted item.
AF_DARK_BLUE = "#12436D"
AF_GREY = "#BFBFBF"
AF_ORANGE = "#F46A25"
AF_TEXT = "#3D3D3D"
# Liberation Sans is metric-compatible with Arial and ships with Debian (fonts-liberation).
FONT = "Liberation Sans, Arial, DejaVu Sans, sans-serif"


@dataclass(frozen=True)
class ChartText:
    title: str
    subtitle: str
    takeaway: str
    source: str

    def footer_lines(self) -> list[str]:
        return [self.takeaway, self.source] if self.takeaway else [self.source]


def wrap_lines(text: str, width_px: int, font_px: float) -> list[str]:
    """Wrap text to a chart's width (an average Liberation Sans character is about half its size)."""
    chars = max(20, int(width_px / (font_px * 0.52)))
    return textwrap.wrap(text, chars, break_long_words=True) or [""]


def _footer(text: ChartText, width: int) -> alt.Chart:
    lines = [part for line in text.footer_lines() for part in wrap_lines(line, width, 11)]
    frame = pd.DataFrame({"line": lines, "row": range(len(lines))})
    # Altair's mark_* methods return Self, but their signature-copying decorator erases it to Any.
    footer: alt.Chart = (
        alt.Chart(frame)
        .mark_text(align="left", baseline="top", fontSize=11, color=AF_TEXT, font=FONT)
        .encode(x=alt.value(0), y=alt.Y("row:O", axis=None), text="line:N")
        .properties(width=width, height=15 * len(lines))
    )
    return footer


def titled(chart: alt.typing.ChartType, text: ChartText, width: int) -> alt.VConcatChart:
    """Put title, subtitle, takeaway and source inside the chart, so an exported image stands alone."""
    # Altair's configure_* methods return Self, but their signature-copying decorator erases it to Any.
    framed: alt.VConcatChart = (
        alt.vconcat(chart, _footer(text, width), spacing=12)
        .properties(
            title=alt.TitleParams(
                text=wrap_lines(text.title, width, 16),
                subtitle=wrap_lines(text.subtitle, width, 12),
                anchor="start",
                font=FONT,
                fontSize=16,
                subtitleFont=FONT,
                subtitleFontSize=12,
                subtitleColor=AF_TEXT,
            )
        )
        .configure_view(stroke=None)
        .configure_axis(labelFont=FONT, titleFont=FONT, labelColor=AF_TEXT, titleColor=AF_TEXT)
        .configure_legend(labelFont=FONT, titleFont=FONT, labelColor=AF_TEXT, titleColor=AF_TEXT, labelLimit=320)
    )
    return framed


def ranked_bar_chart(
    rows: pd.DataFrame,
    *,
    value_column: str,
    value_title: str,
    value_format: str,
    text: ChartText,
    highlight_code: str | None = None,
    reference_value: float | None = None,
    reference_label: str | None = None,
    width: int = 560,
) -> alt.VConcatChart:
    """Horizontal bars of every force ranked by ``value_column`` (the "ski slope").

    ``rows`` needs columns code, name and the value column; missing values are left out and
    listed in the takeaway by the caller, never drawn as zero.
    """
    data = rows[["code", "name", value_column]].dropna(subset=[value_column]).copy()
    data["highlight"] = data["code"].eq(highlight_code) if highlight_code else False
    data["label"] = data.apply(
        lambda r: f"{r['name']}: {format(r[value_column], value_format)}" if r["highlight"] else "", axis=1
    )
    order = data.sort_values(value_column, ascending=False)["name"].tolist()
    height = max(15 * len(data), 120)
    base = alt.Chart(data).encode(
        # Every force is named: Vega would otherwise drop every other label where they nearly touch.
        y=alt.Y("name:N", sort=order, title=None, axis=alt.Axis(labelFontSize=10, labelLimit=160, labelOverlap=False)),
        x=alt.X(f"{value_column}:Q", title=value_title, axis=alt.Axis(format=value_format, grid=False)),
        tooltip=[
            alt.Tooltip("name:N", title="Force area"),
            alt.Tooltip(f"{value_column}:Q", title=value_title, format=value_format),
        ],
    )
    bars = base.mark_bar(height=10).encode(
        color=alt.condition(alt.datum.highlight, alt.value(AF_ORANGE), alt.value(AF_DARK_BLUE)),
        stroke=alt.condition(alt.datum.highlight, alt.value("#000000"), alt.value(None)),
    )
    labels = base.mark_text(align="left", dx=4, fontSize=11, fontWeight="bold", color="#000000", font=FONT).encode(
        text="label:N"
    )
    layers: list[alt.Chart] = [bars, labels]
    if reference_value is not None:
        reference = pd.DataFrame({"value": [reference_value], "label": [reference_label or ""]})
        rule = alt.Chart(reference).mark_rule(color=AF_TEXT, strokeDash=[4, 3]).encode(x="value:Q")
        rule_label = (
            alt.Chart(reference)
            .mark_text(align="left", dx=4, dy=-4, baseline="bottom", fontSize=10, color=AF_TEXT, font=FONT)
            .encode(x="value:Q", y=alt.value(0), text="label:N")
        )
        layers += [rule, rule_label]
    chart = alt.layer(*layers).properties(width=width, height=height)
    return titled(chart, text, width)


def grouped_share_chart(
    shares: pd.DataFrame,
    *,
    category_column: str,
    measures: Sequence[tuple[str, str]],
    text: ChartText,
    width: int = 460,
) -> alt.VConcatChart:
    """Side-by-side bars of several shares (0–1) per category, each bar labelled with its percentage.

    ``measures`` pairs a column of ``shares`` with its label; categories keep their row order.
    """
    order = list(shares[category_column])
    long = shares.melt(
        id_vars=[category_column], value_vars=[m for m, _ in measures], var_name="measure", value_name="share"
    )
    long["measure"] = long["measure"].map(dict(measures))
    colours = [AF_DARK_BLUE, AF_ORANGE, "#28A197", "#801650"][: len(measures)]
    base = alt.Chart(long).encode(
        y=alt.Y(f"{category_column}:N", sort=order, title=None, axis=alt.Axis(labelLimit=220)),
        x=alt.X("share:Q", title="Share", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        yOffset=alt.YOffset("measure:N", sort=[label for _, label in measures]),
        tooltip=[f"{category_column}:N", "measure:N", alt.Tooltip("share:Q", format=".1%")],
    )
    bars = base.mark_bar().encode(
        color=alt.Color(
            "measure:N",
            sort=[label for _, label in measures],
            scale=alt.Scale(domain=[label for _, label in measures], range=colours),
            legend=alt.Legend(orient="bottom", title=None, labelLimit=300),
        )
    )
    labels = base.mark_text(align="left", dx=3, fontSize=10, color=AF_TEXT, font=FONT).encode(
        text=alt.Text("share:Q", format=".0%")
    )
    chart = alt.layer(bars, labels).properties(width=width, height=44 * len(order))
    return titled(chart, text, width)


def labelled_line_chart(
    rows: pd.DataFrame, *, x: str, y: str, x_title: str, y_title: str, text: ChartText, width: int = 460
) -> alt.VConcatChart:
    """A line with every point labelled with its value (readable without colour or hovering)."""
    base = alt.Chart(rows).encode(
        x=alt.X(f"{x}:O", title=x_title, axis=alt.Axis(labelAngle=0)),
        y=alt.Y(f"{y}:Q", title=y_title),
        tooltip=[x, y],
    )
    line = base.mark_line(point=True, color=AF_DARK_BLUE)
    labels = base.mark_text(dy=-10, fontSize=10, color=AF_TEXT, font=FONT).encode(text=f"{y}:Q")
    return titled(alt.layer(line, labels).properties(width=width, height=240), text, width)


SCREEN_MIN_WIDTH = 320  # px: a 390 px phone less the page's margins


def screen_spec(chart: alt.VConcatChart | dict[str, Any]) -> dict[str, Any]:
    """The chart for a page, fitted to its column from a phone (390 px) to a desktop: the plot of a
    ``titled`` chart with its title, at the width of its container. The takeaway and source that the
    exported image carries inside it are shown by the page as text beside the chart instead
    (``footer_text``), since a concatenated view (plot + footer) cannot take its container's width."""
    spec = copy.deepcopy(chart) if isinstance(chart, dict) else chart.to_dict(validate=False)
    plot: dict[str, Any] = spec["vconcat"][0]
    plot["width"] = "container"
    title = dict(spec.get("title") or {})
    # Wrapped for the narrowest column (a phone), so no line is cut short with an ellipsis.
    for key, size in (("text", 16), ("subtitle", 12)):
        if key in title:
            lines = title[key] if isinstance(title[key], list) else [title[key]]
            title[key] = wrap_lines(" ".join(lines), SCREEN_MIN_WIDTH, size)
    plot["title"] = title
    for key in ("$schema", "config", "datasets"):
        if key in spec:
            plot[key] = spec[key]
    plot["autosize"] = {"type": "fit-x", "contains": "padding"}
    return plot


def footer_text(spec: dict[str, Any]) -> str:
    """The takeaway and source written inside a ``titled`` chart's image, as one line of text."""
    footer = spec["vconcat"][-1]
    rows = spec.get("datasets", {}).get(footer.get("data", {}).get("name", ""), [])
    return " ".join(str(row["line"]) for row in sorted(rows, key=lambda row: row["row"]))
