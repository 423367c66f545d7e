"""Boundary loading: every format a user downloads from ONS, and every way a file can be wrong."""

from __future__ import annotations

import json
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


# ---------------------------------------------------------------------------------------------
# Limits on what an upload may cost: judged before the work, each refusal naming the file and the limit


def _zip_of_zeros(sizes: dict[str, int]) -> bytes:
    """A real zip whose members are ``size`` zero bytes each, deflated (about 1,000 to 1), written by hand
    so that building a gigabyte bomb never inflates a gigabyte: one 16 MB block of deflated zeros, made
    by a fresh compressor and so referring to nothing before it, repeats as often as needed."""
    import struct
    import zlib

    chunk = 1 << 24
    zeros = bytes(chunk)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    final = compressor.flush(zlib.Z_FINISH)
    local, central = b"", b""
    for name, size in sizes.items():
        whole, rest = divmod(size, chunk)
        tail = zlib.compressobj(9, zlib.DEFLATED, -15)
        data = block * whole + (tail.compress(bytes(rest)) + tail.flush(zlib.Z_FULL_FLUSH) if rest else b"") + final
        crc = 0
        for _ in range(whole):
            crc = zlib.crc32(zeros, crc)
        crc = zlib.crc32(bytes(rest), crc)
        encoded = name.encode()
        offset = len(local)
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), size, len(encoded), 0)
        local += encoded + data
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            20,
            20,
            0,
            8,
            0,
            0,
            crc,
            len(data),
            size,
            len(encoded),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central += encoded
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(sizes), len(sizes), len(central), len(local), 0)
    return local + central + end


def _refuse_extraction(monkeypatch) -> list[str]:
    from coverage.model import boundaries

    unpacked: list[str] = []
    monkeypatch.setattr(boundaries.zipfile.ZipFile, "extractall", lambda self, *a, **k: unpacked.append("yes"))
    return unpacked


def test_a_gigabyte_zip_bomb_is_refused_from_its_central_directory_at_once(known_forces, monkeypatch):
    import io
    import time

    bomb = _zip_of_zeros({"PFA/pfa.shp": 1 << 30, "PFA/pfa.shx": 100, "PFA/pfa.dbf": 100})
    assert len(bomb) < 1_500_000  # a gigabyte of zeros in about a megabyte
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:  # a real zip: it opens and its first bytes inflate
        assert archive.getinfo("PFA/pfa.shp").file_size == 1 << 30
        with archive.open("PFA/pfa.shp") as member:
            assert member.read(1_000_000) == bytes(1_000_000)
    unpacked = _refuse_extraction(monkeypatch)
    started = time.perf_counter()
    with pytest.raises(InputError, match=r"^pfa\.zip: the zip would unpack to 1,074 MB; the limit is 200 MB$"):
        read_uploaded_boundaries([("pfa.zip", bomb)], known_forces)
    print(f"1 GiB zip bomb ({len(bomb) / 1e6:.1f} MB) refused in {time.perf_counter() - started:.3f} s")
    assert unpacked == []


def test_a_zip_packed_too_tightly_is_refused_even_under_the_size_limit(known_forces, monkeypatch):
    unpacked = _refuse_extraction(monkeypatch)
    bomb = _zip_of_zeros({"pfa.shp": 50_000_000, "pfa.shx": 100, "pfa.dbf": 100})
    with pytest.raises(InputError, match=r"pfa\.zip: pfa\.shp in the zip is compressed [\d,]+ times over"):
        read_uploaded_boundaries([("pfa.zip", bomb)], known_forces)
    assert unpacked == []


@pytest.mark.parametrize(
    "member, problem",
    [
        ("/etc/pfa.shp", "an absolute path"),
        ("C:/pfa.shp", "an absolute path"),
        ("../../pfa.shp", "'..' in its path"),
        ("PFA/../../pfa.shp", "'..' in its path"),
        ("PFA\\pfa.shp", "a backslash"),
        ("pfa\n\x07.shp", "characters no boundary file's name uses"),
        ("pfa|rm.shp", "characters no boundary file's name uses"),
        ("PFA//pfa.shp", "characters no boundary file's name uses"),
    ],
)
def test_a_zip_member_with_a_dangerous_name_is_refused_naming_it(known_forces, monkeypatch, member, problem):
    unpacked = _refuse_extraction(monkeypatch)
    archive = _zip_of_zeros({member: 10, "pfa.shx": 10, "pfa.dbf": 10})
    with pytest.raises(InputError, match=r"^up\.zip: the zip holds a file named ") as refused:
        read_uploaded_boundaries([("up.zip", archive)], known_forces)
    assert problem in str(refused.value) and "it was not unpacked" in str(refused.value)
    assert "\n" not in str(refused.value) and "\x07" not in str(refused.value)  # shown escaped
    assert unpacked == []


def test_ordinary_names_pass_the_member_check():
    from coverage.model.boundaries import _member_name_problem

    for name in (
        "PFA_DEC_2023_EW_BSC.shp",
        "Police Force Areas (Dec 2023)/PFA23.dbf",
        "__MACOSX/._pfa.shp",
        "Heddlu/ardal.prj",
    ):
        assert _member_name_problem(name) is None


def test_a_zip_of_many_members_is_refused_before_it_is_opened(known_forces, monkeypatch):
    from coverage.model import boundaries

    archive = _zip_with({f"part{i}.txt": b"" for i in range(5_000)})

    def never(*args, **kwargs):
        raise AssertionError("the zip was opened")

    monkeypatch.setattr(boundaries.zipfile, "ZipFile", never)
    with pytest.raises(InputError, match=r"^many\.zip: the zip holds 5,000 files; .*It was not opened$"):
        read_uploaded_boundaries([("many.zip", archive)], known_forces)


def test_an_encrypted_member_is_refused(known_forces):
    archive = bytearray(_zip_with({"pfa.shp": b"s", "pfa.shx": b"x", "pfa.dbf": b"d"}))
    directory = archive.find(b"PK\x01\x02")
    archive[directory + 8] |= 0x1  # the "encrypted" flag in the central directory's first entry
    with pytest.raises(InputError, match=r"'pfa\.shp' in the zip is encrypted"):
        read_uploaded_boundaries([("pfa.zip", bytes(archive))], known_forces)


def test_a_member_larger_than_it_declares_is_cut_off_at_its_declared_size(known_forces):
    """The central directory can lie; zipfile inflates a member only to its declared size, and the
    CRC check then fails, so the declared sizes checked first bound what unpacking writes."""
    import struct

    archive = bytearray(_zip_with({"pfa.shp": os.urandom(200_000), "pfa.shx": b"x", "pfa.dbf": b"d"}))
    directory = archive.find(b"PK\x01\x02")
    archive[directory + 24 : directory + 28] = struct.pack("<I", 1_000)  # uncompressed size: 1,000 bytes
    with pytest.raises(InputError, match=r"pfa\.zip: not a valid zip file \(Bad CRC-32"):
        read_uploaded_boundaries([("pfa.zip", bytes(archive))], known_forces)


def test_a_geojson_of_five_million_vertices_is_refused_before_it_is_read(known_forces, monkeypatch):
    import time

    from coverage.model import boundaries

    def never(*args, **kwargs):
        raise AssertionError("GDAL was asked to read it")

    monkeypatch.setattr(boundaries.gpd, "read_file", never)
    ring = b"[0,0]," * 4_999_999 + b"[0,0]"
    content = (
        b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"PFA23CD":"E23000001"},'
        b'"geometry":{"type":"Polygon","coordinates":[[' + ring + b"]]}}]}"
    )
    started = time.perf_counter()
    with pytest.raises(InputError, match=r"^dense\.geojson: holds 5,000,000 vertices; the limit is 1,000,000\. "):
        read_uploaded_boundaries([("dense.geojson", content)], known_forces)
    print(f"{len(content) / 1e6:.0f} MB GeoJSON of 5,000,000 vertices refused in {time.perf_counter() - started:.3f} s")


def test_brackets_in_properties_do_not_count_as_vertices(grid, known_forces, tmp_path, monkeypatch):
    from coverage.model import boundaries

    monkeypatch.setattr(boundaries, "MAX_VERTICES", 1_000)
    grid["note"] = "[" * 100  # 4,300 brackets, but only 215 vertices
    grid.to_file(tmp_path / "pfa.geojson")
    assert (
        len(read_uploaded_boundaries([("pfa.geojson", (tmp_path / "pfa.geojson").read_bytes())], known_forces).frame)
        == 43
    )


def test_vertices_are_counted_once_read_before_any_geometry_work(grid, known_forces, tmp_path, monkeypatch):
    from coverage.model import boundaries

    monkeypatch.setattr(boundaries, "MAX_VERTICES", 100)
    monkeypatch.setattr(boundaries, "check_boundaries", lambda *a, **k: pytest.fail("checked before counting"))
    grid.to_file(tmp_path / "pfa.gpkg")
    with pytest.raises(InputError, match=r"^pfa\.gpkg: holds 215 vertices; the limit is 100\. Use the generalised"):
        read_uploaded_boundaries([("pfa.gpkg", (tmp_path / "pfa.gpkg").read_bytes())], known_forces)


def test_a_shapefile_too_large_for_the_vertex_limit_is_not_unpacked(grid, known_forces, tmp_path, monkeypatch):
    from coverage.model import boundaries

    monkeypatch.setattr(boundaries, "MAX_VERTICES", 10)
    monkeypatch.setattr(boundaries, "_MAX_SHP_BYTES", 400)
    unpacked = _refuse_extraction(monkeypatch)
    archive = _zip_shapefile(grid, tmp_path)
    with pytest.raises(InputError, match=r"^pfa\.zip: holds more than 10 vertices \(its \.shp would unpack to"):
        read_uploaded_boundaries([("pfa.zip", archive.read_bytes())], known_forces)
    assert unpacked == []
    parts = [(p.name, p.read_bytes()) for p in (tmp_path / "shp").iterdir()]
    with pytest.raises(InputError, match=r"^pfa\.shp: holds more than 10 vertices \(its \.shp is"):
        read_uploaded_boundaries(parts, known_forces)


def test_a_deeply_nested_json_gets_a_reason_not_a_crash(known_forces):
    with pytest.raises(InputError, match="nested far deeper than any GeoJSON's"):
        read_uploaded_boundaries([("deep.geojson", b"[" * 200_000 + b"]" * 200_000)], known_forces)


def test_checked_boundaries_and_the_web_geojson_pickle_for_the_worker(grid, known_forces, tmp_path):
    import pickle

    from coverage.model.boundaries import web_geojson

    grid.to_file(tmp_path / "pfa.geojson")
    checked = read_uploaded_boundaries([("pfa.geojson", (tmp_path / "pfa.geojson").read_bytes())], known_forces)
    again = pickle.loads(pickle.dumps(checked))
    assert again.frame.equals(checked.frame) and again.code_field == "PFA23CD"
    assert len(json.loads(web_geojson(again.frame))["features"]) == 43
