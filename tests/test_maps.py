"""The folium map as generated code: offline assets, escaped text, legend and classes.

The Map page sends folium's script as compiled by ``inline_map_spec`` (tests/test_inline_map.py);
the postcode lottery's map is compiled the same way (tests/test_compiled_maps.py)."""

from __future__ import annotations

import re

import pytest

from coverage.model import atlas_data
from coverage.outputs.maps import PROVISION_STYLES, provision_geojson, provision_map
from coverage.vocabulary import PROVISION_CLASS_LABELS, PROVISION_CLASSES

LABELS = {key: PROVISION_CLASS_LABELS[key] for key in PROVISION_CLASSES}


@pytest.fixture(scope="module")
def shipped():
    data = atlas_data.load_all()
    return data, atlas_data.provision_table(data.forces, data.register)


def _rendered(fmap) -> str:
    """The whole page folium writes for the map: its script, header and element."""
    return fmap.get_root().render()


def test_map_loads_only_the_apps_own_leaflet(shipped):
    data, table = shipped
    fmap = provision_map(data.boundaries, table, LABELS)
    code = _rendered(fmap)
    urls = set(re.findall(r"https?://[^\s\"')]+", code))
    assert urls == set(), f"external URLs in the map: {sorted(urls)[:5]}"
    assert "/app/static/vendor/leaflet/leaflet.js" in code
    assert "/app/static/vendor/leaflet/leaflet.css" in code


def test_basemap_is_opt_in_and_attributed(shipped):
    data, table = shipped
    code = _rendered(provision_map(data.boundaries, table, LABELS, tiles=True))
    assert "tile.openstreetmap.org" in code
    assert "OpenStreetMap contributors" in code


def test_every_force_is_drawn_with_its_class_and_the_legend_counts_them(shipped):
    data, table = shipped
    geojson = provision_geojson(data.boundaries, table)
    assert len(geojson["features"]) == 43
    classes = [f["properties"]["category"] for f in geojson["features"]]
    assert set(classes) <= set(PROVISION_STYLES)
    code = _rendered(provision_map(data.boundaries, table, LABELS))
    counts = table["provision_class"].value_counts()
    for key, label in LABELS.items():
        assert f"{label} ({int(counts.get(key, 0))})" in code
    assert "Unknown (not searched) (0)" in code  # every force searched since the December 2026 review
    assert "Office for National Statistics licensed under the Open Government Licence" in code


def test_text_from_data_is_escaped_before_it_reaches_the_map(shipped):
    data, table = shipped
    hostile = table.copy()
    hostile.loc[hostile["code"] == "E23000006", "name"] = '<script>alert("x")</script> & <b>bold</b>'
    geojson = provision_geojson(data.boundaries, hostile)
    cheshire = next(f for f in geojson["features"] if f["properties"]["code"] == "E23000006")
    assert (
        cheshire["properties"]["name"]
        == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"
    )
    code = _rendered(provision_map(data.boundaries, hostile, LABELS))
    assert "<script>alert" not in code


def test_every_class_has_a_distinct_style_and_unknown_is_dashed():
    assert set(PROVISION_STYLES) == set(PROVISION_CLASSES)
    assert PROVISION_STYLES["unknown"]["dashArray"] and not PROVISION_STYLES["national_only"]["dashArray"]
    assert len({s["fillColor"] for s in PROVISION_STYLES.values()}) == len(PROVISION_STYLES)
    # Told apart without colour too: the two palest classes are hatched and dashed, and say so in words.
    assert [key for key, style in PROVISION_STYLES.items() if style["hatch"]] == ["national_only"]
    assert "hatched" in str(PROVISION_STYLES["national_only"]["pattern"])
    assert "dashed" in str(PROVISION_STYLES["unknown"]["pattern"])


def test_map_payload_is_small(shipped):
    data, table = shipped
    fmap = provision_map(data.boundaries, table, LABELS)
    assert len(_rendered(fmap).encode()) <= 600 * 1024


def test_markdown_from_data_is_inert():
    from ui.markdown import escape_markdown

    assert escape_markdown("<script>x</script> [link](http://e.vil) *bold*") == (
        "\\<script\\>x\\</script\\> \\[link\\](http://e.vil) \\*bold\\*"
    )
    assert escape_markdown("Multi-agency stalking unit.") == "Multi-agency stalking unit."


def test_each_service_type_is_a_switchable_layer_of_lettered_badges(shipped):
    from coverage.model.register import provision_flags
    from coverage.outputs.maps import SERVICE_LAYERS, add_service_layers, representative_points

    data, table = shipped
    flags = provision_flags(data.register, list(data.forces["code"]))
    names = dict(zip(data.forces["code"], data.forces["name"]))
    fmap = provision_map(data.boundaries, table, LABELS)
    add_service_layers(fmap, flags, names, representative_points(data.boundaries))
    code = fmap.get_root().render()
    assert "L.control.layers" in code
    for column, letter, title, _ in SERVICE_LAYERS:
        assert f"{letter}: {title}" in code
        assert code.count(f">{letter}<\\/div>") == int(flags[column].sum())
    assert "Cheshire: multi-agency stalking units" in code


def test_badges_sit_inside_their_force_area(shipped):
    from shapely.geometry import Point, shape

    from coverage.outputs.maps import representative_points

    data, _ = shipped
    points = representative_points(data.boundaries)
    for feature in data.boundaries["features"]:
        lat, lon = points[feature["properties"]["code"]]
        assert shape(feature["geometry"]).buffer(0.001).contains(Point(lon, lat))


def test_the_fixed_map_bounds_enclose_every_force_area(shipped):
    import shapely
    from shapely.geometry import shape

    from coverage.outputs.maps import ENGLAND_AND_WALES_BOUNDS

    data, _ = shipped
    west, south, east, north = shapely.total_bounds([shape(f["geometry"]) for f in data.boundaries["features"]])
    (lat_min, lon_min), (lat_max, lon_max) = ENGLAND_AND_WALES_BOUNDS
    assert lat_min <= south and lon_min <= west and lat_max >= north and lon_max >= east
    assert max(south - lat_min, north - lat_max, west - lon_min, lon_max - east) < 0.2  # and are tight


# --- The map that behaves (the generated script) ---------------------------------------------------


def _atlas_script(shipped) -> str:
    """The script the Map page's inline map runs: folium's own, as inline_map_spec compiles it."""
    from coverage.outputs.maps import atlas_map, inline_map_spec

    data, table = shipped
    return inline_map_spec(atlas_map(data.boundaries, table, LABELS))["script"]


def test_the_wheel_zooms_the_map_only_once_it_is_clicked_or_focused(shipped):
    code = _atlas_script(shipped)
    assert '"scrollWheelZoom": false' in code  # at first the wheel scrolls the page
    assert 'map.on("click focus", function () { wheelZooms(true); });' in code
    assert '"mouseleave", function () { wheelZooms(false); }' in code
    assert '"focusout"' in code
    # The zoom buttons and the keyboard still zoom.
    assert '"zoomControl": true' in code
    assert '"keyboard": false' not in code


def test_area_tooltips_sit_above_the_pointer_and_are_kept_inside_the_map(shipped):
    from coverage.outputs.maps import TOOLTIP_ABOVE_PX, TOOLTIP_MAX_PX

    code = _atlas_script(shipped)
    options = re.search(r'\n\s*,(\{[^{}]*"className": "foliumtooltip",\s*\})\);', code)
    assert options, "no area tooltip"
    assert '"sticky": true' in options.group(1)
    assert '"direction": "top"' in options.group(1)
    assert f"-{TOOLTIP_ABOVE_PX}" in options.group(1)
    # Every tooltip (areas and badges) is moved in from any edge it would cross, and is no wider than
    # the map (or TOOLTIP_MAX_PX); the content stays: force, class, population.
    assert "L.Tooltip.include({" in code and "atlasKeptInside: true" in code
    assert f"Math.min(box.width - 2 * margin, {TOOLTIP_MAX_PX})" in code
    assert '["name", "category_label", "population"]' in code


def test_national_services_only_is_hatched_on_the_map_and_in_the_key(shipped):
    from coverage.outputs import static_map
    from coverage.outputs.maps import HATCH, hatch_pattern_id
    from coverage.vocabulary import HATCHED_CLASSES

    _, table = shipped
    code = _atlas_script(shipped)
    pattern = hatch_pattern_id("national_only")
    # The forces with nothing found locally, and only they, are filled with the SVG hatch pattern ...
    national = sorted(table.loc[table["provision_class"] == "national_only", "code"])
    cases = re.search(rf'((?:case "[EW]\d+": )+)\s*return \{{[^}}]*"fillColor": "url\(#{pattern}\)"', code)
    assert cases and sorted(re.findall(r'case "([EW]\d+)"', cases.group(1))) == national
    assert code.count('"fillColor": "url(#') == 1
    # ... which the script adds to the map's SVG: the class's light grey under the static map's lines.
    assert f'<pattern id=\\"{pattern}\\"' in code
    assert 'fill=\\"#E6E6E6\\"' in code and f'fill=\\"{HATCH}\\"' in code
    assert "svg.insertBefore(defs, svg.firstChild)" in code
    # The key's swatch is hatched the same way, and the static map and PDF hatch the same class.
    assert code.count("repeating-linear-gradient(") == 1
    assert HATCH == static_map.HATCH
    assert set(HATCHED_CLASSES) == {"national_only"}


def test_a_category_map_without_hatched_categories_draws_no_pattern(shipped):
    # The postcode lottery's map passes its own styles, with no "hatch" key.
    from coverage.outputs.maps import category_map

    data, table = shipped
    styles = {key: {"fillColor": "#E6E6E6", "fillOpacity": 0.9, "dashArray": None} for key in PROVISION_CLASSES}
    fmap = category_map(
        data.boundaries,
        table,
        category_column="provision_class",
        label_column="provision_label",
        styles=styles,
        labels=LABELS,
        legend_title="Test",
        tooltip_alias="Class",
    )
    code = _rendered(fmap)
    assert "atlas-patterns" not in code and "url(#" not in code
    assert "map.atlasFold(div" in code  # its key folds like the Map page's


def test_the_key_and_layer_switches_fold_and_make_room_in_the_sea(shipped):
    from coverage.outputs.maps import ENGLAND_AND_WALES_BOUNDS, ZOOM_OUT_STEPS

    code = _atlas_script(shipped)
    # The key (top left, under the zoom buttons) and the layer switches (top right) fold under a header.
    assert re.search(r'L\.control\(\{position: "topleft"\}\);\s*\w+\.onAdd', code)
    assert 'map.atlasFold(div, div.querySelector(".atlas-legend-body"), "Stalking provision", "key");' in code
    assert '"position": "topright"' in code and 'map.atlasFold(container, list, "Service layers", "layers");' in code
    assert '<div class=\\"atlas-legend-body\\" role=\\"list\\">' in code
    # They open only where they cover no force (atlasCovers), after a view fitted without animation
    # and zoomed out at most ZOOM_OUT_STEPS snaps; on a new size, the layout is redone.
    assert f"L.latLngBounds({ENGLAND_AND_WALES_BOUNDS})".replace(" ", "") in code.replace(" ", "")
    assert "map.fitBounds(home, {animate: false});" in code
    assert f"step <= {ZOOM_OUT_STEPS}" in code
    assert "map.atlasCovers(fold.control)" in code and "L.PolyUtil.clipPolygon(points, box)" in code
    assert 'map.on("resize"' in code
    # The scale sits above the attribution, not under it.
    assert 'L.control.scale({position: "bottomright"})' in code
