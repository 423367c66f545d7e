"""Boundary loading: every format a user downloads from ONS, and every way a file can be wrong."""

from __future__ import annotations

import os
import zipfile

import geopandas as gpd
import pytest
import shapely

from coverage.errors import InputError
from coverage.model.boundaries import (
    measure_simplification,
    read_boundaries,
    read_uploaded_boundaries,
    simplify_shared_arcs,
    to_compact_geojson,
)
from tests.conftest import grid_boundaries


def _zip_shapefile(frame: gpd.GeoDataFrame, tmp_path, *, drop_suffixes=()):
    folder = tmp_path / "shp"
    folder.mkdir()
    frame.to_file(folder / "pfa.shp")
    archive = tmp_path / "pfa.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for file in folder.iterdir():
            if file.suffix not in drop_suffixes:
                handle.write(file, f"PFA_DEC_2023/{file.name}")
    return archive


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp"])
def test_reads_each_format_in_either_crs(grid, known_forces, tmp_path, suffix):
    for crs in (27700, 4326):
        path = tmp_path / f"pfa_{crs}{suffix}"
        grid.to_crs(crs).to_file(path)
        result = read_boundaries(path, known_forces)
        assert len(result.frame) == 43
        assert result.frame.crs.to_epsg() == 27700
        assert list(result.frame["code"]) == sorted(known_forces)
        assert result.frame.geometry.area.round(-3).eq(100_000_000).all()


def test_reads_zipped_shapefile_and_any_vintage_of_field_names(known_forces, tmp_path):
    frame = grid_boundaries(known_forces, code_field="pfa19cd", name_field="pfa19nm")
    result = read_boundaries(_zip_shapefile(frame, tmp_path), known_forces)
    assert result.code_field == "pfa19cd"
    assert len(result.frame) == 43


def test_zip_without_shapefile_is_refused(tmp_path, known_forces):
    archive = tmp_path / "notes.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("readme.txt", "hello")
    with pytest.raises(InputError, match=r"notes\.zip: the zip holds no \.shp file \(it holds readme\.txt\)"):
        read_boundaries(archive, known_forces)


def test_shapefile_without_prj_has_no_crs(grid, known_forces, tmp_path):
    archive = _zip_shapefile(grid, tmp_path, drop_suffixes={".prj"})
    with pytest.raises(InputError, match="no coordinate reference system"):
        read_boundaries(archive, known_forces)


def test_wrong_kind_of_file_is_refused(tmp_path, known_forces):
    csv_file = tmp_path / "forces.geojson"
    csv_file.write_text("code,name\nE23000001,Met\n")
    with pytest.raises(InputError, match="cannot be read as a boundary file"):
        read_boundaries(csv_file, known_forces)
    text_file = tmp_path / "notes.txt"
    text_file.write_text("hello")
    with pytest.raises(InputError, match="unsupported file type '.txt'"):
        read_boundaries(text_file, known_forces)


@pytest.mark.parametrize(
    "content, reason",
    [
        ("code,name\nE23000001,Met\n", "it is not valid JSON (line 1, column 1"),
        ('{"hello": "world"}', "it is JSON but not a GeoJSON FeatureCollection"),
        (b"\xff\xfe\x00binary", "it is not UTF-8 text"),
    ],
)
def test_an_unreadable_geojson_says_why_in_plain_words_without_server_paths(tmp_path, known_forces, content, reason):
    upload = tmp_path / "mine.geojson"
    upload.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(InputError) as caught:
        read_boundaries(upload, known_forces)
    message = str(caught.value)
    assert reason in message
    assert str(tmp_path) not in message.replace(str(upload), "") and "DRIVER" not in message


def test_boundary_file_of_other_areas_is_refused(grid, known_forces, tmp_path):
    other = grid.rename(columns={"PFA23CD": "LAD23CD", "PFA23NM": "LAD23NM"})
    path = tmp_path / "lads.geojson"
    other.to_file(path)
    with pytest.raises(
        InputError, match=r"no police force area code field .*LAD23CD, LAD23NM.*Is this a police force area"
    ):
        read_boundaries(path, known_forces)


def test_42_forces_is_refused_naming_the_missing_one(grid, known_forces, tmp_path):
    path = tmp_path / "42.geojson"
    grid[grid["PFA23CD"] != "E23000034"].to_file(path)
    with pytest.raises(InputError) as caught:
        read_boundaries(path, known_forces)
    message = str(caught.value)
    assert "has 42 features; expected the 43" in message
    assert "missing 1 of the 43 forces: E23000034 (City of London)" in message


def test_44_forces_with_a_duplicate_is_refused(grid, known_forces, tmp_path):
    path = tmp_path / "44.geojson"
    gpd.pd.concat([grid, grid.iloc[[0]]]).to_file(path)
    with pytest.raises(InputError, match=r"has 44 features.*duplicate force code\(s\): E23000001"):
        read_boundaries(path, known_forces)


def test_unknown_code_is_refused(grid, known_forces, tmp_path):
    path = tmp_path / "unknown.geojson"
    grid.loc[0, "PFA23CD"] = "E23000099"
    grid.to_file(path)
    with pytest.raises(InputError, match=r"unknown force code\(s\): E23000099"):
        read_boundaries(path, known_forces)


def test_non_polygon_geometry_is_refused(grid, known_forces, tmp_path):
    path = tmp_path / "lines.gpkg"
    grid.loc[3, "geometry"] = shapely.LineString([(400_000, 200_000), (410_000, 210_000)])
    grid.to_file(path)
    with pytest.raises(InputError, match=r"feature 4 \(E23000004\) is a LineString; expected Polygon"):
        read_boundaries(path, known_forces)


def test_self_intersecting_ring_is_repaired(grid, known_forces, tmp_path):
    bowtie = shapely.Polygon([(400_000, 200_000), (410_000, 210_000), (410_000, 200_000), (400_000, 210_000)])
    grid.loc[0, "geometry"] = bowtie
    path = tmp_path / "bowtie.gpkg"
    grid.to_file(path)
    result = read_boundaries(path, known_forces)
    assert result.repaired and result.repaired[0].startswith("E23000001: Self-intersection")
    assert result.frame.is_valid.all()
    assert result.frame.geometry.iloc[0].area == pytest.approx(50_000_000)


def test_geometry_that_cannot_be_repaired_is_refused(grid, known_forces, tmp_path):
    grid.loc[5, "geometry"] = shapely.Polygon([(400_000, 200_000), (405_000, 205_000), (410_000, 210_000)])
    path = tmp_path / "flat.gpkg"
    grid.to_file(path)
    with pytest.raises(InputError, match=r"geometry of E23000006 is invalid .* could not be repaired"):
        read_boundaries(path, known_forces)


def test_simplification_keeps_neighbours_sharing_their_border(known_forces):
    # Two forces meeting along a finely wiggled border: simplified on shared arcs, they still meet exactly.
    wiggle = [(400_000 + i * 50, 200_000 + (30 if i % 2 else 0)) for i in range(201)]
    south = shapely.Polygon([(400_000, 190_000), (410_000, 190_000), *reversed(wiggle)])
    north = shapely.Polygon([*wiggle, (410_000, 210_000), (400_000, 210_000)])
    pair = gpd.GeoDataFrame(
        {"code": ["E23000001", "E23000002"], "name": ["a", "b"]}, geometry=[south, north], crs=27700
    )
    simplified = simplify_shared_arcs(pair, tolerance_m=100)
    quality = measure_simplification(pair, simplified)
    assert quality.overlap_km2 < 0.01
    assert quality.gap_km2 < 0.01
    assert quality.max_deviation_m < 120
    assert quality.vertices < 40
    assert '"code":"E23000001"' in to_compact_geojson(simplified)


def test_real_ons_boundaries_simplify_within_targets(shared_data, known_forces):
    original = read_boundaries(shared_data / "boundaries/original/PFA_DEC_2023_EW_BSC.shp", known_forces).frame
    simplified = simplify_shared_arcs(original)
    quality = measure_simplification(original, simplified)
    assert len(to_compact_geojson(simplified).encode()) <= 200 * 1024
    assert quality.max_deviation_m <= 500
    assert quality.overlap_km2 + quality.gap_km2 <= 0.5
    assert simplified.is_valid.all()


def test_real_ons_geojson_is_accepted(shared_data, known_forces):
    result = read_boundaries(shared_data / "boundaries/police_force_areas_dec2023_bsc.geojson", known_forces)
    assert result.source_crs == "EPSG:4326"
    assert len(result.frame) == 43


def test_uploaded_shapefile_parts_are_read_together(grid, known_forces, tmp_path):
    grid.to_file(tmp_path / "pfa.shp")
    parts = [(p.name, p.read_bytes()) for p in tmp_path.iterdir() if p.stem == "pfa"]
    assert len(read_uploaded_boundaries(parts, known_forces).frame) == 43
    without_index = [(n, c) for n, c in parts if not n.endswith(".shx")]
    with pytest.raises(InputError, match=r"needs its \.shx file"):
        read_uploaded_boundaries(without_index, known_forces)


def test_uploaded_mixture_of_files_is_refused(known_forces):
    with pytest.raises(InputError, match="upload one GeoJSON"):
        read_uploaded_boundaries([("a.geojson", b"{}"), ("b.csv", b"x")], known_forces)
    with pytest.raises(InputError, match="no file uploaded"):
        read_uploaded_boundaries([], known_forces)


def _zip_with(members: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_a_zip_bomb_is_refused_before_anything_is_unpacked(known_forces, tmp_path, monkeypatch):
    from coverage.model import boundaries

    bomb = _zip_with({"pfa.shp": bytes(10_000_000), "pfa.shx": b"x", "pfa.dbf": b"x"})
    assert len(bomb) < 100_000  # ten megabytes of zeros squeeze into a few kilobytes
    unpacked: list[str] = []
    monkeypatch.setattr(boundaries.zipfile.ZipFile, "extractall", lambda self, *a, **k: unpacked.append("yes"))
    with pytest.raises(InputError, match="compressed .* times over"):
        read_uploaded_boundaries([("pfa.zip", bomb)], known_forces)
    monkeypatch.setattr(boundaries, "MAX_UNZIPPED_BYTES", 1_000)
    plain = _zip_with({"pfa.shp": os.urandom(5_000), "pfa.shx": b"x", "pfa.dbf": b"x"})
    with pytest.raises(InputError, match="would unpack to"):
        read_uploaded_boundaries([("pfa.zip", plain)], known_forces)
    assert unpacked == []


def test_only_the_shapefile_parts_are_unpacked_from_a_zip(tmp_path):
    from coverage.model.boundaries import _shapefile_in_zip

    archive = tmp_path / "pfa.zip"
    archive.write_bytes(_zip_with({"pfa.shp": b"s", "pfa.dbf": b"d", "pfa.shx": b"x", "notes/readme.exe": b"no"}))
    out = tmp_path / "out"
    out.mkdir()
    assert _shapefile_in_zip(archive, out) == out / "pfa.shp"
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == ["pfa.dbf", "pfa.shp", "pfa.shx"]
