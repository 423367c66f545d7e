"""The inline map: folium's map compiled for the Map page's Components v2 component, and bad clicks."""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from coverage import paths
from coverage.model import atlas_data
from coverage.outputs.maps import (
    SELECTED_OUTLINE_STYLE,
    atlas_map,
    inline_map_spec,
    openstreetmap_layer,
    provision_map,
)
from coverage.vocabulary import PROVISION_CLASS_LABELS, PROVISION_CLASSES
from ui.inline_map import COMPONENT_JS, VIEW_JS, clicked_force, force_codes, view_key

LABELS = {key: PROVISION_CLASS_LABELS[key] for key in PROVISION_CLASSES}


@pytest.fixture(scope="module")
def shipped():
    data = atlas_data.load_all()
    return data, atlas_data.provision_table(data.forces, data.register)


@pytest.fixture(scope="module")
def spec(shipped):
    data, table = shipped
    return inline_map_spec(atlas_map(data.boundaries, table, LABELS), basemap=openstreetmap_layer())


def test_the_compiled_map_is_folium_s_own_script_element_and_styles(spec):
    name = spec["map_name"]
    assert re.fullmatch(r"map_[0-9a-f]{32}", name)
    assert f'var {name} = L.map(\n                "{name}"' in spec["script"]
    assert spec["html"] == f'<div class="folium-map" id="{name}" ></div>'
    # folium's rules for the map element and its tooltips, without those meant for a page of its own.
    assert f"#{name} {{ position: relative; width: 100.0%; height: 100.0%;" in spec["css"]
    assert ".foliumtooltip" in spec["css"]
    assert "html, body" not in spec["css"] and not re.search(r"#map\s*\{", spec["css"])
    # Everything the atlas's map does is in the script: the wheel, tooltips, the folding key, the hatch.
    for piece in (
        "wheelZooms(true)",
        "atlasKeptInside",
        "map.atlasFold(",
        "atlas-hatch-national_only",
        "L.control.layers",
    ):
        assert piece in spec["script"], piece


def test_the_compiled_map_loads_only_the_apps_own_leaflet(spec):
    assert spec["js"] == ["/app/static/vendor/leaflet/leaflet.js"]
    assert spec["css_links"] == ["/app/static/vendor/leaflet/leaflet.css"]
    drawn = json.dumps({key: value for key, value in spec.items() if key != "basemap"})
    assert re.findall(r"https?://[^\s\"')]+", drawn) == []
    # The basemap is the one outside address, added only when the reader switches it on.
    assert spec["basemap"]["url"] == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert spec["basemap"]["options"]["attribution"] == "© OpenStreetMap contributors"
    assert spec["basemap"]["options"]["maxZoom"] == 19  # Leaflet's option names, not folium's
    assert spec["outline"] == SELECTED_OUTLINE_STYLE


def test_the_version_names_the_map_not_folium_s_random_ids(shipped, spec):
    data, table = shipped
    again = inline_map_spec(atlas_map(data.boundaries, table, LABELS), basemap=openstreetmap_layer())
    assert again["map_name"] != spec["map_name"] and again["version"] == spec["version"]
    changed = table.copy()
    changed.loc[changed["code"] == "E23000006", ["provision_class", "provision_label"]] = [
        "national_only",
        LABELS["national_only"],
    ]
    other = inline_map_spec(atlas_map(data.boundaries, changed, LABELS), basemap=openstreetmap_layer())
    assert other["version"] != spec["version"]


def test_the_data_sent_each_run_is_small(spec):
    assert len(json.dumps({"map": spec, "selected": "E23000006", "basemap": False}).encode()) <= 600 * 1024


def test_a_users_boundary_file_is_compiled_the_same_way_with_its_names_escaped(shipped):
    # A visitor's own file may hold fewer areas, and any text: every name reaches the map escaped.
    data, table = shipped
    hostile = table.copy()
    hostile.loc[hostile["code"] == "E23000006", "name"] = '<img src=x onerror=alert(1)> & "Cheshire"</script>'
    few = {"type": "FeatureCollection", "features": data.boundaries["features"][:6]}
    spec = inline_map_spec(provision_map(few, hostile, LABELS))
    compiled = json.dumps(spec)
    assert "<img src=x" not in compiled and "</script>" not in spec["script"]
    # What the browser reads from the script (folium writes "&" as \u0026): the name as text, escaped.
    named = re.search(r'"code": "E23000006", "name": ("[^"]*")', spec["script"])
    assert named and json.loads(named.group(1)) == (
        "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;Cheshire&quot;&lt;/script&gt;"
    )
    assert force_codes(few) == {f["properties"]["code"] for f in data.boundaries["features"][:6]}


@pytest.mark.parametrize(
    "value",
    [None, "", 42, ["E23000006"], {"code": "E23000006"}, "E23000099", "e23000006", "<b>E23000006</b>"],
)
def test_a_click_that_names_no_drawn_force_selects_nothing(value, known_forces):
    assert clicked_force(value, drawn={"E23000006", "E23000001"}, known=known_forces) is None


def test_a_click_on_a_drawn_force_selects_it_unless_the_current_boundaries_lack_it(known_forces):
    assert clicked_force("E23000006", drawn={"E23000006"}, known=known_forces) == "E23000006"
    # The browser may still show a map drawn before the visitor changed their boundary file.
    assert clicked_force("E23000006", drawn={"E23000001"}, known=known_forces) is None


def test_the_component_runs_folium_s_script_in_the_page_and_sends_only_a_force_code():
    code = COMPONENT_JS.read_text(encoding="utf-8")
    assert code.count("export default function") == 1
    assert re.findall(r"https?://", code) == []  # it loads what the compiled map names, nothing else
    assert 'setTriggerValue("clicked", code)' in code and code.count("setTriggerValue(") == 1
    assert "document.currentScript.atlasMap" in code  # the map comes back without a global
    assert "iframe" not in code.replace("no iframe", "")


def _map_page() -> AppTest:
    return AppTest.from_file(str(paths.REPO_ROOT / "app.py"), default_timeout=60)


def _component_data(at: AppTest, key: str = "provision_map") -> dict:
    element = at.get_by_key(key)
    proto = element.proto
    return json.loads(proto.mixed.json if proto.WhichOneof("data") == "mixed" else proto.json)


def _element_bytes(at: AppTest, key: str) -> bytes:
    """The map element as Streamlit sends it (what its message cache compares from run to run)."""
    return at.get_by_key(key).proto.SerializeToString(deterministic=True)


def test_the_map_page_mounts_the_inline_map_without_an_iframe():
    at = _map_page().run()
    assert not at.exception
    sent = _component_data(at)
    assert sent["height"] == 620 and sent["map_id"] == "provision_map"
    assert sent["map"]["js"] == [] and sent["map"]["css_links"] == []  # Leaflet comes with the component
    element = at.get_by_key("provision_map").proto
    assert element.component_name == "atlas_inline_map" and not element.isolate_styles
    assert element.js_content.startswith("/* @preserve\n * Leaflet 1.9.3")
    assert "url(/app/static/vendor/leaflet/images/layers.png)" in element.css_content
    view = _component_data(at, view_key("provision_map"))
    assert view == {"map_id": "provision_map", "selected": None, "basemap": False}
    assert not list(at.get("iframe")) and not list(at.get("component_instance"))


def test_choosing_a_force_or_the_basemap_changes_only_the_view_not_the_map_element():
    at = _map_page().run()
    before = _element_bytes(at, "provision_map")
    at.selectbox(key="force").set_value("E23000006").run()
    at.toggle(key="basemap").set_value(True).run()
    assert not at.exception
    assert _component_data(at, view_key("provision_map")) == {
        "map_id": "provision_map",
        "selected": "E23000006",
        "basemap": True,
    }
    # Byte for byte the same element: Streamlit sends it once and then only a reference to it.
    assert _element_bytes(at, "provision_map") == before


def test_the_lottery_map_is_inline_too_and_sends_no_clicks():
    at = _map_page()
    at.run()
    at.switch_page("app_pages/lottery.py").run()
    assert not at.exception
    sent = _component_data(at, "no_service_map")
    assert sent["clickable"] is False and sent["height"] == 520 and sent["map"]["js"] == []
    assert "No local specialist service found" in sent["map"]["script"]
    assert not list(at.get("iframe")) and not list(at.get("component_instance"))


def test_the_view_component_takes_no_room_and_hands_its_values_to_the_map():
    code = VIEW_JS.read_text(encoding="utf-8")
    assert "export default function" in code and "setTriggerValue" not in code and "innerHTML" not in code
    assert "registry.show(mapId, view)" in code and "registry.views.delete(mapId)" in code
    assert "registry.show = (mapId, view)" in COMPONENT_JS.read_text(encoding="utf-8")
    at = _map_page().run()
    view = at.get_by_key(view_key("provision_map")).proto
    assert view.component_name == "atlas_inline_map_view" and "display: none;" in view.css_content
    assert view.html_content == '<span class="atlas-map-view" hidden></span>'
