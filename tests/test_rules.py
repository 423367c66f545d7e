"""Dated planner rules (data/planner/rules) and the on-cost function built on them."""

from __future__ import annotations

import datetime
import re
import shutil
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage import paths
from coverage.errors import InputError
from coverage.planner import rules
from coverage.planner.rules import (
    BANDED_SCHEMES,
    PENSION_SCHEMES,
    RULES_DIR,
    SCHEME_LABELS,
    RuleBook,
    load_rule_file,
    load_rulebook,
    oncost,
    rule_date,
)
from coverage.sources import SOURCE_ID_PATTERN, Source, load_registry

D = datetime.date
SHIPPED_FILES = ("employer_ni.yaml", "employer_pension.yaml", "green_book.yaml", "gdp_deflator.yaml")
COSTED_SCHEMES = [s for s in PENSION_SCHEMES if s != "local_government"]  # LGPS has no default
FLAT_SCHEMES = [s for s in COSTED_SCHEMES if s not in BANDED_SCHEMES]


@pytest.fixture(scope="module")
def book() -> RuleBook:
    return load_rulebook()


GOOD = """\
description: A test rules file.
parameters:
  rate:
    label: A rate
    unit: fraction
    values:
      - from: 2023-04-06
        value: 0.138
        references:
          - {id: P006, locator: "Class 1 table"}
        note: ""
      - from: 2025-04-06
        value: 0.15
        references:
          - {id: P005}
"""


def write(tmp_path: Path, text: str, name: str = "sample.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(InputError) as caught:
        load_rule_file(path)
    return str(caught.value)


# ---------------------------------------------------------------------------------------------------------------
# The shipped files


def test_shipped_rules_load_and_name_every_parameter(book):
    assert RULES_DIR == paths.DATA_DIR / "planner" / "rules"
    for name in rules.REQUIRED_PARAMETERS:
        assert name in book.parameters
    assert book.parameters["employer_ni.rate"].name == "employer_ni.rate"
    assert book.parameters["employer_ni.rate"].where == "data/planner/rules/employer_ni.yaml"
    assert load_rulebook() is book  # cached on the resolved path
    assert load_rulebook(RULES_DIR / ".." / "rules") is book


def test_every_shipped_value_has_a_reference_with_id_title_and_href(book):
    for parameter in book.parameters.values():
        for value in parameter.values:
            assert value.references, parameter.name
            for ref in value.references:
                assert ref.id and ref.title and ref.href.startswith(("http://", "https://")), (parameter.name, ref)


def test_every_shipped_reference_is_a_planner_source_of_the_one_registry(book):
    """The registry holds each source's details; a reference's title and address are the registry's."""
    registry = load_registry()
    refs = [ref for p in book.parameters.values() for v in p.values for ref in v.references]
    refs += [ref for p in book.parameters.values() for ref in p.references]
    assert refs
    for ref in refs:
        assert SOURCE_ID_PATTERN.match(ref.id), ref.id
        source = registry[ref.id]
        assert (ref.title, ref.href, ref.publisher) == (source.title, source.url, source.publisher), ref.id
        assert "planner" in source.used_for, ref.id
    ids = {ref.id for ref in refs}
    assert {"P017", "P022", "P029", "P033", "P037", "P040", "P046"} <= ids
    # the README no longer keeps a table of its own sources, and no rule file keeps a title or address
    readme = (RULES_DIR / "README.md").read_text(encoding="utf-8")
    assert "| RB01 |" not in readme and "data/sources.csv" in readme
    for name in SHIPPED_FILES:
        text = (RULES_DIR / name).read_text(encoding="utf-8")
        assert "title:" not in text and "href:" not in text, name
        assert not re.search(r"\bR(B)?\d\d\b", text), name  # no RB01 or R25-style ids left


def test_a_reference_keeps_its_locator(book):
    ref = book.at("employer_pension.police", D(2024, 4, 6)).references[0]
    assert (ref.id, ref.locator) == ("P022", "para 3")


def test_shipped_values(book):
    assert book.value("employer_ni.rate", D(2023, 4, 6)) == 0.138
    assert book.value("employer_ni.rate", D(2025, 4, 5)) == 0.138
    assert book.value("employer_ni.rate", D(2025, 4, 6)) == 0.15
    assert book.value("employer_ni.secondary_threshold", D(2024, 4, 6)) == 9100
    assert book.value("employer_ni.secondary_threshold", D(2025, 4, 6)) == 5000
    assert book.value("employer_pension.police", D(2019, 4, 1)) == 0.31
    assert book.value("employer_pension.police", D(2024, 4, 6)) == 0.353
    assert book.value("employer_pension.nhs", D(2023, 4, 6)) == 0.2068
    assert book.value("employer_pension.nhs", D(2024, 4, 6)) == 0.2378
    assert book.value("employer_pension.civil_service", D(2024, 4, 6)) == 0.2897
    assert book.value("green_book.discount_rate", D(2026, 4, 6)) == 0.035
    assert not book.parameters["employer_pension.local_government"].values
    assert book.parameters["employer_pension.local_government"].references


def test_gdp_deflator_series_and_its_flags(book):
    assert book.deflator_index(2024) == 100.0
    assert book.deflator_index(2016) == 76.0754
    assert book.deflator_index(2020) == 85.1002
    assert book.deflator_index(2030) == 113.6416
    index = book.parameters["gdp_deflator.index"]
    assert [v.start.year for v in index.values] == list(range(2016, 2031))
    assert [v.forecast for v in index.values] == [False] * 9 + [True] * 6
    assert all("P033" in v.note for v in index.values)  # third-party transcription, said so
    for year in (2015, 2031):
        with pytest.raises(InputError, match="covers 2016-17 to 2030-31"):
            book.deflator_index(year)
    extended = book.with_overrides({"gdp_deflator.index": [(D(2031, 4, 1), 115.9, "my forecast")]})
    assert extended.deflator_index(2031) == 115.9
    assert extended.at("gdp_deflator.index", D(2031, 4, 1)).user_input


def test_parameter_at_before_first_value_and_unknown_names(book):
    with pytest.raises(InputError, match=r"employer_ni\.rate has no value on 6 April 2022"):
        book.at("employer_ni.rate", D(2022, 4, 6))
    with pytest.raises(InputError, match=r"did you mean 'employer_ni\.rate'"):
        book.value("employer_ni.rates", D(2024, 4, 6))


def test_rule_date():
    assert rule_date(2024) == D(2024, 4, 6)
    with pytest.raises(InputError, match="fiscal_year"):
        rule_date("2024")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="fiscal_year"):
        rule_date(True)


# ---------------------------------------------------------------------------------------------------------------
# On-costs


def test_police_oncost_2024_25_and_its_explanation(book):
    result = oncost(book, "police", 51408, 2024)
    assert result.pension == result.pension_rate == 0.353
    assert result.ni_rate == 0.138 and result.ni_threshold == 9100
    assert result.employer_ni == pytest.approx(0.138 * (51408 - 9100) / 51408)
    assert round(result.rate, 4) == 0.4666
    assert not result.user_input
    assert {r.id for r in result.references} >= {"P022", "P017", "P006"}
    assert result.explanation == (
        "police pension 35.3% + employer NI 13.8% on pay above £9,100 (11.36% of £51,408) = 46.66% "
        "(rules in force on 6 April 2024)"
    )


def test_the_presets_hand_set_police_rate_is_reproduced_by_the_rules_with_its_inputs(book):
    """The presets once hand-set 0.4454 for £51,408: police pension 31% + employer NI 15% above £5,000. Those are
    the 2025/26 NI rules with the 2019 pension rate; the rules reproduce it exactly when given the same inputs."""
    as_in_presets = book.with_overrides({"employer_pension.police": [(D(2024, 4, 1), 0.31, "preset's 31%")]})
    result = oncost(as_in_presets, "police", 51408, 2025)
    assert round(result.rate, 4) == 0.4454
    assert round(result.employer_ni, 4) == 0.1354
    assert result.user_input
    assert result.explanation == (
        "police pension 31% (your value) + employer NI 15% on pay above £5,000 (13.54% of £51,408) = 44.54% "
        "(rules in force on 6 April 2025)"
    )
    # Under the rules for the presets' price-base year (2024/25) both parts differ: 35.3% and 13.8% above £9,100
    assert round(oncost(book, "police", 51408, 2024).rate, 4) != 0.4454


def test_no_preset_hand_sets_an_oncost_and_voluntary_posts_use_the_auto_enrolment_minimum():
    voluntary = []
    for path in sorted(paths.SCENARIO_PRESETS_DIR.glob("*.yaml")):
        for unit in yaml.safe_load(path.read_text(encoding="utf-8")).get("unit_models", []):
            for role in unit.get("roles", []):
                assert "oncost_rate" not in role and "oncost_override" not in role, (path.name, role["role"])
                if role["agency"] == "voluntary":
                    voluntary.append(role)
                    assert role["pension_scheme"] == "auto_enrolment", (path.name, role["role"])
                    assert "statutory auto-enrolment minimum" in role["note"] and "may pay more" in role["note"]
    assert len(voluntary) == 4


def test_auto_enrolment_values(book):
    for year, lower, upper in [(2019, 6136, 50000), (2020, 6240, 50000), (2021, 6240, 50270), (2026, 6240, 50270)]:
        when = rule_date(year)
        assert book.value("employer_pension.auto_enrolment", when) == 0.03
        assert book.value("employer_pension.auto_enrolment_lower_limit", when) == lower
        assert book.value("employer_pension.auto_enrolment_upper_limit", when) == upper
    with pytest.raises(InputError, match="first value is from 6 April 2019"):
        book.value("employer_pension.auto_enrolment", D(2018, 4, 6))


def test_auto_enrolment_oncost_of_an_advocate_replaces_the_hand_set_rate(book):
    """£22,221 in 2026/27: NI 15% above £5,000 plus 3% of the pay between £6,240 and £50,270; the presets had
    hand-set 0.1462 (3% of the whole salary)."""
    result = oncost(book, "auto_enrolment", 22221, 2026)
    assert result.pension == pytest.approx(0.03 * (22221 - 6240) / 22221)
    assert result.pension_rate == 0.03 and result.pension_band == (6240, 50270)
    assert result.employer_ni == pytest.approx(0.15 * (22221 - 5000) / 22221)
    assert round(result.rate, 4) == 0.1378
    assert round(0.15 * (22221 - 5000) / 22221 + 0.03, 4) == 0.1462  # the old hand-set rate
    assert {r.id for r in result.references} >= {"P037", "P046", "P017"}
    assert result.explanation == (
        "auto-enrolment minimum pension 3% of pay between £6,240 and £50,270 (2.16% of £22,221) + employer NI 15% "
        "on pay above £5,000 (11.62% of £22,221) = 13.78% (rules in force on 6 April 2026)"
    )
    assert SCHEME_LABELS["auto_enrolment"] in result.explanation
    assert oncost(book, "none", 22221, 2026).pension_band is None
    assert oncost(book, "police", 22221, 2026).pension_band is None
    # below the lower limit there is no pension; above the upper limit the pension in pounds is capped
    assert oncost(book, "auto_enrolment", 6000, 2026).pension == 0
    assert "none on £6,000" in oncost(book, "auto_enrolment", 6000, 2026).explanation
    capped = oncost(book, "auto_enrolment", 80000, 2026)
    assert capped.pension * 80000 == pytest.approx(0.03 * (50270 - 6240))


def test_auto_enrolment_overrides_an_employer_rate_and_a_bad_band(book):
    generous = book.with_overrides({"employer_pension.auto_enrolment": [(D(2025, 4, 6), 0.05, "employer pays 5%")]})
    result = oncost(generous, "auto_enrolment", 30000, 2026)
    assert result.user_input and result.pension == pytest.approx(0.05 * (30000 - 6240) / 30000)
    assert "3%" not in result.explanation and "5% (your value) of pay between" in result.explanation
    upside_down = book.with_overrides({"employer_pension.auto_enrolment_upper_limit": [(D(2026, 4, 6), 6000, "")]})
    with pytest.raises(InputError, match=r"auto_enrolment_upper_limit \(£6,000\) must be above"):
        oncost(upside_down, "auto_enrolment", 30000, 2026)


def test_above_the_upper_limit_the_auto_enrolment_rate_falls(book):
    """Documented in the rules README: NI rate × threshold (£750) is below pension rate × band (£1,320.90), so
    above £50,270 the capped pension's share falls faster than the NI share rises."""
    at_limit, above = oncost(book, "auto_enrolment", 50270, 2026), oncost(book, "auto_enrolment", 100000, 2026)
    assert round(at_limit.rate, 4) == 0.1614 and round(above.rate, 4) == 0.1557
    assert 0.15 * 5000 < 0.03 * (50270 - 6240)
    assert oncost(book, "auto_enrolment", 50270, 2024).rate > oncost(book, "auto_enrolment", 100000, 2024).rate


def test_no_pension_scheme_and_salary_below_threshold(book):
    result = oncost(book, "none", 4000, 2025)
    assert result.pension == 0 and result.employer_ni == 0 and result.rate == 0
    assert result.explanation.startswith("no employer pension + employer NI 15% on pay above £5,000 (none on £4,000)")
    assert oncost(book, "none", 22221.5, 2025).explanation.count("£22,221.50") == 1


def test_unknown_scheme_lists_the_schemes(book):
    with pytest.raises(InputError) as caught:
        oncost(book, "polce", 30000, 2024)
    message = str(caught.value)
    assert "did you mean 'police'" in message
    assert all(scheme in message for scheme in PENSION_SCHEMES)


@pytest.mark.parametrize("salary", [0, -1, float("nan"), float("inf"), True, "30000"])
def test_bad_salary_is_refused(book, salary):
    with pytest.raises(InputError, match="salary"):
        oncost(book, "police", salary, 2024)


def test_local_government_needs_the_fund_rate_as_an_override(book):
    with pytest.raises(InputError) as caught:
        oncost(book, "local_government", 30000, 2024)
    assert "`employer_pension.local_government` as an override" in str(caught.value)
    assert "fund" in str(caught.value)
    fund = book.with_overrides({"employer_pension.local_government": [(D(2023, 4, 1), 0.19, "Example fund R&A")]})
    result = oncost(fund, "local_government", 30000, 2024)
    assert result.pension == 0.19 and result.user_input
    assert "LGPS pension 19% (your value)" in result.explanation
    # an override from a later date than the year costed is not used for earlier years
    with pytest.raises(InputError, match="first value is from 1 April 2025"):
        oncost(
            book.with_overrides({"employer_pension.local_government": [(D(2025, 4, 1), 0.2, "")]}),
            "local_government",
            30000,
            2024,
        )


@settings(max_examples=300, deadline=None)
@given(
    scheme=st.sampled_from(FLAT_SCHEMES),
    year=st.integers(min_value=2024, max_value=2035),
    low=st.floats(min_value=1, max_value=1_000_000, allow_nan=False),
    high=st.floats(min_value=1, max_value=1_000_000, allow_nan=False),
)
def test_a_higher_salary_never_lowers_the_oncost_rate_of_a_flat_rate_scheme(book, scheme, year, low, high):
    low, high = sorted((low, high))
    a, b = oncost(book, scheme, low, year), oncost(book, scheme, high, year)
    assert a.rate <= b.rate
    assert a.employer_ni <= b.employer_ni <= b.ni_rate
    assert a.pension == b.pension == a.pension_rate
    assert a.rate >= 0 and b.rate >= 0
    assert a.rate == pytest.approx(a.pension + a.employer_ni)
    if scheme == "none":
        assert a.pension == 0 and b.pension == 0


@settings(max_examples=300, deadline=None)
@given(
    scheme=st.sampled_from(BANDED_SCHEMES),
    year=st.integers(min_value=2024, max_value=2035),
    low=st.floats(min_value=1, max_value=1_000_000, allow_nan=False),
    high=st.floats(min_value=1, max_value=1_000_000, allow_nan=False),
)
def test_a_banded_scheme_never_lowers_the_rate_up_to_its_upper_limit_nor_the_pounds_above_it(
    book, scheme, year, low, high
):
    """The truth for auto_enrolment: the rate never falls with salary up to the band's upper limit; above it the
    rate may fall (the pension is capped in pounds: see the rules README), but the on-cost in pounds never does."""
    low, high = sorted((low, high))
    a, b = oncost(book, scheme, low, year), oncost(book, scheme, high, year)
    assert b.pension_band is not None
    lower, upper = b.pension_band
    if high <= upper:
        assert a.rate <= b.rate and a.pension <= b.pension
    assert a.rate * low <= b.rate * high * (1 + 1e-12)
    assert a.pension * low <= b.pension * high * (1 + 1e-12) + 1e-9
    assert b.pension * high <= b.pension_rate * (upper - lower) * (1 + 1e-12)
    assert a.employer_ni <= b.employer_ni <= b.ni_rate
    assert 0 <= a.pension <= a.pension_rate
    assert a.rate == pytest.approx(a.pension + a.employer_ni)


# ---------------------------------------------------------------------------------------------------------------
# Overrides


def test_overrides_merge_and_mark_user_input(book):
    changed = book.with_overrides(
        {
            "employer_ni.rate": [(D(2025, 4, 6), 0.16, "replaces the shipped 15%"), (D(2030, 4, 6), 0.17, "later")],
        }
    )
    series = changed.parameters["employer_ni.rate"].values
    assert [v.start for v in series] == [D(2023, 4, 6), D(2024, 4, 6), D(2025, 4, 6), D(2030, 4, 6)]
    assert series[2].value == 0.16 and series[2].user_input and series[2].references == ()
    assert series[2].note == "replaces the shipped 15%"
    assert not series[0].user_input
    assert book.value("employer_ni.rate", D(2025, 4, 6)) == 0.15  # the original is unchanged
    with pytest.raises(TypeError):
        changed.parameters["x"] = None  # type: ignore[index]


def test_override_problems_are_named(book):
    with pytest.raises(InputError, match=r"'employer_pension.polce' is not a known parameter \(did you mean"):
        book.with_overrides({"employer_pension.polce": [(D(2024, 4, 1), 0.3, "")]})
    with pytest.raises(InputError, match=r"overrides\.employer_ni\.rate\[0\]: .*between 0 and 1"):
        book.with_overrides({"employer_ni.rate": [(D(2024, 4, 6), 15, "percent by mistake")]})
    with pytest.raises(InputError, match="from date must be a date"):
        book.with_overrides({"employer_ni.rate": [("2024-04-06", 0.1, "")]})
    with pytest.raises(InputError, match=r"must be \(from date, value, note\)"):
        book.with_overrides({"employer_ni.rate": [(D(2024, 4, 6), 0.1)]})  # type: ignore[list-item]


# ---------------------------------------------------------------------------------------------------------------
# Bad files


def test_a_good_file_loads(tmp_path):
    parameters = load_rule_file(write(tmp_path, GOOD))
    assert list(parameters) == ["sample.rate"]
    assert parameters["sample.rate"].values[1].value == 0.15


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("    unit: fraction\n", "    unit: fraction\n    colour: red\n", "parameters.rate.colour: unknown field"),
        (
            '        note: ""\n',
            '        notes: ""\n',
            "parameters.rate.values[0].notes: unknown field (did you mean 'note'?)",
        ),
        ("from: 2025-04-06", "from: 2023-01-01", "parameters.rate.values[1].from: dates must increase"),
        ("value: 0.15", "value: 15", "parameters.rate.values[1].value: must be between 0 and 1"),
        ("value: 0.15", "value: yes", "parameters.rate.values[1].value: must be a number"),
        ("from: 2025-04-06", "from: 2025-04-06 10:00:00", "parameters.rate.values[1].from: must be a date"),
        (
            "    unit: fraction",
            "    unit: percent",
            "parameters.rate.unit: must be one of fraction, gbp_per_year, index (found 'percent')",
        ),
        ("{id: P006,", "{id: p6,", "parameters.rate.values[0].references[0].id: must be a source id"),
        ("{id: P006,", "{id: RB01,", "parameters.rate.values[0].references[0].id: must be a source id"),
        (
            'locator: "Class 1 table"',
            'title: "Tax tables"',
            "parameters.rate.values[0].references[0].title: unknown field (known: id, locator); a reference is a "
            "source id, and the source's title and web address are kept in the sources registry",
        ),
        ("description: A test rules file.\n", "", "description: is required"),
        ("  rate:\n", "  Rate:\n", "parameters.Rate: a parameter name is lower_case"),
    ],
)
def test_bad_fields_are_named(tmp_path, old, new, expected):
    assert old in GOOD
    message = error_of(write(tmp_path, GOOD.replace(old, new)))
    assert "sample.yaml" in message
    assert expected in message


def test_missing_references_are_refused(tmp_path):
    no_list = GOOD.replace("        references:\n          - {id: P005}\n", "")
    assert "parameters.rate.values[1].references: is required" in error_of(write(tmp_path, no_list))
    empty = GOOD.replace("        references:\n          - {id: P005}\n", "        references: []\n")
    message = error_of(write(tmp_path, empty))
    assert "sample.yaml" in message
    assert "parameters.rate.values[1].references: every value needs at least one reference" in message


def test_a_good_file_takes_its_references_from_the_registry(tmp_path):
    parameters = load_rule_file(write(tmp_path, GOOD))
    ref = parameters["sample.rate"].values[0].references[0]
    source = load_registry()["P006"]
    assert (ref.id, ref.title, ref.href, ref.publisher, ref.locator) == (
        "P006",
        source.title,
        source.url,
        source.publisher,
        "Class 1 table",
    )


def test_a_reference_id_not_in_the_registry_is_refused_naming_file_and_field(tmp_path):
    message = error_of(write(tmp_path, GOOD.replace("{id: P005}", "{id: P999}")))
    assert "sample.yaml" in message
    assert "parameters.rate.values[1].references[0].id: unknown source id 'P999'" in message
    assert "data/sources.csv" in message and "curated_sources.csv" in message
    near = error_of(write(tmp_path, GOOD.replace("{id: P005}", "{id: S99}")))
    assert "must be a source id" in near  # the form is checked first
    typo = error_of(write(tmp_path, GOOD.replace("{id: P005}", "{id: P105}")))
    assert "unknown source id 'P105' (did you mean" in typo


def test_an_id_mentioned_in_a_note_must_be_in_the_registry(tmp_path):
    text = GOOD.replace('        note: ""\n', '        note: "as P998 says"\n')
    message = error_of(write(tmp_path, text))
    assert "sample.yaml" in message and "parameters.rate.values[0].note: mentions unknown source id 'P998'" in message
    described = GOOD.replace("description: A test rules file.", "description: A test rules file citing Q123.")
    assert "description: mentions unknown source id 'Q123'" in error_of(write(tmp_path, described))


def test_a_reference_to_a_source_without_a_web_address_is_refused(tmp_path):
    registry = dict(load_registry())
    registry["P006"] = Source("P006", "A publisher", "A title", "2026", "", "", ("planner",))
    with pytest.raises(InputError) as caught:
        load_rule_file(write(tmp_path, GOOD), registry)
    assert "parameters.rate.values[0].references[0].id: source P006 has no web address" in str(caught.value)
    assert "P034" in load_registry() and not load_registry()["P034"].url  # such sources exist, cited only in prose


def test_the_rulebook_checks_ids_against_the_registry_it_is_given(tmp_path):
    folder = tmp_path / "rules"
    folder.mkdir()
    for name in SHIPPED_FILES:
        shutil.copy(RULES_DIR / name, folder / name)
    header = "id,publisher,title,date,url,note,used_for\n"
    (tmp_path / "sources.csv").write_text(header + "P001,A,B,2026,https://example.org,,planner\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_rulebook(folder, tmp_path / "sources.csv")
    message = str(caught.value)
    assert "employer_ni.yaml" in message and "unknown source id 'P017'" in message


def test_several_problems_are_all_reported(tmp_path):
    text = GOOD.replace("value: 0.15", "value: 15").replace("from: 2025-04-06", "from: 2020-04-06")
    message = error_of(write(tmp_path, text))
    assert "2 problem(s)" in message
    assert "values[1].value" in message and "values[1].from: dates must increase" in message


def test_no_default_needs_empty_values_and_a_reference(tmp_path):
    text = GOOD.replace("    unit: fraction\n", "    unit: fraction\n    no_default: Set per fund.\n")
    message = error_of(write(tmp_path, text))
    assert "parameters.rate.values: must be empty when no_default" in message
    assert "parameters.rate.references: no_default needs at least one reference" in message
    assert "values: needs at least one dated value" in error_of(
        write(tmp_path, "description: x\nparameters:\n  rate: {label: r, unit: fraction, values: []}\n")
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- a\n- b\n", "is not a rules file: expected a mapping"),
        ("", "got nothing"),
        ("just text\n", "got the text"),
        ("description: x\nparameters: [1, 2]\n", "parameters: must be a mapping"),
        ("description: x\nparameters:\n  rate: 3\n", "parameters.rate: must be a mapping"),
        (
            "description: x\nparameters:\n  rate:\n    label: r\n    unit: fraction\n    values: 3\n",
            "values: must be a list",
        ),
        ("a: [1,\n", "is not valid YAML at line"),
    ],
)
def test_not_a_mapping_or_not_yaml(tmp_path, text, expected):
    message = error_of(write(tmp_path, text))
    assert "sample.yaml" in message and expected in message


def test_aliases_are_refused(tmp_path):
    text = GOOD.replace(
        '          - {id: P006, locator: "Class 1 table"}', '          - &ref {id: P006, locator: "Class 1 table"}'
    ).replace("          - {id: P005}", "          - *ref")
    message = error_of(write(tmp_path, text))
    assert "sample.yaml" in message and "anchors and aliases" in message


def test_oversize_and_non_utf8_files_are_refused(tmp_path):
    big = write(tmp_path, GOOD + "# " + "x" * rules.MAX_RULE_FILE_BYTES + "\n")
    message = error_of(big)
    assert "sample.yaml" in message and "larger than 100 KB" in message
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"description: \xff\xfe\n")
    assert "binary.yaml: is not a UTF-8 text file" in error_of(binary)
    assert "no such file" in error_of(tmp_path / "absent.yaml")
    assert "file name must be lower_case" in error_of(write(tmp_path, GOOD, "Bad-Name.yaml"))


def test_a_directory_missing_a_required_parameter_or_with_bad_files(tmp_path):
    for name in SHIPPED_FILES:
        shutil.copy(RULES_DIR / name, tmp_path / name)
    assert set(load_rulebook(tmp_path).parameters) == set(load_rulebook().parameters)
    (tmp_path / "green_book.yaml").unlink()
    rules._load_rulebook.cache_clear()
    with pytest.raises(InputError, match=r"green_book\.discount_rate: is required"):
        load_rulebook(tmp_path)
    write(tmp_path, GOOD.replace("value: 0.15", "value: 15"), "one.yaml")
    write(tmp_path, GOOD.replace("value: 0.15", "value: 16"), "two.yaml")
    with pytest.raises(InputError) as caught:
        load_rulebook(tmp_path)
    assert "one.yaml" in str(caught.value) and "two.yaml" in str(caught.value)
    with pytest.raises(InputError, match="no rules directory"):
        load_rulebook(tmp_path / "absent")
