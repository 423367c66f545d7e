"""The folium map as generated code: offline assets, escaped text, legend and classes."""

from __future__ import annotations

import re

import pytest
from streamlit_folium import generate_leaflet_string

from coverage.model import atlas_data
from coverage.outputs.maps import PROVISION_STYLES, provision_geojson, provision_map, selected_outline
from coverage.vocabulary import PROVISION_CLASS_LABELS, PROVISION_CLASSES

LABELS = {key: PROVISION_CLASS_LABELS[key] for key in PROVISION_CLASSES}


@pytest.fixture(scope="module")
def shipped():
    data = atlas_data.load_all()
    return data, atlas_data.provision_table(data.forces, data.register)


def _rendered(fmap) -> str:
    page = fmap.get_root().render()
    return page + generate_leaflet_string(fmap)


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


def test_selected_outline_holds_only_the_chosen_force(shipped):
    data, _ = shipped
    group = selected_outline(data.boundaries, "E23000006")
    layers = list(group._children.values())
    assert len(layers) == 1
    assert [f["properties"]["code"] for f in layers[0].data["features"]] == ["E23000006"]
    assert list(selected_outline(data.boundaries, None)._children.values()) == []
    assert list(selected_outline(data.boundaries, "E23000099")._children.values()) == []


def test_map_payload_is_small(shipped):
    data, table = shipped
    fmap = provision_map(data.boundaries, table, LABELS)
    assert len(_rendered(fmap).encode()) <= 600 * 1024


def test_map_script_is_the_same_without_folium_page_render(shipped):
    # app_pages/map.py passes render=False to st_folium to save server time; that must not change the map.
    from streamlit_folium import _get_header, _get_html, _get_map_string

    data, table = shipped
    full = provision_map(data.boundaries, table, LABELS)
    full.get_root().render()
    full.render()
    quick = provision_map(data.boundaries, table, LABELS)
    quick.render()

    def same(text: str) -> str:  # each folium map has its own random element id
        return re.sub(r"[0-9a-f]{32}", "ID", text)

    assert same(_get_map_string(quick)) == same(_get_map_string(full))
    assert same(_get_html(quick)) == same(_get_html(full))
    assert same(_get_header(quick)) == same(_get_header(full))


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
