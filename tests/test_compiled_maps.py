"""The inline maps shipped compiled in data/maps/: built by folium at build time, read only for the data they
were built from, and the pages that read them import no map or chart library on a first visit."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from coverage import paths
from coverage.model import atlas_data
from coverage.outputs import compiled_maps
from coverage.outputs.compiled_maps import NAMES, NO_SERVICE_MAP, PROVISION_MAP


@pytest.fixture(scope="module")
def shipped():
    data = atlas_data.load_all()
    return data.boundaries, atlas_data.provision_table(data.forces, data.register)


@pytest.mark.parametrize("name", NAMES)
def test_each_shipped_map_is_what_folium_builds_now_from_the_shipped_data(shipped, name):
    boundaries, provision = shipped
    shipped_text = compiled_maps.compiled_path(paths.DATA_DIR, name).read_text(encoding="utf-8")
    # Run `python -m coverage build-data --source ../shared/data` after changing a map or the data.
    assert shipped_text == compiled_maps.compiled_json(name, boundaries, provision)
    assert compiled_maps.read_compiled(paths.DATA_DIR, name, boundaries, provision) is not None


def test_a_shipped_map_is_not_used_for_other_data(shipped):
    boundaries, provision = shipped
    changed = provision.copy()
    changed.loc[changed["code"] == "E23000006", "provision_class"] = "national_only"
    assert compiled_maps.read_compiled(paths.DATA_DIR, PROVISION_MAP, boundaries, changed) is None
    fewer = {"type": "FeatureCollection", "features": boundaries["features"][:6]}
    assert compiled_maps.read_compiled(paths.DATA_DIR, NO_SERVICE_MAP, fewer, provision) is None


@pytest.mark.parametrize(
    "content",
    ["", "not json", "[]", '{"format": 99}', '{"format": 1, "name": "no_service_map"}', "\udcff\udc80" * 100],
)
def test_a_missing_damaged_or_foreign_file_is_rebuilt_not_read(shipped, tmp_path, content):
    boundaries, provision = shipped
    assert compiled_maps.read_compiled(tmp_path, PROVISION_MAP, boundaries, provision) is None  # no file
    path = compiled_maps.compiled_path(tmp_path, PROVISION_MAP)
    path.parent.mkdir(parents=True)
    path.write_text(content, encoding="utf-8", errors="surrogateescape")
    assert compiled_maps.read_compiled(tmp_path, PROVISION_MAP, boundaries, provision) is None
    # The provision map's file under the other map's name is not taken for it either.
    good = compiled_maps.compiled_json(NO_SERVICE_MAP, boundaries, provision)
    path.write_text(good, encoding="utf-8")
    assert compiled_maps.read_compiled(tmp_path, PROVISION_MAP, boundaries, provision) is None


def test_folium_s_random_ids_become_stable_and_differ_between_the_two_maps(shipped):
    boundaries, provision = shipped
    first = compiled_maps.build_spec(PROVISION_MAP, boundaries, provision)
    assert first == compiled_maps.build_spec(PROVISION_MAP, boundaries, provision)
    other = compiled_maps.build_spec(NO_SERVICE_MAP, boundaries, provision)
    assert first["map_name"] != other["map_name"]
    assert first["map_name"] in first["script"] and first["map_name"] in first["html"]


def test_an_unknown_map_name_is_refused(shipped):
    with pytest.raises(ValueError, match="no map called 'nope'"):
        compiled_maps.build_spec("nope", *shipped)


def test_a_first_visit_imports_only_what_the_page_draws_with():
    # Importing folium and Altair was most of a first visit's wait after a restart; the shipped maps
    # make folium unnecessary until a reader brings their own file, and the Map page draws no chart
    # until a force is chosen. The postcode lottery draws charts (Altair), not folium maps.
    script = textwrap.dedent(
        f"""
        import json, sys
        from streamlit.testing.v1 import AppTest
        libraries = ("folium", "altair", "vl_convert", "fpdf", "openpyxl")
        at = AppTest.from_file({str(paths.REPO_ROOT / "app.py")!r}, default_timeout=120)
        at.run()
        assert not at.exception, at.exception
        after_map = {{name: name in sys.modules for name in libraries}}
        at.switch_page("app_pages/lottery.py").run()
        assert not at.exception, at.exception
        print(json.dumps([after_map, {{name: name in sys.modules for name in libraries}}]))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    after_map, after_lottery = json.loads(result.stdout.strip().splitlines()[-1])
    assert after_map == dict.fromkeys(after_map, False)
    assert after_lottery == dict.fromkeys(after_lottery, False) | {"altair": True}


def test_a_visitors_own_boundary_file_is_drawn_from_that_file_not_the_shipped_map():
    from streamlit.testing.v1 import AppTest

    geojson = json.loads(paths.BOUNDARIES_GEOJSON.read_text(encoding="utf-8"))
    # Nudge one force's outline (Cheshire) by about 100 m east: a different file, every force still there.
    feature = next(f for f in geojson["features"] if f["properties"]["code"] == "E23000006")

    def nudge(value):
        return [value[0] + 0.0015, value[1]] if isinstance(value[0], float) else [nudge(v) for v in value]

    feature["geometry"]["coordinates"] = nudge(feature["geometry"]["coordinates"])
    at = AppTest.from_file(str(paths.REPO_ROOT / "app.py"), default_timeout=120)
    at.run()
    shipped_version = _map_data(at)["map"]["version"]
    at.switch_page("app_pages/methods.py").run()
    uploader = next(u for u in at.get("file_uploader") if u.key == "boundary_upload")
    uploader.set_value(("nudged.geojson", json.dumps(geojson).encode(), "application/geo+json")).run()
    at.button(key="use_boundaries").click().run()
    at.switch_page("app_pages/map.py").run()
    assert not at.exception
    drawn = _map_data(at)["map"]
    assert drawn["version"] != shipped_version
    point = feature["geometry"]["coordinates"]
    while not isinstance(point[0], float):
        point = point[0]
    assert f"[{point[0]}, {point[1]}]" in drawn["script"]  # the visitor's outline, as they sent it


def _map_data(at, key: str = PROVISION_MAP) -> dict:
    proto = at.get_by_key(key).proto
    return json.loads(proto.mixed.json if proto.WhichOneof("data") == "mixed" else proto.json)


def test_a_visitors_own_register_redraws_both_maps_for_that_visitor_only():
    from streamlit.testing.v1 import AppTest

    lines = paths.SERVICES_CSV.read_text(encoding="utf-8").splitlines()
    met = next(line for line in lines if line.startswith("E23000001-multi_agency_unit"))
    # Humberside (no local specialist service found) gets a multi-agency unit.
    lines.append(
        met.replace("E23000001-multi_agency_unit-1", "E23000012-multi_agency_unit-9", 1).replace(
            ",E23000001,", ",E23000012,", 1
        )
    )
    shipped = {
        name: json.loads(compiled_maps.compiled_path(paths.DATA_DIR, name).read_text())["spec"] for name in NAMES
    }
    at = AppTest.from_file(str(paths.REPO_ROOT / "app.py"), default_timeout=120)
    at.run()
    assert _map_data(at)["map"]["version"] == shipped[PROVISION_MAP]["version"]
    at.switch_page("app_pages/evidence.py").run()
    uploader = next(u for u in at.get("file_uploader") if u.key == "evidence_upload")
    uploader.set_value(("edited.csv", "\n".join(lines).encode(), "text/csv")).run()
    at.button(key="use_register").click().run()
    at.switch_page("app_pages/map.py").run()
    assert not at.exception
    assert _map_data(at)["map"]["version"] != shipped[PROVISION_MAP]["version"]
    at.switch_page("app_pages/lottery.py").run()
    lottery = _map_data(at, NO_SERVICE_MAP)["map"]
    assert lottery["version"] != shipped[NO_SERVICE_MAP]["version"]
    assert "No local specialist service found (13)" in lottery["script"]  # 14 before Humberside's unit
    other = AppTest.from_file(str(paths.REPO_ROOT / "app.py"), default_timeout=120)
    other.run()  # another visitor still gets the shipped map
    assert _map_data(other)["map"]["version"] == shipped[PROVISION_MAP]["version"]


def test_only_folium_s_element_ids_are_renamed():
    element_id = "0123456789abcdef0123456789abcdef"
    lookalike = "fedcba9876543210fedcba9876543210"
    spec = {"script": f"var map_{element_id} = L.map(); var name = 'Service_{lookalike}';"}
    renamed = compiled_maps.stable_ids(spec, PROVISION_MAP, [element_id])["script"]
    assert element_id not in renamed and f"Service_{lookalike}" in renamed
