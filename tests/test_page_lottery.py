"""The Postcode lottery page: answers for every kind of query, the national figures, and the URL."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from coverage import paths


def _page(query: str | None = None) -> AppTest:
    at = AppTest.from_file(str(paths.REPO_ROOT / "app.py"), default_timeout=60)
    if query is not None:
        at.query_params["q"] = query
    at.switch_page("app_pages/lottery.py")
    return at.run()


def _markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_national_figures_are_stated_in_words_with_tables_beside_charts():
    at = _page()
    assert not at.exception
    text = _markdown(at)
    assert "4 of 43 force areas have a multi-agency stalking unit" in text
    assert "no local specialist stalking service was found" in text
    assert len(at.table) >= 3  # shares, areas with none, trend
    assert any("Gini coefficient" in m.value for m in at.markdown)


def test_a_full_postcode_gives_the_force_what_exists_and_what_does_not():
    at = _page()
    at.text_input(key="q").set_value("SO14 3JA").run()
    assert not at.exception
    assert at.header[0].value == "Hampshire: Multi-agency stalking unit"
    text = _markdown(at)
    assert "What exists" in text and "National services everyone" in text
    assert "](/?force=E23000030)" in text  # the Map is the default page, at /; /map is "Page not found"
    assert at.query_params["q"] in (["SO14 3JA"], "SO14 3JA")
    national = at.dataframe[0].value
    assert national["Service"].str.contains("National Stalking Helpline").any()


def test_an_area_nobody_searched_is_unknown_never_none():
    # With an edited register that has no row for the City of London, nothing may be listed as "not found" there.
    from coverage.model import atlas_data
    from ui.data import REGISTER_KEY, REGISTER_NAME_KEY, REGISTER_VERSION_KEY

    register = atlas_data.load_register()
    at = AppTest.from_file(str(paths.REPO_ROOT / "app.py"), default_timeout=60)
    at.session_state[REGISTER_KEY] = register[~register["force_codes"].str.contains("E23000034")].reset_index(drop=True)
    at.session_state[REGISTER_NAME_KEY] = "without-city.csv"
    at.session_state[REGISTER_VERSION_KEY] = "without-city"
    at.query_params["q"] = "City of London"
    at.switch_page("app_pages/lottery.py")
    at.run()
    assert not at.exception
    assert at.header[0].value == "City of London: Unknown (not searched)"
    text = _markdown(at)
    assert "What exists:** unknown" in text and "unknown is not the same as none" in text
    assert "Not found here" not in text and "no local specialist stalking service was found in the" not in text


def test_the_city_of_london_is_a_searched_area_with_nothing_found():
    at = _page("City of London")
    assert not at.exception
    assert at.header[0].value == "City of London: National services only (none found locally)"
    assert "Not found here" in _markdown(at)


def test_a_unit_whose_services_could_not_be_confirmed_is_not_called_best_served():
    at = _page("SO14")
    text = _markdown(at)
    assert "whether its services are still running could not be confirmed" in text
    assert "best-served areas, with a multi-agency" not in text


def test_a_link_with_q_reproduces_the_answer():
    at = _page("Warrington")
    assert not at.exception
    assert at.text_input(key="q").value == "Warrington"
    assert at.header[0].value.startswith("Cheshire")


def test_a_straddling_district_shows_both_forces_centroid_force_first():
    at = _page("CH4 8AB")
    cards = [s.value for s in at.header][:2]
    assert cards == ["North Wales: Perpetrator programme or police team only", "Cheshire: Multi-agency stalking unit"]
    assert "straddles" in at.success[0].value


def test_a_misspelling_still_finds_the_area():
    at = _page("Chesire")
    assert at.header[0].value.startswith("Cheshire")


@pytest.mark.parametrize(
    "query, kind",
    [
        ("EH1 1YZ", "info"),
        ("BT1 1AA", "info"),
        ("ZZ99 9ZZ", "warning"),
        ("x" * 5000, "warning"),
        ("🙂", "warning"),
        ("'; DROP TABLE forces;--", "warning"),
        ("<script>alert(1)</script>", "warning"),
    ],
)
def test_queries_outside_or_nonsense_get_a_message_never_an_exception(query, kind):
    at = _page()
    at.text_input(key="q").set_value(query[:200]).run()
    assert not at.exception
    messages = [m.value for m in getattr(at, kind)]
    assert messages and all("<script>" not in m for m in messages)
