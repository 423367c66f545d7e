"""Value for money: break-even arithmetic, uprating, the published harm costs and the default referral rate."""

from __future__ import annotations

import copy
import csv
import math
from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage import paths
from coverage.errors import InputError
from coverage.planner.value import (
    HARM_COSTS_YAML,
    REFERRAL_RATE_YAML,
    BreakEven,
    HarmCost,
    break_even,
    fy_label,
    load_effect_size_note,
    load_harm_costs,
    load_referral_rate,
    uprate,
    value_for_money,
)

CHESHIRE = "E23000006"
# HM Treasury GDP deflator, financial years, 2024-25 = 100, March 2026 vintage, as transcribed in the research
# note (docs/research/planner_value_for_money.md section 6; secondary). Test data only: value.py holds none.
DEFLATOR = {2016: 76.0754, 2019: 80.8738, 2020: 85.1002, 2024: 100.0}
RECORDED_CRIME_CSV = paths.DATA_DIR / "indicators" / "recorded_crime.csv"


def _index(year: int) -> float:
    return DEFLATOR[year]


def _harm_cost(**changes: object) -> HarmCost:
    base: dict[str, object] = {
        "id": "x",
        "label": "A cost",
        "amount": 34015.0,
        "price_year": 2016,
        "per": "victim",
        "covers": "both",
        "source_ids": ("S164",),
        "title": "t",
        "url": "https://example.org",
        "status": "secondary",
        "caveat": "c",
        "quote": "q",
    }
    base.update(changes)
    return HarmCost(**base)  # type: ignore[arg-type]


def _recorded_crime(area: str, period: str, column: str) -> float:
    with RECORDED_CRIME_CSV.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["area_code"] == area and row["period"] == period:
                return float(row[column])
    raise AssertionError(f"{area} {period} not in {RECORDED_CRIME_CSV}")


def _known_source_ids() -> set[str]:
    # The register's sources table (its path is being moved; read whichever copy exists).
    register = next(p for p in (paths.SOURCES_CSV, paths.DATA_DIR / "services" / "sources.csv") if p.exists())
    with register.open(encoding="utf-8", newline="") as f:
        ids = {row.get("id") or row["source_id"] for row in csv.DictReader(f)}  # data/sources.csv names it "id"
    sources_md = paths.DATA_DIR / "scenarios" / "SOURCES.md"
    for line in sources_md.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and len(cells[0]) == 4 and cells[0][0] in "PS" and cells[0][1:].isdigit():
            ids.add(cells[0])
    return ids


def _write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------
# Break-even
# --------------------------------------------------------------------------------------------


def test_break_even_by_hand() -> None:
    # PV(referrals) = 10 × 1 + 10 / 1.035 = 19.66184…; 1,000 / 19.66184 = 50.8600…
    be = break_even(1_000, [10, 10], [1, 1 / 1.035])
    pv_refs = 10 + 10 / 1.035
    assert be.pv_referrals == pytest.approx(pv_refs)
    assert be.switching_value_per_referral == pytest.approx(1_000 / pv_refs)
    assert be.switching_value_per_referral == pytest.approx(50.86, abs=0.005)
    assert be.referrals_total == 20
    assert be.pv_cost == 1_000


def test_break_even_is_none_without_referrals() -> None:
    assert break_even(1_000, [0, 0, 0], [1, 0.97, 0.93]).switching_value_per_referral is None
    assert break_even(1_000, [], []).switching_value_per_referral is None
    unknown = break_even(1_000, [math.nan, math.nan], [1, 0.97])  # a scenario without demand
    assert unknown.switching_value_per_referral is None
    assert math.isnan(unknown.pv_referrals)


def test_break_even_of_zero_cost_is_zero() -> None:
    assert break_even(0, [5], [1]).switching_value_per_referral == 0


@pytest.mark.parametrize(
    ("pv_cost", "refs", "disc", "words"),
    [
        (1_000, [10, 10], [1], "2 years of referrals but 1 discount factors"),
        (-1, [10], [1], "pv_cost"),
        (math.nan, [10], [1], "pv_cost"),
        (math.inf, [10], [1], "pv_cost"),
        (1_000, [-5], [1], "referrals_by_year[0]"),
        (1_000, [math.inf], [1], "referrals_by_year[0]"),
        (1_000, [10], [-0.5], "discount_factors[0]"),
        (1_000, [10], [math.nan], "discount_factors[0]"),
        (1_000, [10], [0], "greater than zero"),
        (1_000, ["ten"], [1], "not a number"),
    ],
)
def test_break_even_refuses(pv_cost: float, refs: list[float], disc: list[float], words: str) -> None:
    with pytest.raises(InputError, match=words.replace("[", r"\[").replace("]", r"\]")):
        break_even(pv_cost, refs, disc)


@settings(max_examples=200, deadline=None)
@given(
    pv_cost=st.floats(min_value=1.0, max_value=1e9),
    k=st.floats(min_value=0.01, max_value=100.0),
    refs=st.lists(st.floats(min_value=0.0, max_value=1e4), min_size=1, max_size=30),
    extra=st.floats(min_value=0.5, max_value=1e4),
    where=st.integers(min_value=0, max_value=29),
    rate=st.floats(min_value=0.0, max_value=0.1),
)
def test_switching_value_scales_with_cost_and_falls_with_referrals(
    pv_cost: float, k: float, refs: list[float], extra: float, where: int, rate: float
) -> None:
    disc = [1 / (1 + rate) ** t for t in range(len(refs))]
    more = list(refs)
    more[where % len(refs)] += extra
    base = break_even(pv_cost, refs, disc)
    scaled = break_even(pv_cost * k, refs, disc)
    with_more = break_even(pv_cost, more, disc)
    assert with_more.switching_value_per_referral is not None
    if base.switching_value_per_referral is None:  # no referrals at first: any referral gives a break-even
        return
    assert scaled.switching_value_per_referral == pytest.approx(k * base.switching_value_per_referral, rel=1e-9)
    assert with_more.switching_value_per_referral < base.switching_value_per_referral


# --------------------------------------------------------------------------------------------
# Uprating
# --------------------------------------------------------------------------------------------


def test_uprating_the_domestic_abuse_cost_to_2024_25() -> None:
    # £34,015 (2016/17) × 100 / 76.0754 = £44,712 (research note section 6, HM Treasury's method)
    up = uprate(_harm_cost(), 2024, _index)
    assert up.amount == pytest.approx(44_712, abs=1)
    assert up.factor == pytest.approx(100 / 76.0754)
    assert up.price_year == 2024
    shipped = {c.id: c for c in load_harm_costs()}["domestic_abuse_victim_average"]
    assert uprate(shipped, 2024, _index).amount == pytest.approx(44_712, abs=1)


def test_uprating_to_its_own_year_changes_nothing() -> None:
    up = uprate(_harm_cost(), 2016, _index)
    assert up.factor == 1 and up.amount == 34015


def test_uprating_refuses_what_it_cannot_do() -> None:
    with pytest.raises(InputError, match="no stated price year"):
        uprate(_harm_cost(price_year=None), 2024, _index)
    with pytest.raises(InputError, match="no index for 2030/31"):
        uprate(_harm_cost(), 2030, _index)
    with pytest.raises(InputError, match="positive number"):
        uprate(_harm_cost(), 2024, lambda year: 0.0)
    with pytest.raises(InputError, match="positive number"):
        uprate(_harm_cost(), 2024, lambda year: math.nan)


def test_fy_label() -> None:
    assert fy_label(2016) == "2016/17"
    assert fy_label(2099) == "2099/00"


# --------------------------------------------------------------------------------------------
# The harm costs file
# --------------------------------------------------------------------------------------------


def test_every_harm_cost_has_a_source_a_status_and_a_price_year_or_a_reason() -> None:
    costs = load_harm_costs()
    known = _known_source_ids()
    assert costs
    for c in costs:
        assert c.source_ids and set(c.source_ids) <= known, c.id
        assert c.url.startswith("https://") and c.title and c.quote and c.caveat and c.is_not, c.id
        assert c.status in {"primary", "secondary"}
        assert c.covers in {"state costs", "victim costs", "both"}
        assert c.price_year is not None or "not stated" in c.price_year_note.lower(), c.id
        assert c.price_year_note, c.id
        assert c.amount > 0


def test_shipped_figures_carry_the_research_notes_status() -> None:
    costs = {c.id: c for c in load_harm_costs()}
    da = costs["domestic_abuse_victim_average"]
    assert (da.amount, da.price_year, da.status) == (34015, 2016, "secondary")  # read only in secondary sources
    assert "inferred" in da.price_year_note.lower()
    assert "not a stalking cost" in da.is_not and "three years" in da.is_not
    state = costs["masip_case_state_costs_avoided"]
    victim = costs["masip_case_victim_costs_avoided"]
    assert (state.amount, state.covers, state.source_ids) == (20179.26, "state costs", ("S002",))
    assert (victim.amount, victim.covers, victim.source_ids) == (71438.41, "victim costs", ("S002",))
    for case in (state, victim):
        assert case.status == "primary" and case.price_year is None  # the paper states no price year
        assert "one case study" in case.is_not and "not an effect size" in case.is_not


def test_no_effect_size_is_shipped() -> None:
    raw = yaml.safe_load(HARM_COSTS_YAML.read_text(encoding="utf-8"))
    assert "effect_size" in raw and raw["effect_size"] is None
    assert "effect size" in load_effect_size_note().lower()


def test_harm_costs_file_refusals(tmp_path: Path) -> None:
    good = yaml.safe_load(HARM_COSTS_YAML.read_text(encoding="utf-8"))

    def refused(data: object, words: str) -> None:
        with pytest.raises(InputError, match=words):
            load_harm_costs(_write(tmp_path, "h.yaml", data))

    refused({**good, "effect_size": 0.2}, "effect_size")
    refused({**good, "surprise": 1}, "surprise")
    refused({**good, "harm_costs": [{**good["harm_costs"][0], "source_ids": []}]}, "source_ids")
    refused({**good, "harm_costs": [{**good["harm_costs"][0], "status": "guessed"}]}, "status")
    refused({**good, "harm_costs": [{**good["harm_costs"][0], "amount": -1}]}, "amount")
    refused({**good, "harm_costs": [good["harm_costs"][0], copy.deepcopy(good["harm_costs"][0])]}, "unique")
    no_quote = {k: v for k, v in good["harm_costs"][0].items() if k != "quote"}
    refused({**good, "harm_costs": [no_quote]}, "quote")
    refused([1, 2], "mapping")

    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * 100_001, encoding="utf-8")
    with pytest.raises(InputError, match="larger than 100 KB"):
        load_harm_costs(big)
    alias = tmp_path / "alias.yaml"
    alias.write_text("a: &x [1]\nb: *x\n", encoding="utf-8")
    with pytest.raises(InputError, match="aliases"):
        load_harm_costs(alias)
    with pytest.raises(InputError, match="no such file"):
        load_harm_costs(tmp_path / "missing.yaml")


# --------------------------------------------------------------------------------------------
# Value for money
# --------------------------------------------------------------------------------------------


def test_value_for_money_sentences() -> None:
    refs = [312.0] * 10
    disc = [1 / 1.035**t for t in range(10)]
    vfm = value_for_money(5_000_000, refs, disc, 2024, _index)
    sv = vfm.break_even.switching_value_per_referral
    assert sv is not None
    assert vfm.comparisons[0] == (
        f"Each referral would need to avert £{sv:,.0f} of harm (present value, 2024/25 prices) "
        "for the units to pay for themselves."
    )
    da = next(s for s in vfm.comparisons if "domestic abuse" in s and "£44,712" in s)
    assert f"{44_712.4 / sv:,.1f}×" in da or f"{44_712.6 / sv:,.1f}×" in da
    assert "2016/17 prices uprated with the GDP deflator" in da and "not a stalking cost" in da
    assert "secondary" in da
    cases = [s for s in vfm.comparisons if "MASIP" in s]
    assert len(cases) == 2 and all("not uprated" in s and "one case study" in s for s in cases)
    assert [b.cost.id for b in vfm.benchmarks] == ["domestic_abuse_victim_average"]
    assert {c.id for c in vfm.not_uprated} == {"masip_case_state_costs_avoided", "masip_case_victim_costs_avoided"}
    assert "break-even" in vfm.effect_size_note
    assert not any("net present value of" in s.lower() or "benefit/cost ratio of" in s.lower() for s in vfm.comparisons)


def test_value_for_money_without_referrals() -> None:
    vfm = value_for_money(5_000_000, [0, 0], [1, 1 / 1.035], 2024, _index)
    assert vfm.break_even == BreakEven(5_000_000, 0.0, None, 0.0)
    assert "no referrals" in vfm.comparisons[0]
    assert not any("×" in s for s in vfm.comparisons)


def test_value_for_money_takes_its_own_costs() -> None:
    vfm = value_for_money(1_000, [10], [1], 2024, _index, harm_costs=[_harm_cost()], effect_size_note="none")
    assert len(vfm.benchmarks) == 1 and vfm.effect_size_note == "none" and vfm.not_uprated == ()


# --------------------------------------------------------------------------------------------
# The default referral rate
# --------------------------------------------------------------------------------------------


def test_default_rate_is_per_stalking_offence_in_the_matching_year() -> None:
    rate = load_referral_rate()
    assert rate.value == pytest.approx(312 / 364)
    assert rate.value == pytest.approx(260 * 12 / 10 / 364)
    assert (rate.observed_referrals, rate.observed_months) == (260, 10)
    assert rate.offence_code == "8Q" and rate.reference_period == "YE Dec 2018" and not rate.legacy
    assert CHESHIRE in rate.reference_area
    assert rate.reference_offences == _recorded_crime(CHESHIRE, "YE Dec 2018", "stalking_8Q")
    assert "S055" in rate.source_ids and rate.confidence == "low"
    assert set(rate.source_ids) <= _known_source_ids()
    text = " ".join(rate.caveats)
    assert "Halton and Warrington" in text and "understates" in text


def test_default_rate_caveat_quotes_the_latest_count() -> None:
    with RECORDED_CRIME_CSV.open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["area_code"] == CHESHIRE and r["stalking_8Q"]]
    latest = max(rows, key=lambda r: int(r["year_ending"]))
    caveats = " ".join(load_referral_rate().caveats)
    assert f"{int(latest['stalking_8Q']):,}" in caveats
    assert f"December {latest['year_ending']}" in caveats


def test_matched_periods_arithmetic() -> None:
    # Referral window 1 June 2018 to 31 March 2019 (10 months) against the year ending December 2018.
    start, end = date(2018, 6, 1), date(2019, 4, 1)  # end exclusive
    window_mid = start.toordinal() + (end - start).days / 2
    year_mid = date(2018, 1, 1).toordinal() + 365 / 2
    month = 365.25 / 12
    rate = load_referral_rate()
    assert date.fromordinal(int(window_mid)) == date(2018, 10, 31)
    assert (window_mid - year_mid) / month == pytest.approx(rate.months_apart, abs=0.1)
    overlap = (date(2019, 1, 1) - start).days / ((end - start).days / 10)
    assert overlap == pytest.approx(rate.overlap_months, abs=0.1)
    legacy = load_referral_rate(which="legacy_group")
    year_2023_mid = date(2023, 1, 1).toordinal() + 365 / 2
    assert (year_2023_mid - window_mid) / month == pytest.approx(legacy.months_apart, abs=0.1)


def test_legacy_rate_is_kept_for_v1_scenarios() -> None:
    legacy = load_referral_rate(which="legacy_group")
    assert legacy.legacy and "legacy" in legacy.label.lower()
    assert legacy.value == pytest.approx(312 / 13_691)
    assert round(legacy.value, 4) == 0.0228
    assert legacy.reference_period == "YE Dec 2023"
    with (paths.DATA_DIR / "indicators" / "indicators.csv").open(encoding="utf-8", newline="") as f:
        ons = next(
            float(r["value"])
            for r in csv.DictReader(f)
            if r["area_code"] == CHESHIRE
            and r["indicator"] == "stalking_harassment_offences"
            and r["period"] == "YE Dec 2023"
        )
    assert legacy.reference_offences == ons


def test_referral_rate_refusals(tmp_path: Path) -> None:
    good = yaml.safe_load(REFERRAL_RATE_YAML.read_text(encoding="utf-8"))
    with pytest.raises(InputError, match="unknown referral rate"):
        load_referral_rate(which="group")  # type: ignore[arg-type]
    wrong = {**good, "rates": {**good["rates"], "stalking_8q": {**good["rates"]["stalking_8q"], "value": 0.5}}}
    with pytest.raises(InputError, match="is not observed_referrals"):
        load_referral_rate(_write(tmp_path, "r.yaml", wrong))
    missing = {**good, "rates": {"stalking_8q": good["rates"]["stalking_8q"]}}
    with pytest.raises(InputError, match="legacy_group"):
        load_referral_rate(_write(tmp_path, "r.yaml", missing))
    extra = {**good, "rates": {**good["rates"], "stalking_8q": {**good["rates"]["stalking_8q"], "effect": 1}}}
    with pytest.raises(InputError, match="effect"):
        load_referral_rate(_write(tmp_path, "r.yaml", extra))
