"""Every page through Streamlit's AppTest: it runs, shows what it should, and its widgets work."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from streamlit.testing.v1 import AppTest

from coverage import paths

TIMEOUT = 60


def _app() -> AppTest:
    return AppTest.from_file(str(paths.REPO_ROOT / "app.py"), default_timeout=TIMEOUT)


def _text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown) + "\n".join(c.value for c in at.caption)


def test_map_page_states_the_takeaway_and_lists_all_forces():
    at = _app().run()
    assert not at.exception
    assert at.title[0].value == "Specialist stalking provision by police force area"
    text = _text(at)
    assert "Of the 43 police force areas in England and Wales, **5** have a multi-agency stalking unit" in text
    assert "Office for National Statistics licensed under the Open Government Licence v.3.0" in text
    table = at.table[0].value
    assert len(table) == 43
    assert set(table["Provision"]) == {
        "Multi-agency stalking unit",
        "Multi-agency clinic or panel",
        "None found in the search",
        "Unknown (not searched)",
    }
    assert "Data vintage" in "\n".join(m.value for m in at.sidebar.markdown)


def test_choosing_a_force_shows_its_profile_with_sources_and_sets_the_url():
    at = _app().run()
    at.selectbox(key="force").set_value("E23000006").run()
    assert not at.exception
    assert at.header[0].value == "Cheshire"
    metrics = {m.label: m.value for m in at.metric}
    assert "**Cheshire**: Multi-agency stalking unit." in _text(at)
    assert metrics["Population (mid-2023)"] == "1,119,495"
    services = at.dataframe[0].value
    assert services["Service"].str.contains("Harm Reduction Unit").any()
    ended = services[services["Service"].str.contains("Integrated Anti-Stalking Unit")]
    assert list(ended["Status"]) == ["ended"]
    sources = at.dataframe[1].value
    assert "S054" in set(sources["Source"])
    assert sources["Link"].notna().any()
    assert at.query_params["force"] == ["E23000006"] or at.query_params["force"] == "E23000006"


def test_a_link_with_a_force_reproduces_the_view():
    at = _app()
    at.query_params["force"] = "E23000034"
    at.run()
    assert not at.exception
    assert at.header[0].value == "City of London"
    assert "Unknown is not the same as none" in _text(at)
    assert at.warning[0].value.startswith("No register rows for this force")


def test_an_unknown_force_in_the_link_is_ignored_not_an_error():
    at = _app()
    at.query_params["force"] = "<script>alert(1)</script>"
    at.run()
    assert not at.exception
    assert at.selectbox(key="force").value is None
    assert "Choose a force above" in at.info[0].value


def test_clearing_the_force_removes_it_from_the_url():
    at = _app()
    at.query_params["force"] = "E23000030"
    at.run()
    at.selectbox(key="force").set_value(None).run()
    assert not at.exception
    assert "force" not in at.query_params


def test_basemap_toggle_adds_openstreetmap_attribution():
    at = _app().run()
    at.toggle[0].set_value(True).run()
    assert not at.exception
    assert "© OpenStreetMap contributors" in _text(at)


def test_data_and_methods_page_lists_every_dataset_with_licence():
    at = _app()
    at.switch_page("pages/data_methods.py")
    at.run()
    assert not at.exception
    catalogue = at.dataframe[0].value
    assert {"Publisher", "Period", "Licence", "Attribution"} <= set(catalogue.columns)
    assert len(catalogue) >= 3
    assert catalogue["Licence"].str.len().gt(0).all()
    assert [h.value for h in at.header][:3] == ["Datasets", "Required attribution", "How a force area is classed"]
    assert "Contains OS data © Crown copyright and database right 2023" in _text(at)
    register = at.dataframe[1].value
    assert len(register) >= 43
    sources = at.dataframe[2].value
    assert "R001" in set(sources["source_id"])


@pytest.mark.parametrize("page", ["pages/map.py", "pages/data_methods.py"])
def test_every_page_runs_without_exception(page):
    at = _app()
    at.switch_page(page)
    at.run()
    assert not at.exception


def _data_page() -> AppTest:
    at = _app()
    at.switch_page("pages/data_methods.py")
    return at.run()


def _uploader(at: AppTest, key: str):
    return next(u for u in at.get("file_uploader") if u.key == key)


def test_wrong_kind_of_boundary_file_gets_a_clear_message_and_the_map_is_unchanged():
    at = _data_page()
    _uploader(at, "boundary_upload").set_value(("notes.zip", _zip_bytes({"readme.txt": b"hi"}), "application/zip")).run()
    assert not at.exception
    assert "cannot be used" in at.error[0].value
    problems = at.dataframe[-1].value
    assert "the zip holds no .shp file (it holds readme.txt)" in problems["Problem"].iloc[0]


def test_boundary_file_with_42_forces_names_the_missing_force(known_forces):
    at = _data_page()
    geojson = json.loads(paths.BOUNDARIES_GEOJSON.read_text())
    geojson["features"] = [f for f in geojson["features"] if f["properties"]["code"] != "E23000019"]
    _uploader(at, "boundary_upload").set_value(("pfa.geojson", json.dumps(geojson).encode(), "application/geo+json")).run()
    problems = " ".join(at.dataframe[-1].value["Problem"])
    assert "has 42 features" in problems and "E23000019 (Nottinghamshire)" in problems


def test_a_valid_boundary_file_can_draw_the_map_for_this_session():
    at = _data_page()
    content = paths.BOUNDARIES_GEOJSON.read_bytes()
    _uploader(at, "boundary_upload").set_value(("my_pfa.geojson", content, "application/geo+json")).run()
    assert at.success[0].value.startswith("43 force areas")
    at.button(key="use_boundaries").click().run()
    assert not at.exception
    at.switch_page("pages/map.py").run()
    assert not at.exception
    assert "my_pfa.geojson" in at.info[0].value


def test_register_with_unknown_force_and_html_name_is_explained_not_rendered():
    at = _data_page()
    lines = paths.SERVICES_CSV.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace(",E23000001,", ",E23000099,", 1).replace("Stalking Threat Assessment Centre", "<script>alert(1)</script>")
    _uploader(at, "register_upload").set_value(("edited.csv", "\n".join(lines).encode(), "text/csv")).run()
    assert not at.exception
    assert "keeps using the shipped register" in at.error[0].value
    problem = at.dataframe[-1].value["Problem"].iloc[0]
    assert "line 2" in problem and "force_codes" in problem and "E23000099" in problem


def test_valid_register_with_script_in_a_name_is_accepted_as_plain_text():
    at = _data_page()
    text = paths.SERVICES_CSV.read_text(encoding="utf-8").replace(
        "Stalking Threat Assessment Centre", "<script>alert(1)</script> Centre", 1
    )
    _uploader(at, "register_upload").set_value(("edited.csv", text.encode(), "text/csv")).run()
    assert not at.exception
    assert at.success[0].value.startswith("46 rows")
    assert all("<script>" not in m.value for m in at.markdown)


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()
