"""Every page through Streamlit's AppTest: it runs, shows what it should, and its widgets work."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from streamlit.testing.v1 import AppTest

from coverage import paths

TIMEOUT = 60
CHESHIRE_POPULATION = 1_119_495  # all ages, mid-2023 (data/forces/forces.csv)


def _app() -> AppTest:
    return AppTest.from_file(str(paths.REPO_ROOT / "app.py"), default_timeout=TIMEOUT)


def _text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown) + "\n".join(c.value for c in at.caption)


def test_map_page_states_the_takeaway_and_lists_all_forces():
    at = _app().run()
    assert not at.exception
    assert at.title[0].value == "Specialist stalking provision by police force area"
    text = _text(at)
    # One plain sentence on the first screen; the class-by-class counts sit with the key.
    assert (
        "Only **4** of the 43 police force areas in England and Wales have a multi-agency stalking unit (police, "
        "probation, health and advocates working each case together); in **14**, no local specialist stalking "
        "service was found."
    ) in text
    assert "Of the 43 police force areas in England and Wales, 4 have a multi-agency stalking unit" in text
    assert "Office for National Statistics licensed under the Open Government Licence v.3.0" in text
    table = _force_table(at)
    assert len(table) == 43
    assert set(table["Provision"]) == {
        "Multi-agency stalking unit",
        "Multi-agency clinic or panel",
        "Specialist advocacy, no multi-agency unit",
        "Perpetrator programme or police team only",
        "National services only (none found locally)",
    }  # every force has been searched since the December 2026 review
    assert "Data vintage" in "\n".join(m.value for m in at.sidebar.markdown)


def test_choosing_a_force_shows_its_profile_with_sources_and_sets_the_url():
    at = _app().run()
    at.selectbox(key="force").set_value("E23000006").run()
    assert not at.exception
    assert at.header[0].value == "Cheshire"
    metrics = {m.label: m.value for m in at.metric}
    assert "**Cheshire**: Multi-agency stalking unit." in _text(at)
    # The headline is police recorded stalking (8Q) in the latest year, with both rates checkable by hand.
    assert metrics["Stalking (8Q), YE Dec 2025"] == "3,006"
    assert metrics["Per 1,000 aged 16+"] == f"{3_006 / 920_836 * 1000:.2f}"
    assert metrics["Per 1,000 population"] == f"{3_006 / CHESHIRE_POPULATION * 1000:.2f}"
    assert metrics["Change since YE Dec 2024"] == f"\u2212{(3_149 - 3_006) / 3_149 * 100:.1f}%"
    assert "Population aged 16+ (mid-2023): 920,836" in _text(at)
    services = at.dataframe[1].value  # after the 43-force table
    assert list(services.columns)[:3] == ["Service", "Status", "Years"]  # an ended service reads as ended
    assert services["Service"].str.contains("Harm Reduction Unit").any()
    ended = services[services["Service"].str.contains("Integrated Anti-Stalking Unit")]
    assert list(ended["Status"]) == ["Ended"]
    national = at.dataframe[2].value
    assert national["Service"].str.contains("National Stalking Helpline").any()
    sources = at.dataframe[3].value
    assert "S054" in set(sources["Source"])
    assert sources["Link"].notna().any()
    assert at.query_params["force"] == ["E23000006"] or at.query_params["force"] == "E23000006"


def test_choosing_a_force_answers_beside_the_map_at_once():
    at = _app().run()
    at.selectbox(key="force").set_value("E23000024").run()  # Norfolk
    assert not at.exception
    card = "\n".join(m.value for m in at.get("markdown") if m.value)
    assert "**Norfolk: National services only (none found locally)**" in card
    assert "**Has:**" not in card  # nothing local counts there
    assert "**Not found:** Multi-agency stalking unit; Multi-agency stalking clinic or panel;" in card
    assert "Unlike the 4 best-served areas (Cambridgeshire, Cheshire, Hampshire, Metropolitan Police)" in card
    assert (
        "1,311 stalking offences recorded (YE Dec 2025): 1.41 per 1,000 people, below England and Wales (2.36)." in card
    )
    assert "[See the full profile below" in card and "(#force-profile)" in card


def test_switching_the_demand_measure_changes_headline_chart_and_url_and_shows_the_trend():
    at = _app()
    at.query_params["force"] = "E23000006"
    at.run()
    assert at.selectbox(key="measure").value == "stalking"
    assert "measure" not in at.query_params  # the headline measure needs no parameter
    text = _text(at)
    assert "counting rules changed in April 2018 and April 2020" in text  # the trend's takeaway names the breaks
    trend_table = at.dataframe[-1].value
    assert list(trend_table.columns) == ["Cheshire", "North West", "England and Wales"]
    assert trend_table.index[0] == "YE Dec 2014" and trend_table.index[-1] == "YE Dec 2025"
    at.selectbox(key="measure").set_value("group").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Stalking and harassment group (8L + 8M + 8Q + 8R + 8U), YE Dec 2025"] == "13,342"
    assert at.query_params["measure"] in (["group"], "group")
    assert "malicious communications (8R)" in _text(at)  # the 8R recording change is flagged with the group


def test_a_link_with_a_measure_reproduces_it_and_a_bad_one_falls_back_to_stalking():
    at = _app()
    at.query_params["force"] = "E23000006"
    at.query_params["measure"] = "harassment"
    at.run()
    assert at.selectbox(key="measure").value == "harassment"
    again = _app()
    again.query_params["force"] = "E23000006"
    again.query_params["measure"] = "<b>x</b>"
    again.run()
    assert not again.exception
    assert again.selectbox(key="measure").value == "stalking"


def test_a_force_searched_with_nothing_found_says_so_instead_of_a_placeholder_row():
    at = _app()
    at.query_params["force"] = "E23000003"  # Lancashire: a none_found row in the register
    at.run()
    assert not at.exception
    note = at.info[0].value
    assert "looked for a stalking-specific local service here and found none" in note
    assert "S131" in note and "None found is not proof that none exists" in note
    assert not any("No stalking-specific local service found" in str(d.value) for d in at.dataframe)


def test_a_link_with_a_force_reproduces_the_view():
    at = _app()
    at.query_params["force"] = "E23000034"
    at.run()
    assert not at.exception
    assert at.header[0].value == "City of London"
    # Searched in the December 2026 review and nothing stalking-specific found (data/services/CHANGES.md).
    note = at.info[0].value
    assert "looked for a stalking-specific local service here and found none" in note and "V030" in note


def test_a_force_with_no_register_rows_is_unknown_never_none():
    """With an edited register that has no row for a force, the profile says unknown, not none."""
    from coverage.model import atlas_data
    from ui.data import REGISTER_KEY, REGISTER_NAME_KEY, REGISTER_VERSION_KEY

    register = atlas_data.load_register()
    at = _app()
    at.session_state[REGISTER_KEY] = register[~register["force_codes"].str.contains("E23000034")].reset_index(drop=True)
    at.session_state[REGISTER_NAME_KEY] = "without-city.csv"
    at.session_state[REGISTER_VERSION_KEY] = "without-city"
    at.query_params["force"] = "E23000034"
    at.run()
    assert not at.exception
    assert "Unknown is not the same as none" in _text(at)
    assert any(w.value.startswith("No register rows for this force") for w in at.warning)


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
    at.switch_page("app_pages/methods.py")
    at.run()
    assert not at.exception
    catalogue = at.dataframe[0].value
    assert list(catalogue.columns)[:5] == ["Dataset", "Publisher", "Period", "Licence", "Attribution"]
    assert len(catalogue) >= 3
    assert catalogue["Licence"].str.len().gt(0).all()
    assert [h.value for h in at.header][:3] == ["Datasets", "Required attribution", "How a force area is classed"]
    assert "Contains OS data © Crown copyright and database right 2023" in _text(at)
    assert "Open Database Licence" in _text(at) and "openstreetmap.org/copyright" in _text(at)
    register = at.dataframe[1].value
    assert len(register) >= 43
    checks = at.dataframe[2].value
    assert {"service_id", "claim_checked", "result", "evidence"} <= set(checks.columns)
    sources = at.dataframe[3].value
    assert "R001" in set(sources["source_id"])
    assert "Demand measures" in [h.value for h in at.header]


@pytest.mark.parametrize("page", ["app_pages/map.py", "app_pages/methods.py"])
def test_every_page_runs_without_exception(page):
    at = _app()
    at.switch_page(page)
    at.run()
    assert not at.exception


def _data_page() -> AppTest:
    at = _app()
    at.switch_page("app_pages/methods.py")
    return at.run()


def _uploader(at: AppTest, key: str):
    return next(u for u in at.get("file_uploader") if u.key == key)


def test_wrong_kind_of_boundary_file_gets_a_clear_message_and_the_map_is_unchanged():
    at = _data_page()
    _uploader(at, "boundary_upload").set_value(
        ("notes.zip", _zip_bytes({"readme.txt": b"hi"}), "application/zip")
    ).run()
    assert not at.exception
    assert "cannot be used" in at.error[0].value
    problems = at.dataframe[-1].value
    assert "the zip holds no .shp file (it holds readme.txt)" in problems["Problem"].iloc[0]


def test_boundary_file_with_42_forces_names_the_missing_force(known_forces):
    at = _data_page()
    geojson = json.loads(paths.BOUNDARIES_GEOJSON.read_text())
    geojson["features"] = [f for f in geojson["features"] if f["properties"]["code"] != "E23000019"]
    _uploader(at, "boundary_upload").set_value(
        ("pfa.geojson", json.dumps(geojson).encode(), "application/geo+json")
    ).run()
    problems = " ".join(at.dataframe[-1].value["Problem"])
    assert "has 42 features" in problems and "E23000019 (Nottinghamshire)" in problems


def test_a_valid_boundary_file_can_draw_the_map_for_this_session():
    at = _data_page()
    content = paths.BOUNDARIES_GEOJSON.read_bytes()
    _uploader(at, "boundary_upload").set_value(("my_pfa.geojson", content, "application/geo+json")).run()
    assert at.success[0].value.startswith("43 force areas")
    at.button(key="use_boundaries").click().run()
    assert not at.exception
    at.switch_page("app_pages/map.py").run()
    assert not at.exception
    assert "my\\_pfa.geojson" in at.info[0].value  # the name as text: markdown characters escaped


def _evidence_page() -> AppTest:
    at = _app()
    at.switch_page("app_pages/evidence.py")
    return at.run()


def _shipped_lines() -> list[str]:
    return paths.SERVICES_CSV.read_text(encoding="utf-8").splitlines()


def _met_line(lines: list[str]) -> int:
    return next(i for i, line in enumerate(lines) if line.startswith("E23000001-multi_agency_unit"))


def test_register_with_unknown_force_is_explained_and_the_register_in_use_is_kept():
    at = _evidence_page()
    lines = _shipped_lines()
    met = _met_line(lines)
    lines[met] = lines[met].replace(",E23000001,", ",E23000099,", 1)
    _uploader(at, "evidence_upload").set_value(("edited.csv", "\n".join(lines).encode(), "text/csv")).run()
    assert not at.exception
    assert "cannot be used" in at.error[0].value
    problems = at.dataframe[-1].value
    assert list(problems.columns) == ["Line", "Field", "Problem", "File"]  # what is wrong before the file name
    first = problems.iloc[0]
    assert (first["Line"], first["Field"], first["File"]) == (str(met + 1), "force_codes", "edited.csv")
    assert "E23000099" in first["Problem"]
    assert not at.get("button") or all(b.key != "use_register" for b in at.button)


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", "the file is empty"),
        (b"\x80\x81\x00b\x00a\x00d", "not UTF-8"),
        (b"hello,world\n1,2\n", "does not look like the service register"),
        (_shipped_lines()[0].encode() + b"\n", "has the header but no rows"),
    ],
)
def test_unusable_uploads_get_a_clear_message(content, expected):
    at = _evidence_page()
    _uploader(at, "evidence_upload").set_value(("bad.csv", content, "text/csv")).run()
    assert not at.exception
    assert expected in " ".join(at.dataframe[-1].value["Problem"])


def test_a_file_name_is_shown_as_text_never_as_a_link():
    at = _evidence_page()
    _uploader(at, "evidence_upload").set_value(("[phish](https:evil.example).csv", b"", "text/csv")).run()
    assert not at.exception
    message = at.error[0].value
    assert "\\[phish\\](https:evil.example).csv cannot be used" in message  # brackets escaped: no link


def test_a_register_saved_as_utf16_is_read():
    at = _evidence_page()
    content = "\n".join(_shipped_lines()).encode("utf-16")  # with its byte-order mark, as Excel writes it
    _uploader(at, "evidence_upload").set_value(("utf16.csv", content, "text/csv")).run()
    assert not at.exception
    assert "all valid" in at.success[0].value


def test_extra_column_and_too_many_rows_are_refused():
    at = _evidence_page()
    lines = _shipped_lines()
    extra = [lines[0] + ",comment"] + [line + ",x" for line in lines[1:]]
    _uploader(at, "evidence_upload").set_value(("extra.csv", "\n".join(extra).encode(), "text/csv")).run()
    assert "unexpected column(s) 'comment'" in " ".join(at.dataframe[-1].value["Problem"])
    many = [lines[0]] + [lines[1].replace(lines[1].split(",")[0], f"row-{i}", 1) for i in range(10_000)]
    _uploader(at, "evidence_upload").set_value(("many.csv", "\n".join(many).encode(), "text/csv")).run()
    assert not at.exception
    assert "more than 5,000 rows" in " ".join(at.dataframe[-1].value["Problem"])


def test_edited_register_shows_a_diff_and_can_be_used_for_this_session_only():
    at = _evidence_page()
    lines = _shipped_lines()
    met = _met_line(lines)
    lines[met] = lines[met].replace("Stalking Threat Assessment Centre", "<script>alert(1)</script> Centre", 1)
    cheshire_clinic = next(i for i, line in enumerate(lines) if line.startswith("E23000006-stalking_clinic"))
    removed_id = lines.pop(cheshire_clinic).split(",")[0]
    lines.append(
        lines[met]
        .replace("E23000001-multi_agency_unit-1", "E23000012-multi_agency_unit-9", 1)
        .replace(",E23000001,", ",E23000012,", 1)
        .replace("=", "")
    )
    lines[-1] = lines[-1].replace("<script>alert(1)</script> Centre", '=HYPERLINK("http://e.vil") unit', 1)
    _uploader(at, "evidence_upload").set_value(("edited.csv", "\n".join(lines).encode(), "text/csv")).run()
    assert not at.exception
    assert "1 added, 1 changed, 1 removed" in at.success[0].value
    changes = at.dataframe[-1].value
    assert set(changes["change"]) == {"added", "changed", "removed"}
    assert removed_id in set(changes["service_id"])
    assert "begin with = + - or @" in at.warning[0].value
    assert all("<script>" not in m.value for m in at.markdown)

    at.button(key="use_register").click().run()
    assert not at.exception
    assert "edited.csv" in at.info[0].value
    for page in ("app_pages/lottery.py", "app_pages/scenarios.py", "app_pages/briefing.py", "app_pages/map.py"):
        at.switch_page(page).run()
        assert "Every page is using your edited register (**edited.csv**)" in at.info[0].value, page
    table = _force_table(at)
    assert table.set_index("Force area").loc["Humberside", "Provision"] == "Multi-agency stalking unit"

    fresh = _app().run()  # another visitor still sees the published register
    assert _force_table(fresh).set_index("Force area").loc["Humberside", "Provision"] != "Multi-agency stalking unit"
    assert paths.SERVICES_CSV.read_text(encoding="utf-8").splitlines() == _shipped_lines()


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _force_table(at: AppTest):
    """The Map page's table of all 43 force areas (the grid with Force area and Provision columns)."""
    return next(d.value for d in at.dataframe if {"Force area", "Provision"} <= set(d.value.columns))


def _comparators(at: AppTest):
    """The profile's comparators grid (the one with an Area column), indexed by area."""
    return next(d.value for d in at.dataframe if "Area" in d.value.columns).set_index("Area")


def test_comparator_choice_and_peers_live_in_the_url_and_change_the_table():
    at = _app()
    at.query_params["force"] = "E23000006"
    at.run()
    comparators = _comparators(at)
    assert list(comparators.index) == ["Cheshire", "North West", "England and Wales"]
    at.radio(key="compare").set_value("peers").run()
    assert not at.exception
    peers = at.multiselect(key="peers").value
    assert len(peers) == 5 and "E23000006" not in peers
    assert at.query_params["compare"] in (["peers"], "peers")
    assert _comparators(at).index[-1] == "Peer group (5 forces)"
    at.multiselect(key="peers").set_value(["E23000004"]).run()
    assert _comparators(at).index[-1] == "Peer group (1 force)"
    assert (
        _comparators(at).loc["Peer group (1 force)", "Offences YE Dec 2025"] == "3,605"
    )  # Merseyside, 8Q, Home Office


def test_stale_evidence_is_flagged_on_the_profile_and_in_the_map_table():
    at = _app()
    at.query_params["force"] = "E23000024"  # newest evidence April 2018
    at.run()
    assert not at.exception
    assert any("Evidence may be out of date" in w.value and "Apr 2018" in w.value for w in at.warning)
    rows = _force_table(at)
    assert "Newest evidence" in rows.columns
    assert rows["Newest evidence"].str.contains("over 24 months old").any()


@pytest.mark.parametrize("page", ["app_pages/map.py", "app_pages/lottery.py", "app_pages/briefing.py"])
def test_the_glossary_is_one_click_away_on_every_page(page):
    at = _app()
    at.switch_page(page)
    at.run()
    assert not at.exception
    sidebar = "\n".join(m.value for m in at.sidebar.markdown)
    for term in ("Multi-agency stalking unit", "Multi-agency stalking clinic or panel", "Unknown (not searched)"):
        assert f"**{term}**:" in sidebar
    assert "Nothing found is not proof that nothing exists" in sidebar
