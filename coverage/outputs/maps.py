"""Folium map builders. No Streamlit here: the page passes the map to streamlit-folium.

The map loads Leaflet from the app itself (``/app/static/vendor/leaflet``), never from a CDN:
many police, council and NHS networks block CDNs, and a page about stalking must not tell third
parties who is looking. Every string from data is HTML-escaped before it reaches a tooltip.
"""

from __future__ import annotations

import copy
import html
import json
from collections.abc import Callable, Mapping
from typing import Any, cast

import folium
import pandas as pd
from branca.element import MacroElement
from folium.map import Layer
from jinja2 import Template

from coverage.model.forces import force_names
from coverage.vocabulary import LOCAL_SERVICE_TYPES, ONS_ATTRIBUTION, OSM_ATTRIBUTION, PROVISION_CLASS_LIST

LEAFLET_BASE_URL = "/app/static/vendor/leaflet"

# Folium style of each provision class (fills from coverage.vocabulary: the Analysis Function
# sequential palette, darker means more provision). The class is also named in the tooltip, legend
# and table, and the lettered service badges mark each area's services, so colour is never the only cue.
PROVISION_STYLES: dict[str, dict[str, object]] = {
    klass.key: {
        "fillColor": klass.fill,
        "fillOpacity": 0.9,
        "dashArray": "4 3" if klass.dashed_outline else None,
        "pattern": klass.pattern,
    }
    for klass in PROVISION_CLASS_LIST
}

ENGLAND_AND_WALES_BOUNDS = [[49.85, -6.45], [55.85, 1.80]]


def _offline_assets(fmap: folium.Map, base_url: str) -> None:
    """Replace folium's CDN scripts and styles with the app's own copy of Leaflet (all it needs)."""
    fmap.default_js = [("leaflet", f"{base_url}/leaflet.js")]
    fmap.default_css = [("leaflet_css", f"{base_url}/leaflet.css")]


class Legend(MacroElement):
    """A Leaflet control listing the classes as swatches with text labels."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: "topright"});
        {{ this.get_name() }}.onAdd = function () {
            var div = L.DomUtil.create("div", "atlas-legend");
            div.setAttribute("role", "list");
            div.setAttribute("aria-label", {{ this.title_json }});
            div.style.cssText = "background:#fff;padding:4px 6px;border:1px solid #555;";
            div.innerHTML = {{ this.body_json }};
            // The key can be folded away to see the forces under it (the table and the text key below
            // the map say the same).
            var body = div.querySelector(".atlas-legend-body");
            var fold = L.DomUtil.create("button", "atlas-legend-fold", div);
            var map = {{ this._parent.get_name() }};
            var chosen = false;  // once the reader folds or unfolds the key, their choice stands
            fold.type = "button";
            fold.style.cssText = "font:11px sans-serif;margin-top:2px;padding:0 4px;cursor:pointer;";
            function show(open) {
                body.style.display = open ? "" : "none";
                fold.textContent = open ? "Hide key" : "Show key";
                fold.setAttribute("aria-expanded", open ? "true" : "false");
            }
            // On a narrow map the key would cover the layer switches and half the map: fold it there.
            function fit() { if (!chosen) show(map.getSize().x >= 480); }
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.on(fold, "click", function () {
                chosen = true;
                show(body.style.display === "none");
            });
            map.on("resize", fit);
            fit();
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, title: str, entries: list[tuple[str, Mapping[str, object], int]]):
        super().__init__()  # type: ignore[no-untyped-call]  # branca's MacroElement.__init__ has no annotations
        self._name = "Legend"
        rows = [f"<strong>{html.escape(title)}</strong>", '<div class="atlas-legend-body">']
        for label, style, count in entries:
            border = "1px dashed #333" if style.get("dashArray") else "1px solid #333"
            rows.append(
                '<div role="listitem" class="atlas-legend-item">'
                f'<span style="display:inline-block;width:14px;height:14px;margin-right:6px;vertical-align:middle;'
                f'background:{style["fillColor"]};border:{border}"></span>'
                f"{html.escape(label)} ({count})</div>"
            )
        rows.append("</div>")
        self.title_json = json.dumps(title)
        self.body_json = json.dumps("".join(rows))


class Attribution(MacroElement):
    """Adds the required data attribution to Leaflet's attribution control (as text, escaped)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text_json }});
        {{ this._parent.get_name() }}.attributionControl.getContainer().style.fontSize = "11px";
        // Compact controls, so the legend and layer switches leave England and Wales visible.
        var atlasControlStyle = document.createElement("style");
        atlasControlStyle.textContent = ".leaflet-control-layers, .atlas-legend {font: 11px/1.35 sans-serif;}"
            + " .leaflet-control-layers-expanded {padding: 3px 6px;}";
        document.head.appendChild(atlasControlStyle);
        {% endmacro %}
        """
    )

    def __init__(self, text: str):
        super().__init__()  # type: ignore[no-untyped-call]  # branca's MacroElement.__init__ has no annotations
        self._name = "Attribution"
        self.text_json = json.dumps(html.escape(text))


class AreaGeoJson(folium.GeoJson):
    """GeoJson whose bounds are the known extent of England and Wales.

    streamlit-folium asks the map for its bounds on every run, and folium finds them by walking
    every coordinate (a third of the map's server time); the 43 force areas always span England
    and Wales, so the answer is known.
    """

    def _get_self_bounds(self) -> list[list[float | None]]:
        # folium's bounds type (list is invariant, so list[list[float]] is not one); the list is only read
        return cast("list[list[float | None]]", ENGLAND_AND_WALES_BOUNDS)


def _escape_properties(properties: Mapping[str, object]) -> dict[str, object]:
    return {k: html.escape(v) if isinstance(v, str) else v for k, v in properties.items()}


def category_geojson(
    boundaries: dict[str, Any], table: pd.DataFrame, category_column: str, label_column: str
) -> dict[str, Any]:
    """Boundaries with each force's display properties attached (escaped for HTML)."""
    rows = table.set_index("code")
    features = []
    for feature in boundaries["features"]:
        code = feature["properties"]["code"]
        row = rows.loc[code]
        population = row.get("pop_mid2023")
        properties = {
            "code": code,
            "name": row["name"],
            "category": row[category_column],
            "category_label": row[label_column],
            "population": "unknown" if pd.isna(population) else f"{int(population):,}",
        }
        features.append(
            {"type": "Feature", "properties": _escape_properties(properties), "geometry": feature["geometry"]}
        )
    return {"type": "FeatureCollection", "features": features}


def provision_geojson(boundaries: dict[str, Any], table: pd.DataFrame) -> dict[str, Any]:
    return category_geojson(boundaries, table, "provision_class", "provision_label")


def _style_for(
    styles: Mapping[str, Mapping[str, object]], fallback: str
) -> Callable[[dict[str, Any]], dict[str, object]]:
    def style(feature: dict[str, Any]) -> dict[str, object]:
        chosen = styles.get(feature["properties"]["category"], styles[fallback])
        result = {
            "fillColor": chosen["fillColor"],
            "fillOpacity": chosen["fillOpacity"],
            "color": "#333333",
            "weight": 0.8,
        }
        if chosen["dashArray"]:
            result["dashArray"] = chosen["dashArray"]
        return result

    return style


def category_map(
    boundaries: dict[str, Any],
    table: pd.DataFrame,
    *,
    category_column: str,
    label_column: str,
    styles: Mapping[str, Mapping[str, object]],
    labels: Mapping[str, str],
    legend_title: str,
    tooltip_alias: str,
    tiles: bool = False,
    asset_base_url: str = LEAFLET_BASE_URL,
) -> folium.Map:
    """Choropleth of one category per force, with tooltip, legend (labels and counts) and attribution.

    ``tiles`` adds an OpenStreetMap basemap (off by default: it needs the internet and tells the
    tile server who is looking; the choropleth reads well without it).
    """
    fmap = folium.Map(
        location=[52.6, -1.9],
        zoom_start=6,
        tiles=None,
        control_scale=True,
        prefer_canvas=False,
        attribution_control=True,
        zoom_control=True,
        max_bounds=True,
        min_zoom=5,
        zoom_snap=0.25,
    )
    _offline_assets(fmap, asset_base_url)
    if tiles:
        folium.TileLayer("OpenStreetMap", attr=OSM_ATTRIBUTION, name="OpenStreetMap basemap").add_to(fmap)

    AreaGeoJson(
        category_geojson(boundaries, table, category_column, label_column),
        name="Police force areas",
        style_function=_style_for(styles, fallback=list(styles)[-1]),
        highlight_function=lambda _feature: {"weight": 3, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(
            fields=["name", "category_label", "population"],
            aliases=["Force area", tooltip_alias, "Population, all ages (mid-2023)"],
            sticky=True,
        ),
        zoom_on_click=False,
        control=False,
    ).add_to(fmap)

    counts = table[category_column].value_counts()
    entries = [(labels[key], styles[key], int(counts.get(key, 0))) for key in labels if key in styles]
    Legend(legend_title, entries).add_to(fmap)
    Attribution(ONS_ATTRIBUTION).add_to(fmap)
    fmap.fit_bounds(ENGLAND_AND_WALES_BOUNDS)
    return fmap


def provision_map(
    boundaries: dict[str, Any],
    table: pd.DataFrame,
    class_labels: Mapping[str, str],
    *,
    tiles: bool = False,
    asset_base_url: str = LEAFLET_BASE_URL,
) -> folium.Map:
    """Choropleth of provision class per force (see ``category_map``)."""
    return category_map(
        boundaries,
        table,
        category_column="provision_class",
        label_column="provision_label",
        styles=PROVISION_STYLES,
        labels=class_labels,
        legend_title="Stalking provision",
        tooltip_alias="Provision",
        tiles=tiles,
        asset_base_url=asset_base_url,
    )


def selected_outline(boundaries: dict[str, Any], code: str | None) -> folium.FeatureGroup:
    """A thick outline of the selected force, added without redrawing the base map."""
    group = folium.FeatureGroup(name="Selected force")
    if code:
        features = [copy.deepcopy(f) for f in boundaries["features"] if f["properties"]["code"] == code]
        if features:
            folium.GeoJson(
                {"type": "FeatureCollection", "features": features},
                style_function=lambda _f: {"fill": False, "color": "#F46A25", "weight": 4},
                interactive=False,
            ).add_to(group)
    return group


# One toggleable layer per local service type: a lettered badge at a point inside each force area
# that has that service. Letters and the layer names carry the meaning; colour only repeats it.
SERVICE_LAYERS: tuple[tuple[str, str, str, str], ...] = tuple(
    (service.flag, service.letter, service.plural, service.badge_colour) for service in LOCAL_SERVICE_TYPES
)


def representative_points(boundaries: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """A point guaranteed inside each force area (lat, lon), where its badges sit."""
    from shapely.geometry import shape

    points = {}
    for feature in boundaries["features"]:
        point = shape(feature["geometry"]).representative_point()
        points[feature["properties"]["code"]] = (round(point.y, 4), round(point.x, 4))
    return points


def _script_json(value: object) -> str:
    """JSON safe to place inside a <script> element (no "</" can close it early)."""
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")


class BadgeLayer(Layer):
    """One switchable overlay of lettered badges, drawn in the browser from a compact list.

    A folium Marker per badge costs three rendered elements each; one layer built from JSON keeps
    the Map page's rerun fast however many services there are.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.layerGroup();
        {{ this.badges_json }}.forEach(function (badge) {
            var icon = L.divIcon({html: badge.html, className: "atlas-badge-icon", iconSize: [16, 16], iconAnchor: {{ this.anchor_json }}});
            L.marker([badge.lat, badge.lon], {icon: icon, keyboard: false})
                .bindTooltip(badge.tooltip)
                .addTo({{ this.get_name() }});
        });
        {% if this.show %}{{ this.get_name() }}.addTo({{ this._parent.get_name() }});{% endif %}
        {% endmacro %}
        """
    )

    def __init__(self, name: str, badges: list[dict[str, object]], anchor: tuple[int, int]):
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "BadgeLayer"
        self.badges_json = _script_json(badges)
        self.anchor_json = json.dumps(list(anchor))


def add_service_layers(
    fmap: folium.Map, flags: pd.DataFrame, names: Mapping[str, str], points: Mapping[str, tuple[float, float]]
) -> None:
    """Add one overlay per service type and a layer control to switch them on and off."""
    for index, (column, letter, title, colour) in enumerate(SERVICE_LAYERS):
        badges = []
        for code in flags.loc[flags[column].astype(bool), "code"]:
            if code not in points:
                continue
            name = html.escape(names.get(code, code))
            lat, lon = points[code]
            badges.append(
                {
                    "lat": lat,
                    "lon": lon,
                    "html": (
                        f'<div class="atlas-badge" title="{html.escape(title)}: {name}" '
                        f'style="background:{colour};color:#fff;border:1px solid #fff;border-radius:3px;'
                        f'font:bold 11px/14px sans-serif;width:14px;height:14px;text-align:center;">{letter}</div>'
                    ),
                    "tooltip": f"{name}: {html.escape(title.lower())}",
                }
            )
        # Badges of one force sit side by side, one slot per service type.
        BadgeLayer(f"{letter}: {title}", badges, anchor=(8 - 16 * index + 32, 8)).add_to(fmap)
    folium.LayerControl(collapsed=False, position="topleft").add_to(fmap)


def atlas_map(
    boundaries: dict[str, Any],
    table: pd.DataFrame,
    class_labels: Mapping[str, str],
    *,
    tiles: bool = False,
    points: Mapping[str, tuple[float, float]] | None = None,
) -> folium.Map:
    """The Map page's map: provision choropleth plus one switchable badge layer per service type.

    ``table`` is the provision table joined with the per-type flags (``has_*`` columns).
    """
    fmap = provision_map(boundaries, table, class_labels, tiles=tiles)
    points = representative_points(boundaries) if points is None else points
    add_service_layers(fmap, table, force_names(table), points)
    return fmap
