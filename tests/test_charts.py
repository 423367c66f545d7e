"""Charts stand alone: title, subtitle, takeaway, source and licence are inside the exported image."""

from __future__ import annotations

import pandas as pd
import vl_convert as vlc

from coverage.outputs.charts import ChartText, ranked_bar_chart

ROWS = pd.DataFrame({"code": ["A", "B", "C"], "name": ["Alpha", "Beta <b>", "Gamma"], "value": [3.0, 1.5, None]})
TEXT = ChartText("A title", "Measure, unit, period", "Beta is 2nd of 2.", "Source: ONS (OGL v3.0).")


def test_ranked_chart_svg_carries_its_text_and_highlights_with_a_label():
    chart = ranked_bar_chart(
        ROWS, value_column="value", value_title="Rate", value_format=".1f", text=TEXT, highlight_code="B"
    )
    svg = vlc.vegalite_to_svg(chart.to_json())
    for expected in ("A title", "Measure, unit, period", "Beta is 2nd of 2.", "Source: ONS (OGL v3.0)."):
        assert expected in svg
    assert "Beta &lt;b&gt;: 1.5" in svg  # the highlighted bar is named, and names are text not markup
    assert "Gamma" not in svg  # a missing value is left out, never drawn as zero


def test_long_takeaways_wrap_instead_of_being_cut():
    long = ChartText("T", "S", "word " * 60 + "END", "Source: a very long source line " * 5 + "LAST")
    chart = ranked_bar_chart(ROWS, value_column="value", value_title="Rate", value_format=".1f", text=long, width=300)
    svg = vlc.vegalite_to_svg(chart.to_json())
    assert "END" in svg and "LAST" in svg and "…" not in svg


def test_the_profile_chart_with_a_reference_line_is_valid_vega_lite_and_names_every_bar():
    # The profile caches this chart's spec without validating it again; this is the validation.
    chart = ranked_bar_chart(
        ROWS,
        value_column="value",
        value_title="Rate",
        value_format=".1f",
        text=TEXT,
        highlight_code="A",
        reference_value=1.8,
        reference_label="England and Wales 1.8",
        width=400,
    )
    spec = chart.to_dict()  # validates against the Vega-Lite schema
    axis = spec["vconcat"][0]["layer"][0]["encoding"]["y"]["axis"]
    assert axis["labelOverlap"] is False
    assert "England and Wales 1.8" in vlc.vegalite_to_svg(spec)
