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
    assert "What exists" in text and "National stalking services, for everyone in England and Wales" in text
    # The profile link is the navigation's own page object (the Map, the default page, served at /),
    # never a hand-built "/?force=" address.
    (link,) = at.get("page_link")
    assert link.proto.label == "Open the Hampshire profile on the map"
    assert link.proto.query_string == "force=E23000030"
    assert "?force=" not in text
    assert at.query_params["q"] in (["SO14 3JA"], "SO14 3JA")
    assert "**National Stalking Helpline**: call **0808 802 0300**" in text


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


# ---- who to contact -------------------------------------------------------------------------


def _answer_text(at: AppTest) -> str:
    """The answer, up to the national figures (the contacts' sources included)."""
    text = _markdown(at)
    return text[: text.index("of 43 force areas have a multi-agency stalking unit")]


def test_an_answer_in_england_and_wales_gives_999_101_and_the_national_services_with_numbers():
    at = _page("SO14 3JA")
    assert not at.exception
    text = _answer_text(at)
    assert "Who to contact" in [s.value for s in at.subheader]
    assert "**In an emergency**\n\n- **Police**: call **999**" in text
    assert "call **101**. Connects you to your local police force." in text
    assert (
        "**National Stalking Helpline**: call **0808 802 0300** · [www.suzylamplugh.org](https://www.suzylamplugh.org/)"
        in text
    )
    # Paladin and the Alice Ruggles Trust are given by web address only: no number was found on their pages.
    assert "[www.paladinservice.co.uk/get-support](https://www.paladinservice.co.uk/get-support)" in text
    assert "No phone number was found on Paladin's own pages." in text
    assert "[alicerugglestrust.org](http://alicerugglestrust.org/)" in text
    # 999 is said before the answer's cards and again before the services; each number cites its page.
    assert text.index("**In an emergency, call 999.**") < text.index("What exists")
    assert text.index("**999**") < text.index("0808 802 0300")
    assert "(https://www.suzylamplugh.org/should-i-delete-that-podcast), read on 2026-12-01" in text
    assert "South Yorkshire Police" in text and "webarchive.nationalarchives.gov.uk" in text
    assert "Home Office Domestic Abuse" not in text  # a funding stream is not a service to contact


@pytest.mark.parametrize(
    "query, first, second",
    [
        ("CH1 2AB", "Cheshire: Multi-agency stalking unit", "North Wales: Perpetrator programme or police team only"),
        (
            "EC2V 7HH",
            "City of London: National services only (none found locally)",
            "Metropolitan Police: Multi-agency stalking unit",
        ),
    ],
)
def test_a_boundary_postcode_shows_both_forces_side_by_side_and_says_which_force(query, first, second):
    at = _page(query)
    assert not at.exception
    assert [h.value for h in at.header][:2] == [first, second]
    text = _answer_text(at)
    assert "**Which force?** This postcode district is split between the police force areas below" in text
    assert "yours is the one that covers your address" in text
    assert "calling 101 connects you to your local police force" in text
    assert "directs your report to the one that is" in text
    assert "Which force: Cambridgeshire Constabulary" in text  # the police page it rests on, cited
    # Two cards in two columns, each with what exists there and its own link to its profile.
    assert len(at.columns) >= 2
    assert text.count("What exists") == 2
    links = [link.proto.query_string for link in at.get("page_link")]
    assert len(links) == 2 and len(set(links)) == 2
    assert text.count("0808 802 0300") == 2  # once in the list, once in the sources: not once per force


def test_a_name_covering_several_forces_says_to_give_a_postcode():
    at = _page("London")
    assert [h.value for h in at.header][:2] == [
        "Metropolitan Police: Multi-agency stalking unit",
        "City of London: National services only (none found locally)",
    ]
    assert "**Which force?** This name covers more than one police force area" in _answer_text(at)


@pytest.mark.parametrize(
    "query, heading, expected, absent",
    [
        (
            "EH1 1YZ",
            "Who to contact in Scotland",
            [
                "**Police Scotland**: call **999**",
                "**Police Scotland**: call **101** · [scotland.police.uk/advice-and-information/stalking]",
                "[www.actionagainststalking.org](https://www.actionagainststalking.org/)",
                "[victimsupport.scot](https://victimsupport.scot/)",
            ],
            ["Paladin", "Suzy Lamplugh", "0808 802 0300"],
        ),
        (
            "BT1 5GS",
            "Who to contact in Northern Ireland",
            [
                "**Police Service of Northern Ireland (PSNI)**: call **999**",
                "**Police Service of Northern Ireland (PSNI)**: call **101**",
                "[www.victimsupportni.com](https://www.victimsupportni.com/)",
                "www.psni.police.uk/inside-psni/our-departments/district-policing-command/call-management",
            ],
            ["Paladin", "Suzy Lamplugh", "0808 802 0300", "Police Scotland"],
        ),
        (
            "JE2 3AB",
            "Who to contact in Jersey",
            [
                "**States of Jersey Police**: call **999**",
                "call **612612** · [jersey.police.uk](https://jersey.police.uk/)",
            ],
            ["Paladin", "0808 802 0300", "**101**"],
        ),
        (
            "GY1 1AA",
            "Who to contact in the Bailiwick of Guernsey",
            ["**Guernsey Police**: call **999**", "call **222222**"],
            ["Paladin", "0808 802 0300", "**101**"],
        ),
        (
            "IM1 1AA",
            "Who to contact in the Isle of Man",
            ["[www.iompolice.im](https://www.iompolice.im/)", "The atlas found no emergency number"],
            ["Paladin", "0808 802 0300", "**101**"],
        ),
    ],
)
def test_places_outside_england_and_wales_get_their_own_services_never_england_and_wales_ones(
    query, heading, expected, absent
):
    at = _page(query)
    assert not at.exception
    assert at.info and "43 police force areas of England and Wales" in at.info[0].value
    assert not at.header or at.header[0].value == "The postcode lottery in numbers"  # no force cards
    assert heading in [s.value for s in at.subheader]
    assert "Who to contact" not in [s.value for s in at.subheader]  # no England and Wales section
    text = _answer_text(at)
    for words in expected:
        assert words in text, words
    for words in absent:
        assert words not in text, words
    assert "read on 2026-12-01" in text  # sourced


def test_a_district_reaching_into_scotland_shows_both_england_and_scotland_contacts():
    at = _page("TD12 4AA")
    subheaders = [s.value for s in at.subheader]
    assert "Who to contact in England and Wales" in subheaders and "Who to contact in Scotland" in subheaders
    text = _answer_text(at)
    assert "0808 802 0300" in text and "**Police Scotland**: call **999**" in text


@pytest.mark.parametrize(
    "query",
    [
        "<script>alert(1)</script>",
        "[click](https://evil.example)",
        "**bold** _x_ `code`",
        "<img src=x onerror=alert(1)>",
        "Chester <b>x</b>",
        "'; DROP TABLE forces;--",
    ],
)
def test_hostile_input_is_never_echoed_as_markup_and_gets_no_contacts(query):
    at = _page(query)
    assert not at.exception
    shown = [m.value for m in (*at.warning, *at.info, *at.success)]
    assert shown
    for message in shown:
        assert "<script" not in message and "<img" not in message and "<b>" not in message
        assert "](" not in message and "**bold**" not in message
    assert "Who to contact" not in [s.value for s in at.subheader]
    assert not at.get("html") or all("data-answer-focus" not in h.proto.body for h in at.get("html"))


def test_choosing_a_suggestion_answers_and_moves_focus_to_the_answer_once():
    at = _page("EC2")
    assert not at.exception
    assert not [h for h in at.get("html") if "data-answer-focus" in h.proto.body]
    at.button(key="suggestion_0").click().run()
    assert not at.exception
    assert at.text_input(key="q").value == "EC2A"
    assert at.header[0].value.startswith(("City of London", "Metropolitan Police"))
    scripts = [h.proto.body for h in at.get("html") if "data-answer-focus" in h.proto.body]
    assert len(scripts) == 1 and ".st-key-lottery_answer" in scripts[0]
    assert "EC2" not in scripts[0]  # no user text in the script
    at.run()  # any later rerun leaves focus where the visitor put it
    assert not [h for h in at.get("html") if "data-answer-focus" in h.proto.body]
