"""Postcode / place / force name → police force area (coverage.model.postcodes).

Every behaviour is checked against a small hand-made lookup; the same cases are run against the
lookup built from ../shared/data when that folder is beside the checkout (skipped otherwise).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coverage import paths
from coverage.build.postcodes import REASON_LA_NAME, build_postcode_tables
from coverage.errors import InputError
from coverage.model.forces import read_force_table
from coverage.model.postcodes import (
    KINDS,
    LOCAL_AUTHORITY_COLUMNS,
    OUTWARD_COLUMNS,
    REASON_NEAR_BORDER,
    Lookup,
    LookupResult,
)

SHARED_DATA = paths.REPO_ROOT.parent / "shared" / "data"

CHESHIRE, NORTH_WALES, HAMPSHIRE = "E23000006", "W15000001", "E23000030"
MET, CITY, NORTHUMBRIA, DORSET = "E23000001", "E23000034", "E23000007", "E23000039"

INVALID_QUERIES = ["", "   ", "x" * 5000, "🙂", "'; DROP TABLE x;--", "<script>alert(1)</script>", "12345"]


# ---- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def force_table() -> pd.DataFrame:
    return read_force_table(paths.FORCES_CSV)


def _row(code, force="", candidates=None, reason="", non_geographic=False, town="", active=True, outside=""):
    candidates = candidates if candidates is not None else ([force] if force else [])
    return {
        "outward_code": code,
        "force_code": force,
        "candidate_force_codes": ";".join(sorted(candidates)),
        "straddle_reason": reason,
        "non_geographic": non_geographic,
        "town_area": town,
        "active": active,
        "outside_ew": outside,
    }


def fixture_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    both = f"{REASON_NEAR_BORDER}; {REASON_LA_NAME}"
    outward = pd.DataFrame(
        [
            _row("CH1", CHESHIRE, town="Blacon, Chester"),
            _row("CH4", NORTH_WALES, [CHESHIRE, NORTH_WALES], both, town="Chester, Handbridge, Saltney"),
            _row("SO14", HAMPSHIRE, town="Southampton"),
            _row("WA1", CHESHIRE, town="Warrington"),
            _row("EC1A", MET, [MET, CITY], REASON_NEAR_BORDER, town="St Bartholomew's Hospital"),
            _row(
                "TD12",
                NORTHUMBRIA,
                reason="local authority name is outside England and Wales",
                town="Cornhill-on-Tweed, Coldstream",
                outside="Scotland",
            ),
            _row("TD15", NORTHUMBRIA, town="Berwick-upon-Tweed"),
            _row("BH1", DORSET, town="Bournemouth"),
            _row("L64", CHESHIRE, town="Neston", active=False),
            _row("BN91", non_geographic=True),
            *[
                _row(area, outside=where)
                for area, where in [
                    ("EH", "Scotland"),
                    ("TD", "Scotland"),
                    ("BT", "Northern Ireland"),
                    ("JE", "Jersey"),
                    ("IM", "Isle of Man"),
                    ("GY", "Guernsey"),
                ]
            ],
        ],
        columns=OUTWARD_COLUMNS,
    )
    las = pd.DataFrame(
        [
            ("E06000007", "Warrington", CHESHIRE),
            ("E06000050", "Cheshire West and Chester", CHESHIRE),
            ("E06000058", "Bournemouth, Christchurch and Poole", DORSET),
            ("E06000023", "Bristol, City of", "E23000036"),
            ("E09000001", "City of London", CITY),
            ("E06000045", "Southampton", HAMPSHIRE),
            ("E07000064", "Rother", "E23000033"),
            ("E08000018", "Rotherham", "E23000011"),
        ],
        columns=LOCAL_AUTHORITY_COLUMNS,
    )
    return outward, las


@pytest.fixture(scope="module")
def shared_tables(force_table):
    if not (SHARED_DATA / "PROVENANCE.md").exists():
        pytest.skip("../shared/data is not beside this checkout")
    return build_postcode_tables(SHARED_DATA, force_table)


@pytest.fixture(scope="module", params=["fixture", "shared"])
def tables(request, force_table):
    if request.param == "fixture":
        return fixture_tables()
    return request.getfixturevalue("shared_tables")


@pytest.fixture(scope="module")
def lookup(tables, force_table) -> Lookup:
    outward, las = tables
    return Lookup.from_frames(outward, las, force_table)


@pytest.fixture(scope="module")
def fixture_lookup(force_table) -> Lookup:
    return Lookup.from_frames(*fixture_tables(), force_table)


# ---- the named cases (fixture and real data) ------------------------------------------------


@pytest.mark.parametrize("query", ["CH1 2AB", "ch1 2ab", "CH12AB", "  ch1   2AB "])
def test_full_postcode_resolves_by_district(lookup, query):
    result = lookup.lookup(query)
    assert result.kind == "postcode"
    assert result.force_code == CHESHIRE
    assert result.matched == "CH1 2AB"
    assert "CH1" in result.message


def test_outward_code(lookup):
    result = lookup.lookup("SO14")
    assert (result.kind, result.force_code, result.force_codes, result.straddles) == (
        "outward_code",
        HAMPSHIRE,
        (HAMPSHIRE,),
        False,
    )
    assert "Hampshire" in result.message


@pytest.mark.parametrize("query", ["Warrington", "warrington ", "WARRINGTON"])
def test_local_authority(lookup, query):
    result = lookup.lookup(query)
    assert (result.kind, result.force_code) == ("local_authority", CHESHIRE)
    assert "Cheshire" in result.message


def test_local_authority_with_comma(lookup):
    result = lookup.lookup("Bournemouth, Christchurch and Poole")
    assert (result.kind, result.force_code) == ("local_authority", DORSET)


def test_index_style_la_name_reads_naturally(lookup):
    result = lookup.lookup("Bristol")
    assert result.force_code == "E23000036"
    assert "City of Bristol" in result.message


@pytest.mark.parametrize(
    "query, code",
    [
        ("Cheshire", CHESHIRE),
        ("Devon and Cornwall", "E23000035"),
        ("Devon & Cornwall", "E23000035"),
        ("City of London", CITY),
        ("Met", MET),
        ("Metropolitan Police", MET),
        ("GMP", "E23000005"),
        ("West Mids", "E23000014"),
        ("Thames Valley Police", "E23000029"),
        ("dyfed powys", "W15000004"),
    ],
)
def test_force_names_and_aliases(lookup, query, code):
    result = lookup.lookup(query)
    assert result.kind == "force"
    assert result.force_code == code


def test_london_is_ambiguous(lookup):
    result = lookup.lookup("London")
    assert result.kind == "ambiguous"
    assert set(result.force_codes) == {MET, CITY}
    assert set(result.suggestions) == {"Metropolitan Police", "City of London"}
    assert result.force_code is None


@pytest.mark.parametrize("query, code", [("chesire", CHESHIRE), ("Chesire", CHESHIRE), ("Warington", CHESHIRE)])
def test_small_misspelling_resolves_with_did_you_mean(lookup, query, code):
    result = lookup.lookup(query)
    assert result.force_code == code
    assert result.message.startswith("Did you mean")
    assert "Cheshire" in result.message or "Warrington" in result.message


def test_several_close_matches_are_ambiguous(lookup):
    result = lookup.lookup("Rotherm")  # close to both Rother (Sussex) and Rotherham (South Yorkshire)
    assert result.kind == "ambiguous"
    assert {"Rother", "Rotherham"} <= set(result.suggestions)
    assert {"E23000033", "E23000011"} <= set(result.force_codes)


def test_a_word_inside_a_longer_name(lookup):
    result = lookup.lookup("Chester")  # whole word inside "Cheshire West and Chester"
    assert (result.kind, result.force_code) == ("local_authority", CHESHIRE)


def test_a_split_central_london_district_offers_its_parts():
    result = Lookup.from_data_dir(paths.DATA_DIR).lookup("EC2")
    assert result.kind == "not_found"
    assert result.suggestions[:3] == ("EC2A", "EC2M", "EC2N")
    assert "EC2 is divided into postcode districts EC2A, EC2M, EC2N and others" in result.message


def test_a_district_only_near_a_boundary_may_straddle_it():
    # SW1A is in Westminster; its centre is within 2 km of the City of London, nothing more is known.
    result = Lookup.from_data_dir(paths.DATA_DIR).lookup("SW1A 1AA")
    assert result.straddles and result.force_code == "E23000001"
    assert "may straddle Metropolitan Police and City of London: its centre is within 2 km" in result.message


def test_ch4_straddles_cheshire_and_north_wales(lookup):
    result = lookup.lookup("CH4")
    assert result.straddles
    assert set(result.force_codes) == {CHESHIRE, NORTH_WALES}
    assert result.force_code == NORTH_WALES  # where the centroid falls
    assert "straddles Cheshire and North Wales" in result.message
    assert "North Wales." in result.message


def test_ec1a_flagged_city_and_met(lookup):
    result = lookup.lookup("EC1A 1BB")
    assert result.straddles
    assert set(result.force_codes) == {MET, CITY}


def test_td12_crosses_into_scotland_but_td1_is_scotland(lookup):
    td12 = lookup.lookup("TD12")
    assert td12.force_code == NORTHUMBRIA
    assert td12.straddles and "Police Scotland" in td12.message
    assert lookup.lookup("TD15 1AA").force_code == NORTHUMBRIA
    assert lookup.lookup("TD1 1AA").kind == "outside_england_wales"


@pytest.mark.parametrize(
    "query, where",
    [
        ("EH1 1YZ", "Police Scotland"),
        ("BT1", "PSNI"),
        ("bt1 1aa", "PSNI"),
        ("JE2", "Jersey"),
        ("IM1", "Isle of Man"),
        ("GY1 1AA", "Guernsey"),
        ("Scotland", "Police Scotland"),
        ("EH", "Police Scotland"),
    ],
)
def test_outside_england_and_wales(lookup, query, where):
    result = lookup.lookup(query)
    assert result.kind == "outside_england_wales"
    assert result.force_code is None and result.force_codes == ()
    assert where in result.message
    assert "43 police force areas of England and Wales" in result.message


def test_unknown_but_valid_postcode_is_not_found(lookup):
    result = lookup.lookup("ZZ99 9ZZ")
    assert result.kind == "not_found"
    assert "ZZ99" in result.message


def test_non_geographic_district(lookup):
    result = lookup.lookup("BN91 1AA")
    assert result.kind == "non_geographic"
    assert result.force_code is None
    assert "no location" in result.message


def test_retired_district_says_so(lookup):
    result = lookup.lookup("L64")
    assert result.force_code == CHESHIRE
    assert "retired" in result.message


@pytest.mark.parametrize("query", INVALID_QUERIES)
def test_invalid_input(lookup, query):
    result = lookup.lookup(query)
    assert result.kind == "invalid"
    assert result.message
    assert "<" not in result.message and "DROP" not in result.message


def test_not_found_echo_is_sanitised_and_short(lookup):
    result = lookup.lookup("Qwxzv Plonk " * 10)
    assert result.kind in {"not_found", "ambiguous"}
    assert len(result.message) < 400
    assert "Qwxzv Plonk Qwxzv Plonk Qwxzv Plonk" in result.message
    assert "Qwxzv Plonk " * 5 not in result.message


def test_non_string_input_never_raises(lookup):
    for query in (None, 42, b"CH1", ["CH1"]):
        assert lookup.lookup(query).kind == "invalid"
    assert [r.kind for r in lookup.lookup_many([None, "SO14"])] == ["invalid", "outward_code"]


def test_lookup_many_matches_lookup_and_caches(lookup):
    queries = ["SO14", "Warrington", "SO14", "🙂", "ch1 2ab"] * 3
    results = lookup.lookup_many(queries)
    assert [r.kind for r in results] == [lookup.lookup(q).kind for q in queries]
    assert results[0] is results[2]  # repeated queries share one (immutable) result
    assert results[4].query == "ch1 2ab"


def test_result_serialises(lookup):
    data = lookup.lookup("CH4").to_dict()
    assert isinstance(data["force_codes"], list) and data["kind"] == "outward_code"


def test_every_outward_code_resolves_to_one_force_or_a_straddle(lookup, tables):
    outward, _ = tables
    districts = outward[outward["force_code"] != ""]
    assert len(districts) > 0
    for row in districts.itertuples(index=False):
        result = lookup.lookup(row.outward_code)
        assert result.kind == "outward_code", row.outward_code
        candidates = tuple(row.candidate_force_codes.split(";"))
        assert result.force_codes == candidates
        if len(candidates) > 1:
            assert result.straddles and "straddle" in result.message, row.outward_code
            assert result.force_code in candidates
        else:
            assert result.force_code == row.force_code
            assert result.straddles == bool(row.straddle_reason)
    for row in outward[outward["non_geographic"]].itertuples(index=False):
        assert lookup.lookup(row.outward_code).kind == "non_geographic", row.outward_code


_MESSAGE_OK = st.text(max_size=300)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    query=st.one_of(
        _MESSAGE_OK,
        st.from_regex(r"\A[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}\Z"),
        st.from_regex(r"\A[A-Za-z ,.'&-]{1,40}\Z"),
    )
)
def test_lookup_never_raises(fixture_lookup, query):
    result = fixture_lookup.lookup(query)
    assert isinstance(result, LookupResult)
    assert result.kind in KINDS
    assert result.message and not result.message.startswith("That search could not be answered")
    assert "<" not in result.message and ">" not in result.message
    if result.force_code is not None:
        assert result.force_code in result.force_codes


# ---- building the tables ------------------------------------------------------------------


def _write_source(folder: Path) -> Path:
    """A tiny shared/data: real centroids of a few districts, and a three-LAD lookup."""
    header = (
        "postcode_district,latitude,longitude,easting,northing,town_area,region_name,postcodes_total,"
        "postcodes_active,population,households,non_geographic,pfa23cd,pfa23nm,assign_method,"
        "dist_to_other_pfa_m,near_pfa_border_2km,pfa_by_region_name,name_check"
    )
    rows = [
        'CH4,53.1794,-2.9196,,,"Chester, Handbridge, Saltney",Cheshire West and Chester,1,1,,,False,'
        f"{NORTH_WALES},North Wales,centroid_within,192,True,{CHESHIRE},DISAGREE",
        f"SO14,50.9039,-1.3977,,,Southampton,Southampton,1,1,,,False,{HAMPSHIRE},Hampshire,centroid_within,9000,False,{HAMPSHIRE},agree",
        f"EC1A,51.5201,-0.1003,,,St Bartholomew's Hospital,City of London,1,1,,,False,{MET},Met,centroid_within,146,True,{CITY},DISAGREE",
        f"L64,53.28,-3.05,,,Neston,Liverpool,1,0,,,False,{CHESHIRE},Cheshire,centroid_within,3000,False,E23000004,DISAGREE",
        f'TD12,55.64,-2.21,,,"Cornhill-on-Tweed, Coldstream",Scottish Borders,1,1,,,False,{NORTHUMBRIA},Northumbria,centroid_within,50000,False,,region_name_unmatched',
        "TD1,55.61,-2.81,,,Galashiels,Scottish Borders,1,1,,,False,,,,,False,,outside_ew_or_unmatched",
        "BT1,54.6,-5.93,,,Belfast,Belfast,1,1,,,False,,,,,False,,outside_ew_or_unmatched",
        "JE2,49.19,-2.1,,,St Helier,Jersey,1,1,,,False,,,,,False,,outside_ew_or_unmatched",
        "BN91,,,,,Non-geographic,Brighton,1,1,,,True,,,,,False,E23000033,outside_ew_or_unmatched",
        "B99,52.48,-1.9,,,Non-geographic,Birmingham,1,1,,,True,E23000014,West Midlands,centroid_within,5000,False,E23000014,agree",
        "BF1,,,,,British Forces,British Forces,1,1,,,False,,,,,False,,outside_ew_or_unmatched",
    ]
    (folder / "postcodes").mkdir(parents=True)
    (folder / "postcodes" / "postcode_district_centroids_pfa.csv").write_text("\n".join([header, *rows]) + "\n")
    (folder / "lookups").mkdir()
    (folder / "lookups" / "lad23_to_pfa23_dec2023.csv").write_text(
        "LAD23CD,LAD23NM,PFA23CD,PFA23NM\n"
        f"E06000007,Warrington,{CHESHIRE},Cheshire\n"
        f"E06000045,Southampton,{HAMPSHIRE},Hampshire\n"
        f'E09000001,City of London,{CITY},"London, City of"\n'
    )
    return folder


def test_build_from_a_small_source(tmp_path, force_table):
    outward, las = build_postcode_tables(_write_source(tmp_path / "data"), force_table)
    assert list(outward.columns) == OUTWARD_COLUMNS and list(las.columns) == LOCAL_AUTHORITY_COLUMNS
    rows = outward.set_index("outward_code")
    # near the border: own force + nearest other force (from the shipped boundaries); LA name disagrees too
    assert rows.loc["CH4", "candidate_force_codes"] == f"{CHESHIRE};{NORTH_WALES}"
    assert rows.loc["CH4", "straddle_reason"] == f"{REASON_NEAR_BORDER}; {REASON_LA_NAME}"
    assert rows.loc["EC1A", "candidate_force_codes"] == f"{MET};{CITY}"
    assert rows.loc["L64", "straddle_reason"] == REASON_LA_NAME and not rows.loc["L64", "active"]
    assert rows.loc["SO14", "candidate_force_codes"] == HAMPSHIRE and rows.loc["SO14", "straddle_reason"] == ""
    assert rows.loc["TD12", "outside_ew"] == "Scotland" and rows.loc["TD12", "force_code"] == NORTHUMBRIA
    # non-geographic districts keep no force, even when the source gave one (B99)
    assert rows.loc["B99", "force_code"] == "" and rows.loc["B99", "non_geographic"]
    assert rows.loc["BF1", "non_geographic"]
    # outside E&W: postcode areas, not districts
    outside = rows[(rows["force_code"] == "") & ~rows["non_geographic"]]["outside_ew"].to_dict()
    assert outside == {"BT": "Northern Ireland", "JE": "Jersey", "TD": "Scotland"}
    assert "TD1" not in rows.index


def test_build_rejects_unknown_force_codes(tmp_path, force_table):
    source = _write_source(tmp_path / "data")
    path = source / "postcodes" / "postcode_district_centroids_pfa.csv"
    path.write_text(path.read_text().replace(HAMPSHIRE, "E23999999", 1))
    with pytest.raises(InputError, match="E23999999"):
        build_postcode_tables(source, force_table)


def test_build_names_a_missing_file(tmp_path, force_table):
    with pytest.raises(InputError, match="postcode_district_centroids_pfa.csv"):
        build_postcode_tables(tmp_path, force_table)


def test_from_data_dir_reads_only_the_shipped_files(tmp_path, force_table):
    outward, las = fixture_tables()
    (tmp_path / "postcodes").mkdir()
    (tmp_path / "forces").mkdir()
    outward.to_csv(tmp_path / "postcodes" / "outward_codes.csv", index=False)
    las.to_csv(tmp_path / "postcodes" / "local_authorities.csv", index=False)
    force_table.to_csv(tmp_path / "forces" / "forces.csv", index=False)
    lookup = Lookup.from_data_dir(tmp_path)
    assert lookup.lookup("CH4").force_codes == (CHESHIRE, NORTH_WALES)
    assert lookup.lookup("BN91").kind == "non_geographic"
    assert lookup.lookup("TD1").kind == "outside_england_wales"


def test_from_data_dir_names_the_missing_file(tmp_path):
    with pytest.raises(InputError, match="outward_codes.csv"):
        Lookup.from_data_dir(tmp_path)


def test_module_does_not_import_streamlit():
    code = "import sys, coverage.model.postcodes; assert 'streamlit' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=paths.REPO_ROOT)


# ---- the real data (skipped without ../shared/data) -------------------------------------------


def test_shared_tables_counts(shared_tables):
    outward, las = shared_tables
    districts = outward[outward["force_code"] != ""]
    assert len(districts) == 2441  # 2,520 assigned to an E&W force less 79 non-geographic
    assert districts["outward_code"].is_unique
    assert len(las) == 318 and las["lad_code"].is_unique
    outside = outward[(outward["force_code"] == "") & ~outward["non_geographic"]]
    assert set(outside["outward_code"]) == {
        "AB",
        "DD",
        "DG",
        "EH",
        "FK",
        "G",
        "HS",
        "IV",
        "KA",
        "KW",
        "KY",
        "ML",
        "PA",
        "PH",
        "TD",
        "ZE",
        "BT",
        "GY",
        "IM",
        "JE",
    }
    assert {"TD12", "TD15"} <= set(districts["outward_code"])
    straddling = districts[districts["candidate_force_codes"].str.contains(";")]
    assert 250 < len(straddling) < 400


def test_real_data_extras(shared_tables, force_table):
    lookup = Lookup.from_frames(*shared_tables, force_table)
    assert lookup.lookup("Newcastle").kind == "ambiguous"
    assert lookup.lookup("Carlisle").suggestions[:1] == ("CA1",)  # a town, pointed at its districts
    assert lookup.lookup("Horley").kind == "not_found"  # a town, not "did you mean Chorley"
    assert lookup.lookup("Ynys Môn").force_code == NORTH_WALES


# ---- the jurisdiction an answer is in or reaches into (for the contacts the answer shows) ----


@pytest.mark.parametrize(
    "query, jurisdiction",
    [
        ("EH1 1YZ", "Scotland"),
        ("BT1 5GS", "Northern Ireland"),
        ("IM1 1AA", "Isle of Man"),
        ("GY1 1AA", "Guernsey"),
        ("JE2 3AB", "Jersey"),
        ("EH", "Scotland"),
        ("Scotland", "Scotland"),
        ("Belfast", "Northern Ireland"),
        ("St Helier", "Jersey"),
    ],
)
def test_an_answer_outside_england_and_wales_names_its_jurisdiction(lookup, query, jurisdiction):
    result = lookup.lookup(query)
    assert result.kind == "outside_england_wales"
    assert result.jurisdiction == jurisdiction
    assert result.to_dict()["jurisdiction"] == jurisdiction


def test_a_district_crossing_into_scotland_names_scotland_beside_its_force(lookup):
    for query in ("TD12", "TD12 4AA"):
        result = lookup.lookup(query)
        assert result.force_code == NORTHUMBRIA
        assert result.jurisdiction == "Scotland"


@pytest.mark.parametrize("query", ["CH1 2AB", "CH4 8AB", "SO14", "Warrington", "Cheshire", "ZZ99 9ZZ", "🙂", "BN91"])
def test_an_answer_inside_england_and_wales_names_no_other_jurisdiction(lookup, query):
    assert lookup.lookup(query).jurisdiction is None
