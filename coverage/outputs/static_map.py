"""A static provision map of England and Wales for briefings: an Altair geoshape chart that
vl-convert renders to SVG and PNG (no browser, no screenshot of the web map, no tiles).

The boundaries are projected once to the British National Grid (EPSG:27700) and drawn with
Vega's identity projection at a fixed scale, so every force's map has the same frame and the
shared work (``MapBase``: projected shapes, hatching, label points) is done once for a batch of
43 forces. Fills are the classes and colours of ``coverage.vocabulary`` (as on the web map); because the
palest blue and the light grey are close in greyscale, areas where nothing was found locally are
also hatched, and unknown areas are white with a dashed outline. The legend is drawn in the same
coordinates as the map (so it can carry the hatch) and names every class with its count. The
chosen force gets a thick orange outline with a thin black line inside it, and a text label
joined to it by a leader line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import altair as alt
import numpy as np
import pandas as pd

from coverage.outputs.charts import AF_ORANGE, AF_TEXT, FONT
from coverage.outputs.map_styles import HATCH
from coverage.vocabulary import HATCHED_CLASSES, PROVISION_CLASS, PROVISION_CLASS_LABELS, PROVISION_CLASSES

if TYPE_CHECKING:
    from PIL.ImageFont import FreeTypeFont
    from pyproj import Transformer
    from shapely import MultiLineString
    from shapely.geometry.base import BaseGeometry

# The frame, in British National Grid metres: Isles of Scilly to Lowestoft, Lizard to Berwick.
GRID_WEST, GRID_EAST = 80_000, 660_000
GRID_SOUTH, GRID_NORTH = 5_000, 662_000
OUTLINE = "#333333"
HATCH_SPACING_M = 9_000
HALO = "#FFFFFF"
LEGEND_TITLE = "Specialist stalking provision (best found in each force area)"

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


# ---------------------------------------------------------------------------------------------
# Text: what is drawn, and how wide it is


def display_text(value: object) -> str:
    """Data text as it is drawn inside an image or PDF: control characters (newlines, tabs)
    become spaces. Exports (CSV, XLSX) keep the text exactly as it is."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    text = str(value)
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def font_file(bold: bool = False) -> str | None:
    """Liberation Sans (metric-compatible with Arial), else DejaVu Sans; None if neither is installed."""
    return next((path for path in FONT_FILES[bold] if Path(path).is_file()), None)


@lru_cache(maxsize=32)
def _pil_font(size: float, bold: bool) -> FreeTypeFont | None:
    from PIL import ImageFont

    path = font_file(bold)
    return ImageFont.truetype(path, size=max(round(size * 4), 1)) if path else None


@lru_cache(maxsize=8192)
def text_width(text: str, font_size: float, bold: bool = False) -> float:
    """Width in pixels of ``text`` at ``font_size`` px, measured at 4x for precision; an
    over-estimate (0.6 em a character) when no font file is installed."""
    font = _pil_font(font_size, bold)
    if font is None:
        return 0.6 * font_size * len(text)
    return font.getlength(text) / 4


def wrap_text(text: str, width_px: float, font_size: float, bold: bool = False) -> list[str]:
    """Greedy word wrap measured in Liberation Sans (the font the images are drawn in)."""
    lines: list[str] = []
    current = ""
    for word in display_text(text).split(" "):
        trial = f"{current} {word}".strip()
        if current and text_width(trial, font_size, bold) > width_px:
            lines.append(current)
            current = word
        else:
            current = trial
        while len(current) > 1 and text_width(current, font_size, bold) > width_px:  # one over-long word
            cut = len(current) - 1
            while cut > 1 and text_width(current[:cut], font_size, bold) > width_px:
                cut -= 1
            lines.append(current[:cut])
            current = current[cut:]
    if current or not lines:
        lines.append(current)
    return lines


# ---------------------------------------------------------------------------------------------
# Shared work: projected shapes, hatching and label points


@lru_cache(maxsize=1)
def _to_grid() -> Transformer:
    from pyproj import Transformer

    return Transformer.from_crs(4326, 27700, always_xy=True)


def _hatch(geometry: BaseGeometry, spacing: float = HATCH_SPACING_M) -> MultiLineString:
    """Diagonal lines (45°, ``spacing`` metres apart) clipped to ``geometry``."""
    import shapely

    minx, miny, maxx, maxy = geometry.bounds
    span = (maxx - minx) + (maxy - miny)
    start = np.floor((minx - maxy) / spacing) * spacing  # lines y = x - c, aligned to a global grid
    offsets = np.arange(start, maxx - miny + spacing, spacing)
    lines = shapely.linestrings([[(c + miny, miny), (c + miny + span, miny + span)] for c in offsets])
    clipped = shapely.intersection(shapely.multilinestrings(lines), shapely.make_valid(geometry))
    parts = [part for part in shapely.get_parts(clipped) if part.geom_type == "LineString" and not part.is_empty]
    return shapely.multilinestrings(parts) if parts else shapely.MultiLineString()


@dataclass
class MapBase:
    """The work every force's map shares: projected shapes, hatching, label points, classes."""

    features: list[dict[str, Any]]  # GeoJSON features in grid metres; properties: code, class
    hatch: list[dict[str, Any]]  # hatching lines for the hatched classes
    points: dict[str, tuple[float, float]]  # a point inside each force area (grid metres)
    table: pd.DataFrame  # code, name, provision_class, provision_label, legend_label

    def rows(self, highlight_code: str | None) -> pd.DataFrame:
        """The data behind the map: one row per force area, in the legend's order then by name."""
        order = {key: rank for rank, key in enumerate(PROVISION_CLASSES)}
        table = self.table.assign(rank=self.table["provision_class"].map(order)).sort_values(["rank", "name"])
        return pd.DataFrame(
            {
                "Force area": table["name"].to_numpy(),
                "ONS code": table["code"].to_numpy(),
                "Provision (best found)": table["provision_label"].to_numpy(),
                # pandas compares with None (all False), but pandas-stubs' Series.eq leaves None out of its scalars.
                "Outlined on the map": np.where(table["code"].eq(highlight_code), "Yes", ""),  # type: ignore[arg-type]
            }
        )

    def legend_entries(self) -> list[tuple[str, str, str]]:
        """(class, label with count, fill colour) in the classes' order, best first."""
        counts = self.table["provision_class"].value_counts()
        return [
            (key, f"{PROVISION_CLASS_LABELS[key]} ({int(counts.get(key, 0))})", PROVISION_CLASS[key].fill)
            for key in PROVISION_CLASSES
        ]


def map_base(boundaries: dict[str, Any], provision: pd.DataFrame) -> MapBase:
    """``boundaries``: GeoJSON in EPSG:4326 with properties.code; ``provision``: one row per force
    with code, name and provision_class. A shape with no force row is drawn as unknown."""
    import shapely
    from shapely.geometry import mapping, shape

    transformer = _to_grid()

    def to_grid(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.round(np.column_stack([x, y]), -1)

    table = provision[["code", "name", "provision_class"]].copy()
    table["provision_label"] = table["provision_class"].map(PROVISION_CLASS_LABELS)
    classes = dict(zip(table["code"], table["provision_class"]))
    features, hatch, points = [], [], {}
    for feature in boundaries["features"]:
        code = feature["properties"]["code"]
        geometry = shapely.transform(shape(feature["geometry"]), to_grid)
        point = geometry.representative_point()
        points[code] = (float(point.x), float(point.y))
        provision_class = classes.get(code, "unknown")
        features.append(
            {"type": "Feature", "properties": {"code": code, "class": provision_class}, "geometry": mapping(geometry)}
        )
        if provision_class in HATCHED_CLASSES:
            lines = _hatch(geometry)
            if not lines.is_empty:
                hatch.append({"type": "Feature", "properties": {"code": code}, "geometry": mapping(lines)})
    return MapBase(features=features, hatch=hatch, points=points, table=table.reset_index(drop=True))


# ---------------------------------------------------------------------------------------------
# Layout: pixels of one rendering


@dataclass(frozen=True)
class MapLayout:
    """Pixel sizes of one rendering: the chart (PNG/SVG) or the PDF's inset (no legend, no label)."""

    map_height: int = 540
    label_width: int = 170
    label_font: int = 13
    legend_font: int = 12
    legend: bool = True
    label: bool = True
    padding: int = 6

    @property
    def scale(self) -> float:
        return (self.map_height - 2 * self.padding) / (GRID_NORTH - GRID_SOUTH)

    @property
    def map_width(self) -> int:
        return round((GRID_EAST - GRID_WEST) * self.scale) + 2 * self.padding

    @property
    def width(self) -> int:
        return self.map_width + (self.label_width if self.label else 0)

    @property
    def legend_row(self) -> int:
        return self.legend_font + 10

    @property
    def legend_height(self) -> int:
        return (12 + 4 * self.legend_row) if self.legend else 0

    @property
    def height(self) -> int:
        return self.map_height + self.legend_height

    def pixel(self, x: float, y: float) -> tuple[float, float]:
        """Grid metres → pixels from the top left of the view."""
        return self.padding + (x - GRID_WEST) * self.scale, self.padding + (GRID_NORTH - y) * self.scale

    def grid(self, px: float, py: float) -> tuple[float, float]:
        """Pixels from the top left of the view → grid metres."""
        return GRID_WEST + (px - self.padding) / self.scale, GRID_NORTH - (py - self.padding) / self.scale

    def projection(self) -> dict[str, Any]:
        return {
            "type": "identity",
            "reflectY": True,
            "scale": self.scale,
            "translate": [self.padding - GRID_WEST * self.scale, self.padding + GRID_NORTH * self.scale],
        }


def _box(layout: MapLayout, left: float, top: float, size: float) -> dict[str, object]:
    corners = [
        layout.grid(left, top),
        layout.grid(left + size, top),
        layout.grid(left + size, top + size),
        layout.grid(left, top + size),
    ]
    # Clockwise in grid metres (y up) is anticlockwise on screen; the identity projection does not care.
    return {"type": "Polygon", "coordinates": [[list(c) for c in corners + corners[:1]]]}


def _legend_data(
    base: MapBase, layout: MapLayout
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, object]]]:
    """Swatches (features), hatching of hatched swatches (features) and text rows, in grid metres."""
    from shapely.geometry import mapping, shape

    swatches, hatches, texts = [], [], []
    top = layout.map_height + 6
    x_text, y_text = layout.grid(layout.padding, top + layout.legend_row / 2)
    texts.append({"x": x_text, "y": y_text, "text": LEGEND_TITLE, "bold": True})
    column_width = layout.width / 2
    swatch = layout.legend_font + 3
    for index, (key, label, _colour) in enumerate(base.legend_entries()):
        column, row = divmod(index, 3)
        left = layout.padding + column * column_width
        row_top = top + (row + 1) * layout.legend_row + 4
        box = _box(layout, left, row_top, swatch)
        swatches.append({"type": "Feature", "properties": {"class": key}, "geometry": box})
        if key in HATCHED_CLASSES:
            spacing = max(4 / layout.scale, HATCH_SPACING_M * 0.6)
            lines = _hatch(shape(box), spacing)
            hatches.append({"type": "Feature", "properties": {}, "geometry": mapping(lines)})
        x_text, y_text = layout.grid(left + swatch + 6, row_top + swatch / 2)
        text = wrap_text(label, column_width - swatch - 14, layout.legend_font)[0]
        texts.append({"x": x_text, "y": y_text, "text": text, "bold": False})
    return swatches, hatches, texts


def _label_rows(
    base: MapBase, layout: MapLayout, code: str, name: str, label: str
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """The chosen force's label (its name, then its class) right of the map, and a leader line to it."""
    x, y = base.points[code]
    _, point_y = layout.pixel(x, y)
    text_width_px = layout.label_width - 14
    name_lines = wrap_text(name, text_width_px, layout.label_font, bold=True)[:4]
    class_lines = wrap_text(label, text_width_px, layout.label_font - 1)
    line_height = layout.label_font + 4
    height = line_height * (len(name_lines) + len(class_lines))
    top = min(max(point_y - line_height / 2, 4), layout.map_height - height - 4)
    left = layout.map_width + 6
    rows = []
    for i, line in enumerate(name_lines + class_lines):
        gx, gy = layout.grid(left, top + i * line_height + line_height / 2)
        rows.append({"x": gx, "y": gy, "text": line, "bold": i < len(name_lines)})
    end_x, _ = layout.grid(left - 3, 0)
    leader = [{"x": x, "y": y, "x2": end_x, "y2": rows[0]["y"]}]
    return rows, leader


# ---------------------------------------------------------------------------------------------
# The chart


def _geo(name: str, layout: MapLayout) -> alt.Chart:
    return (
        alt.Chart(alt.NamedData(name=name))
        .project(**layout.projection())
        .properties(width=layout.width, height=layout.height)
    )


def _points(rows: list[dict[str, object]], layout: MapLayout) -> alt.Chart:
    return (
        alt.Chart(pd.DataFrame(rows))
        .project(**layout.projection())
        .properties(width=layout.width, height=layout.height)
    )


def _class_fill(field: str) -> alt.Color:
    return alt.Color(
        f"{field}:N",
        scale=alt.Scale(domain=list(PROVISION_CLASSES), range=[PROVISION_CLASS[k].fill for k in PROVISION_CLASSES]),
        legend=None,
    )


def provision_map_layers(base: MapBase, layout: MapLayout) -> alt.LayerChart | alt.FacetChart:
    """The map as layers, without title or footer: classes, hatching, legend, and the chosen
    force's outline, leader and label. Everything that changes from force to force is a named
    dataset (filled by ``fill_map``), so one compiled template serves all 43 forces."""
    unknown = "datum.properties.class == 'unknown'"
    layers: list[alt.Chart] = [
        _geo("pfa_shapes", layout)
        .mark_geoshape(stroke=OUTLINE)
        .encode(
            color=_class_fill("properties.class"),
            strokeDash=alt.condition(unknown, alt.value([4, 3]), alt.value([1, 0])),
            strokeWidth=alt.condition(unknown, alt.value(1.1), alt.value(0.5)),
        ),
        _geo("pfa_hatch", layout).mark_geoshape(filled=False, stroke=HATCH, strokeWidth=0.6),
    ]
    if layout.legend:
        swatches, hatches, texts = _legend_data(base, layout)
        layers += [
            alt.Chart(alt.Data(values=swatches))  # type: ignore[no-untyped-call]  # Altair's Data.__init__ is untyped
            .mark_geoshape(stroke=OUTLINE, strokeWidth=1)
            .encode(
                color=_class_fill("properties.class"),
                strokeDash=alt.condition(unknown, alt.value([3, 2]), alt.value([1, 0])),
            )
            .project(**layout.projection())
            .properties(width=layout.width, height=layout.height),
            alt.Chart(alt.Data(values=hatches))  # type: ignore[no-untyped-call]  # Altair's Data.__init__ is untyped
            .mark_geoshape(filled=False, stroke=HATCH, strokeWidth=0.8)
            .project(**layout.projection())
            .properties(width=layout.width, height=layout.height),
        ]
        legend_text = _points(texts, layout)
        layers += [
            legend_text.transform_filter("datum.bold")
            .mark_text(
                align="left",
                baseline="middle",
                font=FONT,
                fontSize=layout.legend_font,
                fontWeight="bold",
                color=AF_TEXT,
            )
            .encode(longitude="x:Q", latitude="y:Q", text="text:N"),
            legend_text.transform_filter("!datum.bold")
            .mark_text(align="left", baseline="middle", font=FONT, fontSize=layout.legend_font, color=AF_TEXT)
            .encode(longitude="x:Q", latitude="y:Q", text="text:N"),
        ]
    selected = _geo("pfa_selected", layout)
    layers += [
        selected.mark_geoshape(filled=False, stroke=AF_ORANGE, strokeWidth=4.5, strokeJoin="round"),
        selected.mark_geoshape(filled=False, stroke="#000000", strokeWidth=1),
    ]
    if layout.label:
        leader = _geo("pfa_leader", layout)
        ends = {"longitude": "x:Q", "latitude": "y:Q", "longitude2": "x2:Q", "latitude2": "y2:Q"}
        labels = _geo("pfa_label", layout)
        layers += [
            leader.mark_rule(color=HALO, strokeWidth=3.5).encode(**ends),
            leader.mark_rule(color="#000000", strokeWidth=1.3).encode(**ends),
            leader.mark_circle(color="#000000", size=40, opacity=1, stroke=HALO, strokeWidth=1.5).encode(
                longitude="x:Q", latitude="y:Q"
            ),
            labels.transform_filter("datum.bold")
            .mark_text(
                align="left",
                baseline="middle",
                font=FONT,
                fontSize=layout.label_font,
                fontWeight="bold",
                color="#000000",
            )
            .encode(longitude="x:Q", latitude="y:Q", text="text:N"),
            labels.transform_filter("!datum.bold")
            .mark_text(align="left", baseline="middle", font=FONT, fontSize=layout.label_font - 1, color=AF_TEXT)
            .encode(longitude="x:Q", latitude="y:Q", text="text:N"),
        ]
    return alt.layer(*layers)


def map_template(
    base: MapBase, layout: MapLayout, wrap: Callable[[alt.typing.ChartType], alt.typing.ChartType] | None = None
) -> dict[str, Any]:
    """The compiled Vega-Lite spec of the map with every per-force part left empty (see
    ``fill_map``); ``wrap`` (chart → chart) adds a title and footer."""
    chart: alt.typing.ChartType = provision_map_layers(base, layout)
    if wrap is not None:
        chart = wrap(chart)
    else:
        chart = chart.configure_view(stroke=None).properties(padding=0, background="#FFFFFF")
    return chart.to_dict(validate=False)


def fill_map(
    template: dict[str, Any],
    base: MapBase,
    layout: MapLayout,
    highlight_code: str | None = None,
    highlight_name: str | None = None,
) -> dict[str, Any]:
    """A copy of ``template`` with the shapes attached and the chosen force outlined and labelled.

    The shapes go in after Altair has built the spec, so the 200 KB of coordinates are never
    validated or copied per force.
    """
    spec = dict(template)
    datasets = dict(spec.get("datasets") or {})
    datasets["pfa_shapes"] = base.features
    datasets["pfa_hatch"] = base.hatch
    datasets["pfa_selected"] = [f for f in base.features if f["properties"]["code"] == highlight_code]
    datasets["pfa_leader"], datasets["pfa_label"] = [], []
    if layout.label and highlight_code in base.points:
        # force codes are unique: the label's row
        row = cast("pd.Series[Any]", base.table.set_index("code").loc[highlight_code])
        datasets["pfa_label"], datasets["pfa_leader"] = _label_rows(
            base, layout, highlight_code, highlight_name or row["name"], row["provision_label"]
        )
    spec["datasets"] = datasets
    return spec


def map_spec(
    base: MapBase,
    layout: MapLayout,
    highlight_code: str | None = None,
    highlight_name: str | None = None,
    wrap: Callable[[alt.typing.ChartType], alt.typing.ChartType] | None = None,
) -> dict[str, Any]:
    """A Vega-Lite spec (dict) of the map; ``wrap`` (chart → chart) adds title and footer."""
    return fill_map(map_template(base, layout, wrap), base, layout, highlight_code, highlight_name)
