"""Lottery metrics on small, hand-checkable registers."""

from __future__ import annotations

import csv
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from coverage import paths
from coverage.build.contacts import NOT_FOUND, ROWS, build_contacts, write_contacts
from coverage.errors import InputErrors
from coverage.model.contacts import (
    CONTACT_COLUMNS,
    CONTACTS_CSV,
    ENGLAND_AND_WALES,
    REGIONS,
    contacts_for,
    parse_contacts,
    read_contacts,
)
from coverage.model.lottery import (
    coverage_shares,
    display_url,
    help_regions,
    inequality,
    national_help,
    services_per_force,
    weighted_gini,
)
from coverage.model.postcodes import LookupResult

FORCES = pd.DataFrame(
    {
        "code": ["E23000001", "E23000002", "E23000003", "E23000004"],
        "pop_mid2023_16plus": [100_000, 100_000, 200_000, 100_000],
    }
)


def _row(service_id, code, service_type, start="", end="", status="active"):
    return {
        "service_id": service_id,
        "force_codes": code,
        "service_type": service_type,
        "service_name": service_id,
        "start_year": start,
        "end_year": end,
        "status": status,
    }


REGISTER = pd.DataFrame(
    [
        _row("a", "E23000001", "multi_agency_unit", "2018"),
        _row("b", "E23000001", "advocacy", "2019"),
        _row("c", "E23000002", "advocacy", "2015", "2020", status="ended"),
        _row("d", "E23000003", "none_found"),
        _row("e", "ALL", "helpline", "2010"),
    ]
)


def test_services_per_force_counts_only_local_services_in_force_in_that_year():
    codes = list(FORCES["code"])
    assert services_per_force(REGISTER, codes).to_dict() == {
        "E23000001": 2,
        "E23000002": 0,
        "E23000003": 0,
        "E23000004": 0,
    }
    assert services_per_force(REGISTER, codes, year=2019).to_dict() == {
        "E23000001": 2,
        "E23000002": 1,
        "E23000003": 0,
        "E23000004": 0,
    }
    assert services_per_force(REGISTER, codes, year=2017).to_dict()["E23000001"] == 0


def test_coverage_shares_weight_by_population_and_offences():
    flags = pd.DataFrame(
        {
            "code": FORCES["code"],
            "has_multi_agency_unit": [True, False, False, False],
            "has_clinic_or_panel": [False] * 4,
            "has_advocacy": [True, False, False, False],
            "has_perpetrator_programme": [False] * 4,
            "has_police_team": [False] * 4,
            "provision_class": ["multi_agency_unit", "national_only", "national_only", "unknown"],
        }
    )
    offences = {"E23000001": 100, "E23000002": 100, "E23000003": 100, "E23000004": 700}
    shares = coverage_shares(flags, FORCES, offences).set_index("measure")
    assert shares.loc["has_multi_agency_unit", "forces"] == 1
    assert shares.loc["has_multi_agency_unit", "population_16plus_share"] == pytest.approx(0.2)
    assert shares.loc["has_multi_agency_unit", "offences_share"] == pytest.approx(0.1)
    assert shares.loc["no_specialist_service", "forces"] == 2
    assert shares.loc["unknown", "forces"] == 1


def test_gini_is_zero_for_equal_provision_and_high_for_concentrated():
    assert weighted_gini(np.array([1.0, 1.0, 1.0]), np.array([1.0, 2.0, 3.0])) == pytest.approx(0.0)
    assert weighted_gini(np.array([0.0, 0.0, 0.0, 10.0]), np.ones(4)) == pytest.approx(0.75)


@given(st.lists(st.tuples(st.floats(0, 100), st.floats(1, 1000)), min_size=1, max_size=40))
def test_gini_lies_between_0_and_1(pairs):
    values, weights = np.array(pairs).T
    assert -1e-9 <= weighted_gini(values, weights) <= 1 + 1e-9


def test_inequality_leaves_out_unknown_forces():
    classes = {
        "E23000001": "multi_agency_unit",
        "E23000002": "national_only",
        "E23000003": "national_only",
        "E23000004": "unknown",
    }
    result = inequality(REGISTER, FORCES, classes)
    assert result.forces_with_none == 2
    assert result.population_share_with_none == pytest.approx(0.75)
    assert 0 < result.gini <= 1


# ---- who to contact: the shipped contacts, their reader and the answer's helpers ------------

SHIPPED_CONTACTS = paths.DATA_DIR / CONTACTS_CSV
SHIPPED_REGISTER = pd.read_csv(paths.SERVICES_CSV, dtype=str, keep_default_na=False)
HEADER = ",".join(CONTACT_COLUMNS)
GOOD_ROW = (
    "ew-helpline,England and Wales,stalking_service,ALL-helpline-1,National Stalking Helpline,0808 802 0300,"
    "https://www.suzylamplugh.org/,,Run by the Suzy Lamplugh Trust.,A page,Suzy Lamplugh Trust,"
    "https://www.suzylamplugh.org/a-page,2023,2026-12-01"
)


def _csv(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def _with(field: str, value: str, row: str = GOOD_ROW) -> str:
    values = next(csv.reader([row]))
    values[CONTACT_COLUMNS.index(field)] = value
    return ",".join(f'"{v}"' if "," in v else v for v in values)


def test_the_shipped_contacts_are_exactly_what_the_builder_writes(tmp_path):
    written = write_contacts(tmp_path)
    assert written == tmp_path / "services" / "contacts.csv"
    assert written.read_bytes() == SHIPPED_CONTACTS.read_bytes()
    assert list(build_contacts().columns) == list(CONTACT_COLUMNS)


def test_the_shipped_contacts_pass_the_reader_and_name_real_register_services():
    contacts = read_contacts(SHIPPED_CONTACTS, known_service_ids=SHIPPED_REGISTER["service_id"])
    assert len(contacts) == len(ROWS)
    assert {c.region for c in contacts} == set(REGIONS)
    for contact in contacts:  # every number and address cites the page it was read on
        assert contact.source_url.startswith(("https://", "http://")) and contact.source_title and contact.checked
        assert contact.phone or contact.url
    national = {c.service_id for c in contacts if c.service_id}
    listed = set(
        SHIPPED_REGISTER.loc[
            SHIPPED_REGISTER["force_codes"].eq("ALL") & SHIPPED_REGISTER["service_type"].ne("funding_stream"),
            "service_id",
        ]
    )
    assert national == listed  # every national service a victim can contact has a checked contact row


def test_the_numbers_are_the_ones_read_on_the_cited_pages():
    # Pinned so that a changed number is a reviewed change (each quoted in coverage/build/contacts.py).
    phones = {row.contact_id: row.phone for row in ROWS if row.phone}
    assert phones["ew-national-stalking-helpline"] == "0808 802 0300"
    assert phones["ew-police-emergency"] == "999" and phones["ew-police-101"] == "101"
    assert phones["jersey-police"] == "612612" and phones["guernsey-police"] == "222222"
    for row in ROWS:
        if row.phone:
            assert row.phone in row.evidence, row.contact_id  # the number is in the words read on the page
    # Shown by web address only, and recorded as such, never filled in from elsewhere.
    assert {c.contact_id for c in parse_contacts(SHIPPED_CONTACTS.read_text()) if not c.phone} == set(NOT_FOUND)


def test_services_for_england_and_wales_are_never_given_to_other_places():
    contacts = read_contacts(SHIPPED_CONTACTS)
    for region in REGIONS:
        chosen = contacts_for(contacts, region)
        assert chosen and all(c.region == region for c in chosen)
        if region != ENGLAND_AND_WALES:
            assert not any(c.service_id for c in chosen)
            assert not any("0808 802 0300" in c.phone for c in chosen)
    kinds = [c.kind for c in contacts_for(contacts, ENGLAND_AND_WALES)]
    assert kinds[:2] == ["emergency", "police"]  # 999 first
    with pytest.raises(ValueError):
        contacts_for(contacts, "France")


def test_a_good_row_is_read():
    (contact,) = parse_contacts(_csv(GOOD_ROW), known_service_ids={"ALL-helpline-1"})
    assert contact.phone == "0808 802 0300" and contact.url == "https://www.suzylamplugh.org/"
    assert contact.source_publisher == "Suzy Lamplugh Trust" and contact.checked == "2026-12-01"


@pytest.mark.parametrize(
    "field, value, problem",
    [
        ("phone", "0808 CALL NOW", "is not a phone number"),
        ("phone", "+44 (0)808 802 0300", "is not a phone number"),
        ("url", "javascript:alert(1)", "is not a plain http(s) web address"),
        ("url", "https://example.org/a page", "is not a plain http(s) web address"),
        ("url", "https://example.org/)[x](https://evil.example", "is not a plain http(s) web address"),
        ("source_url", "", "is empty"),
        ("source_title", "", "is empty"),
        ("region", "Wales only", "is not one of England and Wales"),
        ("kind", "hotline", "is not one of emergency"),
        ("checked", "1 Dec 2026", "is not a date"),
        ("contact_id", "Bad Id", "is not a lower-case id"),
        ("name", " padded", "has spaces at the start or end"),
        ("service_id", "ALL-nothing-9", "is not a service in the register"),
        ("hours", "9am to 5pm", None),  # allowed with a phone number
    ],
)
def test_a_bad_field_is_refused_with_its_line_and_field(field, value, problem):
    text = _csv(
        GOOD_ROW, _with("contact_id", "second", _with(field, value)) if field != "contact_id" else _with(field, value)
    )
    if problem is None:
        assert len(parse_contacts(text, known_service_ids={"ALL-helpline-1"})) == 2
        return
    with pytest.raises(InputErrors) as error:
        parse_contacts(text, known_service_ids={"ALL-helpline-1"})
    messages = error.value.problems
    assert any(m.startswith(f"contacts.csv line 3, field '{field}':") and problem in m for m in messages), messages


def test_a_row_with_neither_number_nor_address_and_hours_without_a_number_are_refused():
    row = _with("url", "", _with("phone", ""))
    with pytest.raises(InputErrors, match=r"line 2, field 'phone': a contact needs a phone number or a web address"):
        parse_contacts(_csv(row))
    with pytest.raises(InputErrors, match=r"line 2, field 'hours': opening hours are given but there is no phone"):
        parse_contacts(_csv(_with("hours", "24 hours", _with("phone", ""))))


def test_a_repeated_id_names_both_lines():
    with pytest.raises(
        InputErrors, match=r"line 3, field 'contact_id': 'ew-helpline' is used twice \(first on line 2\)"
    ):
        parse_contacts(_csv(GOOD_ROW, GOOD_ROW))


@pytest.mark.parametrize(
    "text, problem",
    [
        ("", "the file is empty"),
        (HEADER + "\n", "has a header but no contacts"),
        (_csv(GOOD_ROW, header=HEADER.replace(",hours", "")), "line 1: missing column(s) hours"),
        (_csv(GOOD_ROW + ",extra", header=HEADER + ",extra"), "line 1: unexpected column(s) extra"),
        (_csv(GOOD_ROW + ",surplus"), "line 2: has 15 field(s) but the header has 14"),
        (_csv(_with("note", "a\tb")), "line 2, field 'note': contains a control character"),
    ],
)
def test_a_bad_file_is_refused_with_where(text, problem):
    with pytest.raises(InputErrors) as error:
        parse_contacts(text)
    assert any(problem in m for m in error.value.problems), error.value.problems


def test_a_missing_or_undecodable_file_is_refused(tmp_path):
    with pytest.raises(Exception, match="not found"):
        read_contacts(tmp_path / "contacts.csv")
    bad = tmp_path / "contacts.csv"
    bad.write_bytes(b"\xff\xfe" + _csv(GOOD_ROW).encode("utf-16-le"))
    with pytest.raises(InputErrors, match="is not UTF-8"):
        read_contacts(bad)


def test_help_regions_follow_the_lookup():
    assert help_regions(LookupResult("CH1 2AB", "postcode", "E23000006", ("E23000006", "W15000001"))) == [
        ENGLAND_AND_WALES
    ]
    assert help_regions(LookupResult("EH1 1YZ", "outside_england_wales", jurisdiction="Scotland")) == ["Scotland"]
    assert help_regions(
        LookupResult("TD12", "outward_code", "E23000007", ("E23000007",), True, jurisdiction="Scotland")
    ) == [ENGLAND_AND_WALES, "Scotland"]
    assert help_regions(LookupResult("ZZ99", "not_found")) == []


def test_national_help_puts_services_that_can_be_phoned_first_and_keeps_ones_without_contacts():
    contacts = read_contacts(SHIPPED_CONTACTS)
    services = national_help(SHIPPED_REGISTER, contacts)
    assert services[0].name == "National Stalking Helpline" and services[0].contact.phone == "0808 802 0300"
    assert "funding" not in " ".join(s.name.lower() for s in services) or all(
        s.service_id != "ALL-funding_stream-1" for s in services
    )
    extra = pd.concat(
        [
            SHIPPED_REGISTER,
            pd.DataFrame(
                [{**SHIPPED_REGISTER.iloc[0].to_dict(), "service_id": "ALL-helpline-9", "service_name": "New line"}]
            ),
        ]
    )
    last = national_help(extra, contacts)[-1]
    assert last.name == "New line" and last.contact is None


def test_display_url_reads_like_an_address():
    assert display_url("https://www.suzylamplugh.org/") == "www.suzylamplugh.org"
    assert display_url("https://www.paladinservice.co.uk/get-support") == "www.paladinservice.co.uk/get-support"
    assert re.fullmatch(r"[a-z.]+", display_url("http://alicerugglestrust.org/"))
