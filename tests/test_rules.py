"""Dated planner rules (data/planner/rules) and the on-cost function built on them."""

from __future__ import annotations

import datetime
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
    PENSION_SCHEMES,
    RULES_DIR,
    RuleBook,
    load_rule_file,
    load_rulebook,
    oncost,
    rule_date,
)

D = datetime.date
SHIPPED_FILES = ("employer_ni.yaml", "employer_pension.yaml", "green_book.yaml", "gdp_deflator.yaml")
COSTED_SCHEMES = [s for s in PENSION_SCHEMES if s != "local_government"]  # LGPS has no default


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
          - {id: P006, title: "Tax tables", href: "https://example.org/ni"}
        note: ""
      - from: 2025-04-06
        value: 0.15
        references:
          - {id: P005, title: "Spring Statement", href: "https://example.org/ss"}
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


def test_source_ids_in_the_shipped_files_are_listed_somewhere(book):
    """P…/S… in SOURCES.md, R… in the VfM research note, RB… in the rules README."""
    tables = (
        (paths.DATA_DIR / "scenarios" / "SOURCES.md").read_text(encoding="utf-8")
        + (paths.REPO_ROOT / "docs" / "research" / "planner_value_for_money.md").read_text(encoding="utf-8")
        + (RULES_DIR / "README.md").read_text(encoding="utf-8")
    )
    ids = {ref.id for p in book.parameters.values() for v in p.values for ref in v.references}
    ids |= {ref.id for p in book.parameters.values() for ref in p.references}
    for source_id in ids:
        assert f"| {source_id} |" in tables, source_id


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
    assert all("R25" in v.note for v in index.values)  # third-party transcription, said so
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
    assert {r.id for r in result.references} >= {"RB06", "RB01", "P006"}
    assert result.explanation == (
        "police pension 35.3% + employer NI 13.8% on pay above £9,100 (11.36% of £51,408) = 46.66% "
        "(rules in force on 6 April 2024)"
    )


def test_presets_hand_set_police_rate_matches_the_rules_where_they_agree(book):
    """The presets hand-set 0.4454 for £51,408: police pension 31% + employer NI 15% above £5,000. Those are the
    2025/26 NI rules with the 2019 pension rate; the rules reproduce it exactly when given the same inputs."""
    presets = paths.SCENARIO_PRESETS_DIR
    hand_set = {
        role["oncost_rate"]
        for path in presets.glob("*.yaml")
        for unit in yaml.safe_load(path.read_text(encoding="utf-8")).get("unit_models", [])
        for role in unit.get("roles", [])
        if role["agency"] == "police" and role["salary"] == 51408
    }
    assert hand_set == {0.4454}
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
    scheme=st.sampled_from(COSTED_SCHEMES),
    year=st.integers(min_value=2024, max_value=2035),
    low=st.floats(min_value=1, max_value=1_000_000, allow_nan=False),
    high=st.floats(min_value=1, max_value=1_000_000, allow_nan=False),
)
def test_a_higher_salary_never_lowers_the_oncost_rate(book, scheme, year, low, high):
    low, high = sorted((low, high))
    a, b = oncost(book, scheme, low, year), oncost(book, scheme, high, year)
    assert a.rate <= b.rate
    assert a.employer_ni <= b.employer_ni <= b.ni_rate
    assert a.rate >= 0 and b.rate >= 0
    assert a.rate == pytest.approx(a.pension + a.employer_ni)
    if scheme == "none":
        assert a.pension == 0 and b.pension == 0


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
        ('href: "https://example.org/ni"', 'href: "example.org/ni"', "references[0].href: must be a web address"),
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
    no_list = GOOD.replace(
        '        references:\n          - {id: P005, title: "Spring Statement", href: "https://example.org/ss"}\n', ""
    )
    assert "parameters.rate.values[1].references: is required" in error_of(write(tmp_path, no_list))
    empty = GOOD.replace(
        '        references:\n          - {id: P005, title: "Spring Statement", href: "https://example.org/ss"}\n',
        "        references: []\n",
    )
    message = error_of(write(tmp_path, empty))
    assert "sample.yaml" in message
    assert "parameters.rate.values[1].references: every value needs at least one reference" in message


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
        '          - {id: P006, title: "Tax tables", href: "https://example.org/ni"}',
        '          - &ref {id: P006, title: "Tax tables", href: "https://example.org/ni"}',
    ).replace('          - {id: P005, title: "Spring Statement", href: "https://example.org/ss"}', "          - *ref")
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
