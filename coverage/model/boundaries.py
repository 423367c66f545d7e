"""Police force area boundaries: read what users download from ONS, check it, repair it, simplify it.

Accepted: GeoJSON, GeoPackage, a shapefile or a zipped shapefile, in EPSG:27700 or EPSG:4326
(any CRS pyproj understands is reprojected), with ``PFAxxCD`` / ``PFAxxNM`` fields of any vintage
(PFA19, PFA21, PFA23 …). Everything is checked against the 43 known force codes; a file that is
not a boundary file, or not all 43 forces exactly once, is refused with a message naming the problem.
"""

from __future__ import annotations

import json
import re
import struct
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import topojson

from coverage.errors import InputError, InputErrors

BRITISH_NATIONAL_GRID = 27700
WGS84 = 4326

CODE_FIELD = re.compile(r"^PFA\d{2}CD$", re.IGNORECASE)
NAME_FIELD = re.compile(r"^PFA\d{2}NM$", re.IGNORECASE)

READABLE_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".zip"}

# Douglas–Peucker tolerance on shared arcs, in metres on the British National Grid. The ONS BSC
# file is already generalised to about 200 m; 350 m keeps every outline within about 0.35 km of
# the BSC line (bench/map.py reports the measured maximum) while halving the vertex count.
SIMPLIFY_TOLERANCE_M = 350
# 4 decimal places of a degree is about 11 m north–south and 7 m east–west in England and Wales:
# far below the simplification error, and shared vertices round identically so arcs stay shared.
COORDINATE_DECIMALS = 4


@dataclass
class Boundaries:
    """A checked boundary file: one row per force (``code``, ``name``, ``geometry``) in EPSG:27700."""

    frame: gpd.GeoDataFrame
    source_crs: str
    code_field: str
    repaired: list[str] = field(default_factory=list)


def _describe(path: Path) -> str:
    return path.name


# A zip is judged from its central directory (the list of members at its end, which zipfile reads on
# opening) before anything is extracted: a few MB can inflate to gigabytes ("zip bomb"). zipfile stops
# inflating a member at its declared size (and fails its CRC check if the data goes on), so the
# declared sizes checked here are the most that can be written. The ONS BSC shapefile's parts are about
# 0.4 MB unzipped and a BGC (20 m) one tens of MB; generous limits still stop a bomb at once.
MAX_UNZIPPED_BYTES = 200_000_000
MAX_ZIP_MEMBERS = 50
MAX_COMPRESSION_RATIO = 100  # shapefiles compress 3-10 times; a bomb, thousands of times
MAX_MEMBER_NAME = 240
# One path component of a member's name: letters (any script), digits, space and . , _ - + & ' ( ).
# Nothing that could climb out of the folder it is unpacked in or mean something to a shell or Windows.
_SAFE_NAME_PART = re.compile(r"[\w .,+&'()-]+")
_READABLE_COMPRESSION = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}

# The most vertices (coordinate positions) a boundary file may hold. The ONS BSC (200 m) file has
# about 25,000 and a BGC (20 m) one a few hundred thousand; the full-resolution BFC/BFE files have
# millions and are not what the atlas draws. At 1,000,000 (bench: reading about 0.8 s, simplifying
# about 3 s) a file is checked well within the upload time budget; beyond it the geometry work
# (validity, repair, the shared-arc simplification) grows past it. Counted before that work starts.
MAX_VERTICES = 1_000_000
# Every vertex takes at least 16 bytes in a .shp (x, y as doubles; 32 with z and m), so a .shp much
# larger than this surely holds more than MAX_VERTICES and is refused without being read.
_MAX_SHP_BYTES = 40 * MAX_VERTICES


def _shown_name(name: str) -> str:
    """A member name for a message: quoted, control characters escaped, at most 60 characters."""
    return repr(name[:60] + ("…" if len(name) > 60 else ""))


def _member_name_problem(name: str) -> str | None:
    if len(name) > MAX_MEMBER_NAME:
        return f"a name {len(name)} characters long"
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "an absolute path"
    if "\\" in name:
        return "a backslash in its name"
    parts = name.rstrip("/").split("/")
    if ".." in parts:
        return "'..' in its path (it would be unpacked outside its folder)"
    if any(not _SAFE_NAME_PART.fullmatch(part) or part.strip(" .") == "" for part in parts):
        return "characters no boundary file's name uses"
    return None


def _too_many_vertices(count: int, where: str, *, certain: str = "") -> InputError:
    return InputError(
        f"holds {'more than ' if certain else ''}{count:,} vertices{certain}; the limit is {MAX_VERTICES:,}. "
        "Use the generalised ONS file (BGC, 20 m, or BSC, 200 m), not the full-resolution one",
        where=where,
    )


# zipfile reads the whole central directory on opening (one object per member: 600,000 empty members
# in a 50 MB upload took 8 s and 600 MB), so its size is read from the end record first.
_MAX_CENTRAL_DIRECTORY_BYTES = 1_000_000
_END_RECORD = b"PK\x05\x06"
_ZIP64_END_RECORD = b"PK\x06\x06"


def _central_directory_extent(path: Path) -> tuple[int, int] | None:
    """(members, bytes) of a zip's central directory, from its end record; None if it has none."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        start = max(0, size - (22 + 65_535))  # the end record, then at most a 64 KB comment
        handle.seek(start)
        tail = handle.read()
        at = tail.rfind(_END_RECORD)
        if at < 0 or len(tail) - at < 22:
            return None
        members, directory_bytes = struct.unpack_from("<HI", tail, at + 10)
        if (members == 0xFFFF or directory_bytes == 0xFFFFFFFF) and at >= 20:
            # ZIP64: a locator just before the end record gives where the ZIP64 end record is.
            (offset,) = struct.unpack_from("<Q", tail, at - 20 + 8)
            handle.seek(offset)
            record = handle.read(56)
            if len(record) == 56 and record.startswith(_ZIP64_END_RECORD):
                members, directory_bytes = struct.unpack_from("<QQ", record, 32)
    return int(members), int(directory_bytes)


def _check_zip_directory(path: Path, where: str) -> None:
    extent = _central_directory_extent(path)
    if extent is None:
        return  # not a zip at all: zipfile says so in its own words
    members, directory_bytes = extent
    if members > MAX_ZIP_MEMBERS or directory_bytes > _MAX_CENTRAL_DIRECTORY_BYTES:
        many = f"{members:,} files" if members > MAX_ZIP_MEMBERS else f"a {directory_bytes / 1e6:,.1f} MB list of files"
        raise InputError(f"the zip holds {many}; a zipped shapefile holds a handful. It was not opened", where=where)


def _check_zip_sizes(archive: zipfile.ZipFile, where: str) -> None:
    """Refuse a zip from its central directory alone: member count, names, methods, sizes, ratios."""
    everything = archive.infolist()
    infos = [info for info in everything if not info.is_dir()]
    if len(everything) > MAX_ZIP_MEMBERS:
        raise InputError(f"the zip holds {len(everything)} files; a zipped shapefile holds a handful", where=where)
    for info in everything:
        problem = _member_name_problem(info.filename)
        if problem:
            raise InputError(
                f"the zip holds a file named {_shown_name(info.filename)}, with {problem}; it was not unpacked",
                where=where,
            )
    total = sum(info.file_size for info in infos)
    if total > MAX_UNZIPPED_BYTES:
        raise InputError(
            f"the zip would unpack to {total / 1e6:,.0f} MB; the limit is {MAX_UNZIPPED_BYTES // 1_000_000} MB",
            where=where,
        )
    for info in infos:
        if info.flag_bits & 0x1:
            raise InputError(
                f"{_shown_name(info.filename)} in the zip is encrypted; zip it without a password", where=where
            )
        if info.compress_type not in _READABLE_COMPRESSION:
            raise InputError(
                f"{_shown_name(info.filename)} in the zip uses a compression method (number {info.compress_type}) "
                "the atlas cannot unpack; zip it again with the usual (deflate) method",
                where=where,
            )
        if info.file_size and (not info.compress_size or info.file_size / info.compress_size > MAX_COMPRESSION_RATIO):
            ratio = f"{info.file_size // info.compress_size:,} times over" if info.compress_size else "from nothing"
            raise InputError(
                f"{info.filename[:60]} in the zip is compressed {ratio}, far more than any boundary file; "
                "it was not unpacked",
                where=where,
            )


def _shapefile_in_zip(path: Path, workdir: Path) -> Path:
    _check_zip_directory(path, _describe(path))
    try:
        with zipfile.ZipFile(path) as archive:
            _check_zip_sizes(archive, _describe(path))
            members = [m for m in archive.namelist() if not m.endswith("/")]
            shapefiles = [m for m in members if m.lower().endswith(".shp")]
            if not shapefiles:
                listed = ", ".join(sorted(members)[:8]) or "nothing"
                raise InputError(f"the zip holds no .shp file (it holds {listed})", where=_describe(path))
            if len(shapefiles) > 1:
                raise InputError(
                    f"the zip holds {len(shapefiles)} shapefiles ({', '.join(shapefiles[:4])}); expected one",
                    where=_describe(path),
                )
            # Only the one shapefile's own parts are unpacked, never anything else in the zip.
            stem = shapefiles[0][: -len(".shp")]
            parts = [m for m in members if m[: len(stem)] == stem and Path(m).suffix.lower() in SHAPEFILE_PARTS]
            shp_bytes = archive.getinfo(shapefiles[0]).file_size
            if shp_bytes > _MAX_SHP_BYTES:
                unpacked = f" (its .shp would unpack to {shp_bytes / 1e6:,.0f} MB)"
                raise _too_many_vertices(MAX_VERTICES, _describe(path), certain=unpacked)
            archive.extractall(workdir, members=parts)
    except zipfile.BadZipFile as error:
        raise InputError(f"not a valid zip file ({error})", where=_describe(path)) from None
    return workdir / shapefiles[0]


def _precount_vertices(path: Path, suffix: str) -> None:
    """Refuse a file with too many vertices before GDAL reads it, where that can be told cheaply."""
    where = _describe(path)
    if suffix == ".shp" and path.stat().st_size > _MAX_SHP_BYTES:
        size = path.stat().st_size
        raise _too_many_vertices(MAX_VERTICES, where, certain=f" (its .shp is {size / 1e6:,.0f} MB)")
    if suffix in (".geojson", ".json"):
        content = path.read_bytes()
        # Every GeoJSON position is an array, so there are at most as many vertices as '[' (a count at
        # memory speed); only above the limit are the positions counted, the arrays that start with a number.
        if content.count(b"[") > MAX_VERTICES:
            positions = _count_positions(content)
            if positions > MAX_VERTICES:
                raise _too_many_vertices(positions, where)


def _count_positions(content: bytes) -> int:
    """How many JSON arrays start with a number ('[' then, past any whitespace, '-' or a digit)."""
    compact = np.frombuffer(content.translate(None, b" \t\r\n"), dtype=np.uint8)
    after = compact[1:]
    starts_number = ((after - np.uint8(ord("0"))) < 10) | (after == ord("-"))  # uint8 wraps below '0'
    return int(np.count_nonzero((compact[:-1] == ord("[")) & starts_number))


def _count_vertices(frame: gpd.GeoDataFrame) -> int:
    geometry = getattr(frame, "geometry", None)
    if geometry is None:
        return 0
    return int(shapely.get_num_coordinates(np.asarray(geometry.values)).sum())


def _read_any(path: Path) -> gpd.GeoDataFrame:
    suffix = path.suffix.lower()
    if suffix not in READABLE_SUFFIXES:
        raise InputError(
            f"unsupported file type '{suffix or 'none'}'; upload GeoJSON, GeoPackage, a shapefile (.shp) "
            "or a zipped shapefile (.zip)",
            where=_describe(path),
        )
    with tempfile.TemporaryDirectory() as workdir:
        readable = _shapefile_in_zip(path, Path(workdir)) if suffix == ".zip" else path
        _precount_vertices(readable, readable.suffix.lower())
        try:
            frame = gpd.read_file(readable)
        except Exception:  # pyogrio raises several types; all mean "cannot read"
            raise InputError(
                f"cannot be read as a boundary file (GeoJSON, GeoPackage or shapefile): {_unreadable_reason(path, suffix)}",
                where=_describe(path),
            ) from None
    if not isinstance(frame, gpd.GeoDataFrame) or getattr(frame, "geometry", None) is None:
        raise InputError("holds a table but no geometries; is this a boundary file?", where=_describe(path))
    vertices = _count_vertices(frame)
    if vertices > MAX_VERTICES:
        raise _too_many_vertices(vertices, _describe(path))
    return frame


# A GeoJSON file GDAL refused is parsed again, to say why, only up to this size.
_MAX_JSON_TO_EXPLAIN = 10_000_000


def _unreadable_reason(path: Path, suffix: str) -> str:
    """Why a file GDAL could not read is not a boundary file, in the reader's terms. The library's own
    message names the server's temporary path and a driver prefix, which mean nothing to a reader."""
    if suffix in (".geojson", ".json"):
        raw = path.read_bytes()
        if len(raw) > _MAX_JSON_TO_EXPLAIN:
            # Parsing a big file only to word the refusal could take more memory than the file is worth.
            return "its features could not be read as GeoJSON geometries"
        try:
            content = json.loads(raw.decode("utf-8-sig"))
        except UnicodeDecodeError:
            return "it is not UTF-8 text, so it is not GeoJSON"
        except json.JSONDecodeError as error:
            return f"it is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg.lower()})"
        except RecursionError:
            return "its brackets are nested far deeper than any GeoJSON's"
        if not isinstance(content, dict) or not isinstance(content.get("features"), list):
            return "it is JSON but not a GeoJSON FeatureCollection (no 'features' list)"
        return "its features could not be read as GeoJSON geometries"
    if suffix == ".gpkg":
        return "it is not a GeoPackage (SQLite) file"
    return "its contents are not a shapefile (a .shp needs its .shx and .dbf beside it, e.g. in one zip)"


def _pick_field(frame: gpd.GeoDataFrame, pattern: re.Pattern[str], what: str, where: str) -> str:
    matches: list[str] = [c for c in frame.columns if pattern.match(str(c))]
    if not matches and what in frame.columns:
        return what  # the atlas's own boundary file (fields "code" and "name")
    if not matches:
        columns = ", ".join(str(c) for c in frame.columns if c != frame.geometry.name) or "none"
        raise InputError(
            f"no police force area {what} field (PFAxx{what[:1].upper()}{'D' if what == 'code' else 'M'}, "
            f"e.g. PFA23{'CD' if what == 'code' else 'NM'}) found; its fields are: {columns}. "
            "Is this a police force area boundary file?",
            where=where,
        )
    return sorted(matches)[-1]  # the latest vintage if several are present


def check_boundaries(frame: gpd.GeoDataFrame, known_forces: Mapping[str, str], *, where: str) -> Boundaries:
    """Check and repair a boundary table read from a file; see the module docstring for the rules."""
    if frame.crs is None:
        raise InputError(
            "has no coordinate reference system (for a shapefile, the .prj file is missing); "
            "expected EPSG:27700 (British National Grid) or EPSG:4326",
            where=where,
        )
    code_field = _pick_field(frame, CODE_FIELD, "code", where)
    name_columns = [c for c in frame.columns if NAME_FIELD.match(str(c))] or [c for c in frame.columns if c == "name"]
    codes = frame[code_field].astype(str).str.strip()

    problems: list[str] = []
    for position, (code, geometry) in enumerate(zip(codes, frame.geometry), start=1):
        label = f"feature {position} ({code})"
        if geometry is None or geometry.is_empty:
            problems.append(f"{label} has no geometry")
        elif geometry.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append(f"{label} is a {geometry.geom_type}; expected Polygon or MultiPolygon")
    duplicates = sorted(set(codes[codes.duplicated()]))
    if duplicates:
        problems.append(f"duplicate force code(s): {', '.join(duplicates)}")
    unknown = sorted(set(codes) - set(known_forces))
    if unknown:
        problems.append(f"unknown force code(s): {', '.join(unknown[:10])}")
    missing = sorted(set(known_forces) - set(codes))
    if missing:
        named = ", ".join(f"{c} ({known_forces[c]})" for c in missing[:10])
        problems.append(f"missing {len(missing)} of the {len(known_forces)} forces: {named}")
    if len(frame) != len(known_forces):
        problems.insert(0, f"has {len(frame)} features; expected the {len(known_forces)} police force areas")
    if problems:
        raise InputErrors(problems, where=where)

    projected = frame.to_crs(BRITISH_NATIONAL_GRID)
    repaired: list[str] = []
    geometries = []
    for code, geometry in zip(codes, projected.geometry):
        if geometry.is_valid:
            geometries.append(geometry)
            continue
        reason = shapely.is_valid_reason(geometry)
        fixed = _polygonal_part(shapely.make_valid(geometry))
        if fixed is None or fixed.is_empty or not fixed.is_valid or fixed.area <= 0:
            raise InputError(f"geometry of {code} is invalid ({reason}) and could not be repaired", where=where)
        repaired.append(f"{code}: {reason}")
        geometries.append(fixed)

    checked = gpd.GeoDataFrame(
        {
            "code": codes.to_numpy(),
            "name": frame[name_columns[-1]].astype(str).str.strip().to_numpy()
            if name_columns
            else [known_forces[c] for c in codes],
        },
        geometry=geometries,
        crs=BRITISH_NATIONAL_GRID,
    )
    return Boundaries(
        frame=checked.sort_values("code").reset_index(drop=True),
        source_crs=frame.crs.to_string(),
        code_field=code_field,
        repaired=repaired,
    )


def _polygonal_part(geometry: shapely.Geometry) -> shapely.Geometry | None:
    """Keep only the area of a repaired geometry (make_valid can add stray lines or points)."""
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    if geometry.geom_type == "GeometryCollection":
        polygons = [g for g in geometry.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
        return shapely.union_all(polygons) if polygons else None
    return None


def read_boundaries(path: Path | str, known_forces: Mapping[str, str]) -> Boundaries:
    """Read, check and repair a PFA boundary file; raise InputError naming the problem."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", where=str(path))
    if path.is_dir():
        raise InputError("is a folder; give a boundary file", where=str(path))
    frame = _read_any(path)
    return check_boundaries(frame, known_forces, where=_describe(path))


def simplify_shared_arcs(
    boundaries: gpd.GeoDataFrame,
    tolerance_m: float = SIMPLIFY_TOLERANCE_M,
    decimals: int = COORDINATE_DECIMALS,
) -> gpd.GeoDataFrame:
    """Simplify on shared arcs (TopoJSON topology) so neighbours never overlap or leave gaps.

    Input in EPSG:27700; output in EPSG:4326 with coordinates rounded to ``decimals``.
    """
    # topojson is py.typed but its __init__ imports Topology without re-exporting it ("as" or __all__).
    topology = topojson.Topology(  # type: ignore[attr-defined]
        boundaries[["code", "geometry"]],
        prequantize=False,
        topology=True,
        toposimplify=tolerance_m,
    )
    simplified = topology.to_gdf().set_crs(BRITISH_NATIONAL_GRID, allow_override=True)
    simplified = simplified.set_index("code").loc[boundaries["code"]].reset_index()
    simplified = simplified.to_crs(WGS84)
    rounded = shapely.transform(simplified.geometry.values, lambda xy: np.round(xy, decimals))
    # Simplifying and rounding can pinch a ring into a self-touching one; the "linework" repair
    # rebuilds it from its own lines, so no vertex moves and no neighbour is affected.
    repaired = shapely.make_valid(rounded, method="linework")
    repaired = [_polygonal_part(g) for g in repaired]
    result = gpd.GeoDataFrame(
        {"code": boundaries["code"].to_numpy(), "name": boundaries["name"].to_numpy()},
        geometry=repaired,
        crs=WGS84,
    )
    return result


def to_compact_geojson(frame: gpd.GeoDataFrame) -> str:
    """GeoJSON text with no whitespace and only the given properties (web-ready)."""
    return json.dumps(json.loads(frame.to_json(drop_id=True)), separators=(",", ":"), ensure_ascii=False)


def web_geojson(boundaries: gpd.GeoDataFrame) -> str:
    """Checked boundaries (EPSG:27700) as the map draws them: simplified on shared arcs, compact GeoJSON.

    One module-level function, so a page can run it in a worker process (it must pickle)."""
    return to_compact_geojson(simplify_shared_arcs(boundaries))


@dataclass
class SimplificationQuality:
    max_deviation_m: float
    worst_force: str
    overlap_km2: float
    gap_km2: float
    vertices: int


def _interior_area(geometry: shapely.Geometry) -> float:
    parts = getattr(geometry, "geoms", [geometry])
    area: float = sum(shapely.Polygon(ring).area for part in parts for ring in part.interiors)
    return area


def measure_simplification(original: gpd.GeoDataFrame, simplified: gpd.GeoDataFrame) -> SimplificationQuality:
    """Compare simplified outlines with the originals (both matched on ``code``), in metres.

    Deviation is the Hausdorff distance between each force's outlines. Overlap is the area
    covered by more than one force; gap is area enclosed by forces but covered by none, beyond
    what the original already left uncovered.
    """
    before = original.to_crs(BRITISH_NATIONAL_GRID).set_index("code").sort_index()
    after = simplified.to_crs(BRITISH_NATIONAL_GRID).set_index("code").loc[before.index]
    deviations = [a.boundary.hausdorff_distance(b.boundary) for a, b in zip(before.geometry, after.geometry)]
    worst = int(np.argmax(deviations))
    union_after = shapely.union_all(after.geometry.values)
    overlap = float(after.geometry.area.sum() - union_after.area)
    gap = _interior_area(union_after) - _interior_area(shapely.union_all(before.geometry.values))
    return SimplificationQuality(
        max_deviation_m=float(deviations[worst]),
        worst_force=str(before.index[worst]),
        overlap_km2=max(overlap, 0.0) / 1e6,
        gap_km2=max(gap, 0.0) / 1e6,
        vertices=int(shapely.get_num_coordinates(simplified.geometry.values).sum()),
    )


def read_shipped_geojson(path: Path | str) -> dict[str, Any]:
    """The shipped, simplified boundaries as a GeoJSON mapping (what the map draws)."""
    with open(path, encoding="utf-8") as handle:
        geojson: dict[str, Any] = json.load(handle)
        return geojson


SHAPEFILE_PARTS = {".shp", ".shx", ".dbf", ".prj", ".cpg"}
MAX_UPLOAD_BYTES = 50_000_000


def read_uploaded_boundaries(files: list[tuple[str, bytes]], known_forces: Mapping[str, str]) -> Boundaries:
    """Check uploaded boundary file(s): one GeoJSON/GeoPackage/zip, or the parts of one shapefile."""
    if not files:
        raise InputError("no file uploaded")
    total = sum(len(content) for _, content in files)
    if total > MAX_UPLOAD_BYTES:
        raise InputError(f"the upload is {total / 1e6:.0f} MB; the limit is {MAX_UPLOAD_BYTES // 1_000_000} MB")
    suffixes = {Path(name).suffix.lower() for name, _ in files}
    if len(files) > 1 and not suffixes <= SHAPEFILE_PARTS:
        raise InputError(
            "upload one GeoJSON, GeoPackage or zip file, or the .shp/.shx/.dbf/.prj parts of one shapefile"
        )
    with tempfile.TemporaryDirectory() as workdir:
        for name, content in files:
            (Path(workdir) / Path(name).name).write_bytes(content)
        if len(files) > 1 or suffixes <= SHAPEFILE_PARTS:
            shapefiles = [Path(workdir) / Path(n).name for n, _ in files if n.lower().endswith(".shp")]
            if not shapefiles:
                raise InputError(f"the shapefile parts include no .shp file ({', '.join(n for n, _ in files)})")
            missing = {".shx", ".dbf"} - suffixes
            if missing:
                raise InputError(
                    f"a shapefile needs its {' and '.join(sorted(missing))} file(s) too; upload all parts or a zip"
                )
            return read_boundaries(shapefiles[0], known_forces)
        return read_boundaries(Path(workdir) / Path(files[0][0]).name, known_forces)
