"""Folium map builders, and the compiler that turns a folium map into data for an inline component.

No Streamlit here. folium builds each map (its script, layers, styles, tooltips and key);
``inline_map_spec`` compiles it into plain data that the Map page's component (``ui/inline_map.py``,
``static/map_component``) runs in the page itself, with no iframe. Other pages may still pass a
folium map to streamlit-folium.

The map loads Leaflet from the app itself (``/app/static/vendor/leaflet``), never from a CDN:
many police, council and NHS networks block CDNs, and a page about stalking must not tell third
parties who is looking. Every string from data is HTML-escaped before it reaches a tooltip.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, cast

import folium
import pandas as pd
from branca.element import CssLink, Figure, JavascriptLink, MacroElement
from folium.map import Layer
from folium.utilities import camelize
from jinja2 import Template

from coverage.model.forces import force_names
from coverage.outputs.map_styles import HATCH, PROVISION_STYLES
from coverage.vocabulary import LOCAL_SERVICE_TYPES, ONS_ATTRIBUTION, OSM_ATTRIBUTION

LEAFLET_BASE_URL = "/app/static/vendor/leaflet"

ENGLAND_AND_WALES_BOUNDS = [[49.85, -6.45], [55.85, 1.80]]

# The hatching: the static map's (and the PDF's) dark grey lines, rising to the right ("/"), a few
# pixels apart at every zoom (an SVG pattern in the map's own coordinates, so it does not scale).
HATCH_SPACING_PX = 6
HATCH_LINE_PX = 1.3


def hatch_pattern_id(key: str) -> str:
    """The id of the SVG pattern that fills the areas of a hatched category."""
    return f"atlas-hatch-{key}"


def _hatch_pattern(key: str, fill: str) -> str:
    size = HATCH_SPACING_PX
    return (
        f'<pattern id="{hatch_pattern_id(key)}" patternUnits="userSpaceOnUse" width="{size}" height="{size}" '
        f'patternTransform="rotate(45)"><rect width="{size}" height="{size}" fill="{fill}"/>'
        f'<rect width="{HATCH_LINE_PX}" height="{size}" fill="{HATCH}"/></pattern>'
    )


def _hatch_swatch(fill: str) -> str:
    """CSS background of a hatched legend swatch: the same fill and lines as the map's pattern."""
    return (
        f"background-color:{fill};background-image:repeating-linear-gradient(-45deg,"
        f"transparent 0 2.6px,{HATCH} 2.6px 3.9px)"
    )


def _offline_assets(fmap: folium.Map, base_url: str) -> None:
    """Replace folium's CDN scripts and styles with the app's own copy of Leaflet (all it needs)."""
    fmap.default_js = [("leaflet", f"{base_url}/leaflet.js")]
    fmap.default_css = [("leaflet_css", f"{base_url}/leaflet.css")]


# Area tooltips sit this far above the pointer, or (near the top edge) this far below its tip,
# clear of the cursor.
TOOLTIP_ABOVE_PX = 12
TOOLTIP_BELOW_PX = 22
TOOLTIP_MAX_PX = 300  # wider text wraps

# How far (in zoom snaps) the default view may zoom out to make room for the open controls.
ZOOM_OUT_STEPS = 1

# The atlas's controls and tooltips: compact, with wrapping text.
MAP_CSS = " ".join(
    [
        ".leaflet-control-layers, .atlas-legend {font: 11px/1.15 sans-serif; box-sizing: border-box;}",
        # At most half the map's width each, so on a phone the key (top left) and the layer switches
        # (top right) open side by side, never one over the other.
        ".atlas-legend {max-width: min(194px, calc(50vw - 15px));}",
        ".leaflet-control-layers {max-width: min(204px, calc(50vw - 15px));}",
        ".atlas-legend {background: #fff; padding: 3px 6px; border: 1px solid #555;}",
        ".leaflet-control-layers-expanded {padding: 3px 6px;}",
        ".atlas-fold-head {display: flex; align-items: center; justify-content: space-between; gap: 6px;}",
        ".atlas-fold {font: 11px sans-serif; padding: 0 4px; cursor: pointer; white-space: nowrap;}",
        ".atlas-legend-item {display: flex; align-items: flex-start; gap: 5px; margin-top: 2px;}",
        ".atlas-swatch {flex: none; box-sizing: border-box; width: 13px; height: 13px; margin-top: 1px;}",
        ".leaflet-control-layers-overlays label > span {display: flex; align-items: flex-start; gap: 2px;}",
        ".leaflet-control-layers-selector {flex: none; margin: 1px 3px 0 0; top: 0;}",
        ".leaflet-control-scale-line {font: 11px/1.2 sans-serif;}",
        # Tooltips: as wide as their text up to the width MapBehaviour allows, then wrapped.
        ".leaflet-tooltip {box-sizing: border-box; width: max-content; white-space: normal; font: 12px/1.3 sans-serif;}",
        ".foliumtooltip th, .foliumtooltip td {vertical-align: top; padding: 1px 6px 1px 0;}",
        ".leaflet-tooltip.atlas-tooltip-moved::before {display: none;}",
    ]
)


class MapBehaviour(MacroElement):
    """How the map behaves on a page: its styles, the mouse wheel, tooltips, and folding controls.

    - The wheel scrolls the page until the reader clicks or focuses the map, and does again once the
      pointer leaves it or focus moves out (the zoom buttons and the +/- keys zoom at any time), so
      a reader scrolling down the page is not trapped in the map.
    - Every tooltip is kept inside the map: area tooltips sit above the pointer (below it near the
      top edge); none is wider than the map (or ``TOOLTIP_MAX_PX``), and one that would cross an
      edge is moved in.
    - The scale sits above the attribution (bottom right), clear of its text.
    - ``atlasCovers(element)`` says whether an element (a control) lies over a force area or a
      badge; ``atlasFold`` gives a control a header whose button folds its body away. At the
      default view every folding control is open where it covers no force, and the view may zoom
      out a little (``ZOOM_OUT_STEPS``) to make that room in the sea; a control that would still
      cover one starts folded. Once the reader folds or unfolds it, their choice stands.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map) {
            if (!document.getElementById("atlas-map-style")) {
                var style = document.createElement("style");
                style.id = "atlas-map-style";
                style.textContent = {{ this.css_json }};
                document.head.appendChild(style);
            }
            var container = map.getContainer();
            // The scale sits above the attribution, which on a narrow map spans the whole width.
            L.control.scale({position: "bottomright"}).addTo(map);

            // The mouse wheel: off (the map's scrollWheelZoom option) until a click or focus.
            function wheelZooms(on) {
                if (on) { map.scrollWheelZoom.enable(); } else { map.scrollWheelZoom.disable(); }
            }
            map.on("click focus", function () { wheelZooms(true); });
            L.DomEvent.on(container, "mouseleave", function () { wheelZooms(false); });
            L.DomEvent.on(container, "focusout", function (e) {
                if (!e.relatedTarget || !container.contains(e.relatedTarget)) wheelZooms(false);
            });

            // Tooltips stay inside the map (every tooltip on the page: areas and badges).
            if (!L.Tooltip.prototype.atlasKeptInside) {
                var place = L.Tooltip.prototype._setPosition;
                L.Tooltip.include({
                    atlasKeptInside: true,
                    _setPosition: function (pos) {
                        var map = this._map, tip = this._container, margin = 4;
                        var box = map.getContainer().getBoundingClientRect();
                        tip.style.maxWidth = Math.max(Math.min(box.width - 2 * margin, {{ this.tooltip_max_px }}), 60) + "px";
                        place.call(this, pos);
                        var rect = tip.getBoundingClientRect();
                        if (this.options.direction === "top" && rect.top < box.top + margin) {
                            // No room above the pointer: below it instead, clear of the cursor.
                            var options = this.options;
                            this.options = L.extend({}, options, {direction: "bottom", offset: [0, {{ this.below_px }}]});
                            place.call(this, pos);
                            this.options = options;
                            rect = tip.getBoundingClientRect();
                        }
                        var dx = 0, dy = 0;
                        if (rect.right > box.right - margin) dx = box.right - margin - rect.right;
                        if (rect.left + dx < box.left + margin) dx = box.left + margin - rect.left;
                        if (rect.bottom > box.bottom - margin) dy = box.bottom - margin - rect.bottom;
                        if (rect.top + dy < box.top + margin) dy = box.top + margin - rect.top;
                        if (dx || dy) L.DomUtil.setPosition(tip, L.DomUtil.getPosition(tip).add([dx, dy]));
                        // Its arrow would no longer point at the place it describes.
                        L.DomUtil[dx || dy ? "addClass" : "removeClass"](tip, "atlas-tooltip-moved");
                    }
                });
            }

            function rings(latlngs) {
                if (!latlngs.length || latlngs[0] instanceof L.LatLng) return [latlngs];
                return latlngs.reduce(function (all, part) { return all.concat(rings(part)); }, []);
            }
            function within(rect) {
                var origin = container.getBoundingClientRect(), pad = 2;
                return L.bounds(
                    [rect.left - origin.left - pad, rect.top - origin.top - pad],
                    [rect.right - origin.left + pad, rect.bottom - origin.top + pad]
                );
            }
            map.atlasCovers = function (element) {
                var rect = element.getBoundingClientRect();
                if (!rect.width || !rect.height) return false;
                var box = within(rect), covered = false;
                map.eachLayer(function (layer) {
                    if (covered || layer.options.interactive === false) return;
                    if (layer instanceof L.Polygon && layer.feature) {
                        var bounds = layer.getBounds();
                        var corners = L.bounds(
                            map.latLngToContainerPoint(bounds.getNorthWest()),
                            map.latLngToContainerPoint(bounds.getSouthEast())
                        );
                        if (!box.intersects(corners)) return;
                        covered = rings(layer.getLatLngs()).some(function (ring) {
                            var points = ring.map(function (latlng) { return map.latLngToContainerPoint(latlng); });
                            return L.PolyUtil.clipPolygon(points, box).length > 0;
                        });
                    } else if (layer instanceof L.Marker && layer.getElement()) {
                        covered = box.intersects(within(layer.getElement().getBoundingClientRect()));
                    }
                });
                return covered;
            };
            // Folding controls (the key, the layer switches): open where they cover no force.
            var folds = [];
            map.atlasFold = function (control, body, title, noun) {
                var head = L.DomUtil.create("div", "atlas-fold-head");
                var heading = L.DomUtil.create("strong", "", head);
                heading.textContent = title;
                heading.id = "atlas-title-" + L.stamp(control);
                var button = L.DomUtil.create("button", "atlas-fold", head);
                button.type = "button";
                control.insertBefore(head, body);
                body.setAttribute("aria-labelledby", heading.id);
                var fold = {control: control, chosen: false};
                fold.show = function (open) {
                    body.style.display = open ? "" : "none";
                    button.textContent = (open ? "Hide " : "Show ") + noun;
                    button.setAttribute("aria-expanded", open ? "true" : "false");
                };
                L.DomEvent.disableClickPropagation(control);
                L.DomEvent.on(button, "click", function () {
                    fold.chosen = true;  // once the reader folds or unfolds it, their choice stands
                    fold.show(body.style.display === "none");
                });
                fold.show(true);
                folds.push(fold);
            };
            function unchosen() { return folds.filter(function (fold) { return !fold.chosen; }); }
            function openAll() { unchosen().forEach(function (fold) { fold.show(true); }); }
            // At the current view: each control open where, open, it covers no force, folded where it
            // would. The score ranks views: first how many controls cover nothing (open or folded),
            // then which are open (the key first).
            function refold() {
                var all = unchosen(), clear = 0, open = 0;
                openAll();
                all.forEach(function (fold, index) {
                    if (!map.atlasCovers(fold.control)) {
                        clear += 1;
                        open += Math.pow(2, all.length - 1 - index);
                    } else {
                        fold.show(false);
                        if (!map.atlasCovers(fold.control)) clear += 1;
                    }
                });
                return clear * Math.pow(2, all.length) + open;
            }
            // The default view: England and Wales fitted to the map, without animation (an animated
            // zoom would still be running when the controls are laid out). Where the controls would
            // cover a force, the view may zoom out by up to {{ this.zoom_out_steps }} snap step(s) to make room in the
            // sea: it takes the zoom with the best score (the closest one of equals). Until the reader
            // moves or zooms the map, a new size (a resized window) lays it out again.
            var home = L.latLngBounds({{ this.bounds_json }}), laying = false, touched = false;
            map.fitBounds(home, {animate: false});
            map.on("dragstart zoomstart", function () { if (!laying) touched = true; });
            function layout() {
                laying = true;
                map.fitBounds(home, {animate: false});
                var fitted = map.getZoom(), centre = map.getCenter(), best = fitted, bestScore = -1;
                for (var step = 0; step <= {{ this.zoom_out_steps }}; step++) {
                    var zoom = Math.max(fitted - step * map.options.zoomSnap, map.getMinZoom());
                    map.setView(centre, zoom, {animate: false});
                    var scored = refold();
                    if (scored > bestScore) { best = zoom; bestScore = scored; }
                }
                map.setView(centre, best, {animate: false});
                refold();
                laying = false;
            }
            // Once the whole script has run (every layer and control is on the map) and Leaflet's
            // stylesheet, which places the controls in the corners, applies: until then the controls
            // are not where they will be (the inline component loads it first; streamlit-folium, on
            // other pages, alongside the script).
            function whenStyled(then, tries) {
                var corner = container.querySelector(".leaflet-top");
                if ((corner && getComputedStyle(corner).position === "absolute") || tries > 200) {
                    then();
                } else {
                    setTimeout(function () { whenStyled(then, tries + 1); }, 25);
                }
            }
            map.whenReady(function () { setTimeout(function () { whenStyled(layout, 0); }, 0); });
            map.on("resize", function () { if (touched) { refold(); } else { layout(); } });
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, bounds: list[list[float]]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca's MacroElement.__init__ has no annotations
        self._name = "MapBehaviour"
        self.bounds_json = json.dumps(bounds)
        self.css_json = json.dumps(MAP_CSS)
        self.below_px = TOOLTIP_BELOW_PX
        self.tooltip_max_px = TOOLTIP_MAX_PX
        self.zoom_out_steps = ZOOM_OUT_STEPS


class HatchPatterns(MacroElement):
    """SVG patterns in the map's vector layer, for categories drawn hatched (``fill: url(#id)``)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map) {
            function addPatterns() {
                var svg = map.getPanes().overlayPane.querySelector("svg");
                if (!svg || svg.querySelector("defs.atlas-patterns")) return;
                var defs = document.createElementNS(svg.namespaceURI, "defs");
                defs.setAttribute("class", "atlas-patterns");
                defs.innerHTML = {{ this.defs_json }};
                svg.insertBefore(defs, svg.firstChild);
            }
            addPatterns();
            map.on("layeradd", addPatterns);
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, fills: Mapping[str, str]):
        super().__init__()  # type: ignore[no-untyped-call]  # branca's MacroElement.__init__ has no annotations
        self._name = "HatchPatterns"
        self.defs_json = json.dumps("".join(_hatch_pattern(key, fill) for key, fill in fills.items()))


class Legend(MacroElement):
    """A Leaflet control listing the classes as swatches with text labels.

    It folds away (``atlasFold``) to show the forces under it: at first wherever, open, it would
    cover part of England and Wales (the table and the text key below the map say the same).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: {{ this.position_json }}});
        {{ this.get_name() }}.onAdd = function (map) {
            var div = L.DomUtil.create("div", "atlas-legend");
            div.innerHTML = {{ this.body_json }};
            map.atlasFold(div, div.querySelector(".atlas-legend-body"), {{ this.title_json }}, "key");
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, title: str, entries: list[tuple[str, Mapping[str, object], int]], position: str = "topleft"):
        super().__init__()  # type: ignore[no-untyped-call]  # branca's MacroElement.__init__ has no annotations
        self._name = "Legend"
        self.position_json = json.dumps(position)
        rows = ['<div class="atlas-legend-body" role="list">']
        for label, style, count in entries:
            border = "1px dashed #333" if style.get("dashArray") else "1px solid #333"
            fill = _hatch_swatch(str(style["fillColor"])) if style.get("hatch") else f"background:{style['fillColor']}"
            rows.append(
                '<div role="listitem" class="atlas-legend-item">'
                f'<span class="atlas-swatch" style="{fill};border:{border}"></span>'
                f"<span>{html.escape(label)} ({count})</span></div>"
            )
        rows.append("</div>")
        self.title_json = json.dumps(title)
        self.body_json = json.dumps("".join(rows))


class LayerFold(MacroElement):
    """Folds the layer switches away like the key (``atlasFold``), under a header of their own."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map, control) {
            var container = control.getContainer();
            var list = container.querySelector(".leaflet-control-layers-list");
            list.setAttribute("role", "group");
            map.atlasFold(container, list, {{ this.title_json }}, "layers");
        })({{ this._parent.get_name() }}, {{ this.control.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, control: folium.LayerControl, title: str):
        super().__init__()  # type: ignore[no-untyped-call]  # branca's MacroElement.__init__ has no annotations
        self._name = "LayerFold"
        self.control = control
        self.title_json = json.dumps(title)


class Attribution(MacroElement):
    """Adds the required data attribution to Leaflet's attribution control (as text, escaped)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text_json }});
        {{ this._parent.get_name() }}.attributionControl.getContainer().style.fontSize = "11px";
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
        key = feature["properties"]["category"]
        key = key if key in styles else fallback
        chosen = styles[key]
        result = {
            "fillColor": f"url(#{hatch_pattern_id(key)})" if chosen.get("hatch") else chosen["fillColor"],
            "fillOpacity": chosen["fillOpacity"],
            "color": "#333333",
            "weight": 0.8,
        }
        if chosen.get("dashArray"):
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
        control_scale=False,  # added by MapBehaviour, clear of the attribution
        prefer_canvas=False,
        attribution_control=True,
        zoom_control=True,
        max_bounds=True,
        min_zoom=5,
        zoom_snap=0.25,
        # The wheel scrolls the page until the reader clicks or focuses the map (MapBehaviour).
        scroll_wheel_zoom=False,
    )
    _offline_assets(fmap, asset_base_url)
    MapBehaviour(ENGLAND_AND_WALES_BOUNDS).add_to(fmap)
    if tiles:
        openstreetmap_layer().add_to(fmap)

    AreaGeoJson(
        category_geojson(boundaries, table, category_column, label_column),
        name="Police force areas",
        style_function=_style_for(styles, fallback=list(styles)[-1]),
        highlight_function=lambda _feature: {"weight": 3, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(
            fields=["name", "category_label", "population"],
            aliases=["Force area", tooltip_alias, "Population, all ages (mid-2023)"],
            # Above the pointer and kept inside the map (MapBehaviour).
            sticky=True,
            direction="top",
            offset=[0, -TOOLTIP_ABOVE_PX],
        ),
        zoom_on_click=False,
        control=False,
    ).add_to(fmap)
    hatched = {key: str(style["fillColor"]) for key, style in styles.items() if style.get("hatch")}
    if hatched:
        HatchPatterns(hatched).add_to(fmap)

    counts = table[category_column].value_counts()
    entries = [(labels[key], styles[key], int(counts.get(key, 0))) for key in labels if key in styles]
    Legend(legend_title, entries).add_to(fmap)
    Attribution(ONS_ATTRIBUTION).add_to(fmap)
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


# The selected force's outline: drawn in the browser over that force's own shape, which the map
# already holds, so choosing a force restyles the map instead of sending or redrawing anything.
SELECTED_OUTLINE_STYLE: dict[str, object] = {"fill": False, "color": "#F46A25", "weight": 4}


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
    control = folium.LayerControl(collapsed=False, position="topright")
    control.add_to(fmap)
    LayerFold(control, "Service layers").add_to(fmap)


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


# --- Compiling a folium map for an inline component ------------------------------------------------
#
# The idea of streamlit-folium's Components v2 proposal ("vnext", randyzwitch/streamlit-folium#306):
# compile the folium map on the server into data, and keep one live Leaflet map in the page that later
# runs only update. Here the compiled form is what folium itself generates (its script, the map's
# element and styles, the files it loads), so every MacroElement above (the wheel, the tooltips, the
# folding key, the hatching) runs unchanged; what changes between runs (the selected force, the basemap)
# is sent beside it as small values the component applies to the live map.

# Rules folium writes for a map that is a whole HTML page of its own: inside the atlas's page they would
# restyle the page (html, body) or nothing at all (#map).
_PAGE_ONLY_STYLE = re.compile(r"^\s*(html\s*,\s*body|#map)\s*\{", re.IGNORECASE)
_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.IGNORECASE | re.DOTALL)
_FOLIUM_ID = re.compile(r"(?<=_)[0-9a-f]{32}(?![0-9a-f])")


def _header_css(root: Figure) -> str:
    """The map's own style rules from folium's page header (its size, its tooltip tables)."""
    rules = []
    for child in root.header._children.values():
        if isinstance(child, JavascriptLink | CssLink):
            continue
        for block in _STYLE.findall(child.render()):
            if not _PAGE_ONLY_STYLE.match(block):
                rules.append(" ".join(block.split()))
    return "\n".join(rules)


def tile_layer_spec(layer: folium.TileLayer) -> dict[str, object]:
    """A folium tile layer as the URL template and Leaflet options the component adds it with."""
    return {"url": layer.tiles, "options": {camelize(key): value for key, value in layer.options.items()}}


def inline_map_spec(fmap: folium.Map, *, basemap: folium.TileLayer | None = None) -> dict[str, Any]:
    """Compile a folium map into what an inline component needs to draw it in the page.

    - ``script``: folium's generated JavaScript, which creates the map in its element and leaves it in
      the variable ``map_name`` (also the element's id);
    - ``html``: that element; ``css``: folium's style rules for it (the page-wide ones dropped);
    - ``js`` and ``css_links``: the files folium loads first (here the app's own Leaflet, never a CDN);
    - ``basemap``: an optional tile layer, added and removed in the browser without rebuilding the map;
    - ``outline``: the style of the selected force's outline;
    - ``version``: a digest of all of it (folium's random element ids aside), so the component rebuilds
      its map only when the map itself changes.
    """
    root = fmap.get_root()
    if not isinstance(root, Figure):
        raise TypeError("the map is not in a folium figure")
    root.render()
    header = list(root.header._children.values())
    spec: dict[str, Any] = {
        "map_name": fmap.get_name(),
        "html": root.html.render().strip(),
        "css": _header_css(root),
        "script": root.script.render(),
        "js": [child.url for child in header if isinstance(child, JavascriptLink)],
        "css_links": [child.url for child in header if isinstance(child, CssLink)],
        "basemap": tile_layer_spec(basemap) if basemap is not None else None,
        "outline": SELECTED_OUTLINE_STYLE,
    }
    digest = hashlib.sha256(_FOLIUM_ID.sub("", json.dumps(spec, sort_keys=True)).encode()).hexdigest()
    spec["version"] = digest[:16]
    return spec


def openstreetmap_layer() -> folium.TileLayer:
    """The optional OpenStreetMap basemap (it needs the internet and tells the tile server who is looking)."""
    return folium.TileLayer("OpenStreetMap", attr=OSM_ATTRIBUTION, name="OpenStreetMap basemap")
