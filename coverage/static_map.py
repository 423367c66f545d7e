"""A static provision map of England and Wales for briefings: an Altair geoshape chart that
vl-convert renders to SVG and PNG (no browser, no screenshot of the web map, no tiles).

The boundaries are projected once to the British National Grid (EPSG:27700) and drawn with
Vega's identity projection at a fixed scale, so every force's map has the same frame and the
base layer (``MapBase``) is built once and reused across the 43 forces of a batch. The chosen
force gets a thick orange outline with a thin black line inside it (visible in greyscale) and a
text label joined to it by a leader line; the legend names every class, so colour is never the
only cue. Unknown areas are white with a dashed outline.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import altair as alt
import numpy as np
import pandas as pd

from .charts import AF_ORANGE, AF_TEXT, FONT
from .maps import PROVISION_STYLES
from .services import PROVISION_CLASS_LABELS, PROVISION_CLASSES

# The frame, in British National Grid metres: Isles of Scilly to Lowestoft, Lizard to Berwick.
GRID_WEST, GRID_EAST = 80_000, 660_000
GRID_SOUTH, GRID_NORTH = 5_000, 662_000
OUTLINE = "#333333"
HALO = "#FFFFFF"


def display_text(value: object) -> str:
    """Data text as it is drawn inside an image: control characters (newlines, tabs) become
    spaces. Exports (CSV, XLSX) keep the text exactly as it is."""
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


@lru_cache(maxsize=1)
def _to_grid():
    from pyproj import Transformer

    return Transformer.from_crs(4326, 27700, always_xy=True)


def project_features(boundaries: dict) -> tuple[list[dict], dict[str, tuple[float, float]]]:
    """Boundary features in British National Grid metres (rounded to 10 m), and a point inside
    each force area (for its label's leader line), both keyed by the ONS code."""
    import shapely
    from shapely.geometry import mapping, shape

    transformer = _to_grid()

    def to_grid(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.round(np.column_stack([x, y]), -1)

    features, points = [], {}
    for feature in boundaries["features"]:
        code = feature["properties"]["code"]
        geometry = shapely.transform(shape(feature["geometry"]), to_grid)
        point = geometry.representative_point()
        points[code] = (float(point.x), float(point.y))
        features.append({"type": "Feature", "properties": {"code": code}, "geometry": mapping(geometry)})
    return features, points


@dataclass(frozen=True)
class MapLayout:
    """Pixel sizes of one rendering of the map (the web/PNG chart, or the PDF inset)."""

    map_height: int = 540
    label_width: int = 170
    label_font: int = 13
    legend_font: int = 12
    legend: bool = True
    padding: int = 6

    @property
    def scale(self) -> float:
        return (self.map_height - 2 * self.padding) / (GRID_NORTH - GRID_SOUTH)

    @property
    def map_width(self) -> int:
        return int(round((GRID_EAST - GRID_WEST) * self.scale)) + 2 * self.padding

    @property
    def width(self) -> int:
        return self.map_width + self.label_width

    def pixel(self, x: float, y: float) -> tuple[float, float]:
        return (
            self.padding + (x - GRID_WEST) * self.scale,
            self.padding + (GRID_NORTH - y) * self.scale,
        )

    def projection(self) -> dict:
        return {
            "type": "identity",
            "reflectY": True,
            "scale": self.scale,
            "translate": [self.padding - GRID_WEST * self.scale, self.padding + GRID_NORTH * self.scale],
        }


@dataclass
class MapBase:
    """The work shared by every force's map: projected shapes, label points, class per force."""

    features: list[dict]
    points: dict[str, tuple[float, float]]
    table: pd.DataFrame  # code, name, provision_class, provision_label, legend_label (one row per force)
    legend_labels: list[str]
    colours: list[str]

    def rows(self, highlight_code: str | None) -> pd.DataFrame:
        """The data behind the map, one row per force area, in the legend's order then by name."""
        order = {key: rank for rank, key in enumerate(PROVISION_CLASSES)}
        table = self.table.assign(rank=self.table["provision_class"].map(order)).sort_values(["rank", "name"])
        return pd.DataFrame(
            {
                "Force area": table["name"],
                "ONS code": table["code"],
                "Provision (best found)": table["provision_label"],
                "Outlined on the map": np.where(table["code"].eq(highlight_code), "Yes", ""),
            }
        ).reset_index(drop=True)


def map_base(boundaries: dict, provision: pd.DataFrame) -> MapBase:
    """``provision`` needs columns code, name and provision_class (one row per force)."""
    features, points = project_features(boundaries)
    table = provision[["code", "name", "provision_class"]].copy()
    table["provision_label"] = table["provision_class"].map(PROVISION_CLASS_LABELS)
    counts = table["provision_class"].value_counts()
    legend = {key: f"{PROVISION_CLASS_LABELS[key]} ({int(counts.get(key, 0))})" for key in PROVISION_CLASSES}
    table["legend_label"] = table["provision_class"].map(legend)
    by_code = table.set_index("code")
    for feature in features:
        code = feature["properties"]["code"]
        if code in by_code.index:
            feature["properties"]["legend_label"] = by_code.at[code, "legend_label"]
            feature["properties"]["unknown"] = bool(by_code.at[code, "provision_class"] == "unknown")
        else:  # a shape with no force row is unknown, never "none"
            feature["properties"]["legend_label"] = legend["unknown"]
            feature["properties"]["unknown"] = True
    return MapBase(
        features=features,
        points=points,
        table=table.reset_index(drop=True),
        legend_labels=[legend[key] for key in PROVISION_CLASSES],
        colours=[str(PROVISION_STYLES[key]["fillColor"]) for key in PROVISION_CLASSES],
    )


FONT_FILES = {
    False: (
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    ),
    True: (
        "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
}


def font_file(bold: bool = False) -> str | None:
    """Liberation Sans (metric-compatible with Arial), else DejaVu Sans; None if neither is installed."""
    from pathlib import Path

    return next((path for path in FONT_FILES[bold] if Path(path).is_file()), None)


@lru_cache(maxsize=32)
def _pil_font(size: float, bold: bool):
    from PIL import ImageFont

    path = font_file(bold)
    return ImageFont.truetype(path, size=max(int(round(size * 4)), 1)) if path else None


@lru_cache(maxsize=4096)
def text_width(text: str, font_size: float, bold: bool = False) -> float:
    """Width in pixels of ``text`` drawn at ``font_size`` px (measured at 4x for precision);
    an over-estimate (0.6 em a character) when no font file is installed."""
    font = _pil_font(font_size, bold)
    if font is None:
        return 0.6 * font_size * len(text)
    return font.getlength(text) / 4


def wrap_text(text: str, width_px: float, font_size: float, bold: bool = False) -> list[str]:
    """Greedy word wrap measured with Liberation Sans (the font the images are drawn in)."""
    words = display_text(text).split(" ")
    lines: list[str] = []
    current = ""
    for word in words:
        trial = f"{current} {word}".strip()
        if current and text_width(trial, font_size, bold) > width_px:
            lines.append(current)
            current = word
        else:
            current = trial
        # A single word wider than the line is split by characters.
        while text_width(current, font_size, bold) > width_px and len(current) > 1:
            cut = len(current)
            while cut > 1 and text_width(current[:cut], font_size, bold) > width_px:
                cut -= 1
            lines.append(current[:cut])
            current = current[cut:]
    if current or not lines:
        lines.append(current)
    return lines


def _label_rows(base: MapBase, layout: MapLayout, code: str, name: str, label: str) -> tuple[list[dict], list[dict]]:
    """Text lines of the chosen force's label, placed in the column right of the map, and its leader."""
    x, y = base.points[code]
    _, py = layout.pixel(x, y)
    name_lines = wrap_text(name, layout.label_width - 14, layout.label_font, bold=True)
    class_lines = wrap_text(label, layout.label_width - 14, layout.label_font - 1)
    line_height = layout.label_font + 4
    height = line_height * (len(name_lines) + len(class_lines))
    top = min(max(py - line_height / 2, 4), layout.map_height - height - 4)
    anchor_x = GRID_EAST + 8 / layout.scale  # just right of the map, in grid metres
    rows = []
    for i, line in enumerate(name_lines + class_lines):
        line_y = top + i * line_height + line_height / 2
        rows.append(
            {
                "x": anchor_x,
                "y": GRID_NORTH - (line_y - layout.padding) / layout.scale,
                "text": line,
                "bold": i < len(name_lines),
            }
        )
    first_y = rows[0]["y"]
    leader = [{"x": x, "y": y, "x2": anchor_x - 3 / layout.scale, "y2": first_y}]
    return rows, leader


def provision_map_layers(
    base: MapBase,
    layout: MapLayout,
    highlight_code: str | None = None,
    highlight_name: str | None = None,
) -> alt.LayerChart:
    """The map as layers (no title or footer): classes, chosen force outline, label and legend."""
    projection = layout.projection()
    size = {"width": layout.width, "height": layout.map_height}
    base_layer = (
        alt.Chart(alt.NamedData(name="pfa_shapes"))
        .mark_geoshape(stroke=OUTLINE, strokeWidth=0.5)
        .encode(
            color=alt.Color(
                "properties.legend_label:N",
                title="Specialist stalking provision (force areas)",
                scale=alt.Scale(domain=base.legend_labels, range=base.colours),
                legend=alt.Legend(
                    orient="bottom",
                    direction="vertical",
                    columns=2,
                    columnPadding=14,
                    labelLimit=0,
                    labelFont=FONT,
                    titleFont=FONT,
                    labelFontSize=layout.legend_font,
                    titleFontSize=layout.legend_font,
                    labelColor=AF_TEXT,
                    titleColor=AF_TEXT,
                    symbolType="square",
                    symbolSize=180,
                    symbolStrokeColor=OUTLINE,
                    symbolStrokeWidth=1,
                )
                if layout.legend
                else None,
            ),
            strokeDash=alt.condition("datum.properties.unknown", alt.value([4, 3]), alt.value([1, 0])),
            strokeWidth=alt.condition("datum.properties.unknown", alt.value(1.2), alt.value(0.5)),
        )
        .project(**projection)
        .properties(**size)
    )
    layers: list[alt.Chart] = [base_layer]
    if highlight_code and highlight_code in base.points:
        row = base.table.set_index("code").loc[highlight_code]
        label_rows, leader = _label_rows(base, layout, highlight_code, highlight_name or row["name"], row["provision_label"])
        selected = alt.Chart(alt.NamedData(name="pfa_selected")).project(**projection).properties(**size)
        layers += [
            selected.mark_geoshape(filled=False, stroke=AF_ORANGE, strokeWidth=4.5, strokeJoin="round"),
            selected.mark_geoshape(filled=False, stroke="#000000", strokeWidth=1),
        ]
        leader_chart = alt.Chart(pd.DataFrame(leader)).project(**projection).properties(**size)
        layers += [
            leader_chart.mark_rule(color=HALO, strokeWidth=3.5).encode(
                longitude="x:Q", latitude="y:Q", longitude2="x2:Q", latitude2="y2:Q"
            ),
            leader_chart.mark_rule(color="#000000", strokeWidth=1.3).encode(
                longitude="x:Q", latitude="y:Q", longitude2="x2:Q", latitude2="y2:Q"
            ),
            leader_chart.mark_circle(color="#000000", size=40, opacity=1, stroke=HALO, strokeWidth=1.5).encode(
                longitude="x:Q", latitude="y:Q"
            ),
        ]
        labels = alt.Chart(pd.DataFrame(label_rows)).project(**projection).properties(**size)
        layers += [
            labels.transform_filter("datum.bold").mark_text(
                align="left", baseline="middle", font=FONT, fontSize=layout.label_font, fontWeight="bold", color="#000000"
            ).encode(longitude="x:Q", latitude="y:Q", text="text:N"),
            labels.transform_filter("!datum.bold").mark_text(
                align="left", baseline="middle", font=FONT, fontSize=layout.label_font - 1, color=AF_TEXT
            ).encode(longitude="x:Q", latitude="y:Q", text="text:N"),
        ]
    return alt.layer(*layers)


def with_shapes(spec: dict, base: MapBase, highlight_code: str | None) -> dict:
    """Attach the (shared, already projected) shapes to a compiled spec as named datasets.

    The shapes go in after Altair has validated the spec, so the 200 KB of coordinates are
    never validated or copied per force.
    """
    spec = dict(spec)
    datasets = dict(spec.get("datasets") or {})
    datasets["pfa_shapes"] = base.features
    datasets["pfa_selected"] = [f for f in base.features if f["properties"]["code"] == highlight_code]
    spec["datasets"] = datasets
    return spec


def map_spec(
    base: MapBase,
    layout: MapLayout,
    highlight_code: str | None = None,
    highlight_name: str | None = None,
    wrap=None,
) -> dict:
    """A Vega-Lite spec (dict) of the map; ``wrap`` turns the layers into a titled chart."""
    chart = provision_map_layers(base, layout, highlight_code, highlight_name)
    if wrap is not None:
        chart = wrap(chart)
    else:
        chart = chart.configure_view(stroke=None).properties(padding=2)
    return with_shapes(chart.to_dict(), base, highlight_code)

