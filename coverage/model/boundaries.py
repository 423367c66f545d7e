"""Police force area boundaries: read what users download from ONS, check it, repair it, simplify it.

Accepted: GeoJSON, GeoPackage, a shapefile or a zipped shapefile, in EPSG:27700 or EPSG:4326
(any CRS pyproj understands is reprojected), with ``PFAxxCD`` / ``PFAxxNM`` fields of any vintage
(PFA19, PFA21, PFA23 …). Everything is checked against the 43 known force codes; a file that is
not a boundary file, or not all 43 forces exactly once, is refused with a message naming the problem.
"""

from __future__ import annotations

import json
import re
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


# A zip is checked before anything is extracted: a few MB can inflate to gigabytes ("zip bomb").
# The ONS BSC shapefile's parts are about 2 MB unzipped; generous limits still stop a bomb at once.
MAX_UNZIPPED_BYTES = 200_000_000
MAX_ZIP_MEMBERS = 50
MAX_COMPRESSION_RATIO = 100  # shapefiles compress 3-10 times; a bomb, thousands of times


def _check_zip_sizes(archive: zipfile.ZipFile, where: str) -> None:
    infos = [info for info in archive.infolist() if not info.is_dir()]
    if len(infos) > MAX_ZIP_MEMBERS:
        raise InputError(f"the zip holds {len(infos)} files; a zipped shapefile holds a handful", where=where)
    total = sum(info.file_size for info in infos)
    if total > MAX_UNZIPPED_BYTES:
        raise InputError(
            f"the zip would unpack to {total / 1e6:,.0f} MB; the limit is {MAX_UNZIPPED_BYTES // 1_000_000} MB",
            where=where,
        )
    for info in infos:
        if info.compress_size and info.file_size / info.compress_size > MAX_COMPRESSION_RATIO:
            raise InputError(
                f"{info.filename[:60]} in the zip is compressed {info.file_size // info.compress_size:,} times over, "
                "far more than any boundary file; it was not unpacked",
                where=where,
            )


def _shapefile_in_zip(path: Path, workdir: Path) -> Path:
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
            archive.extractall(workdir, members=parts)
    except zipfile.BadZipFile as error:
        raise InputError(f"not a valid zip file ({error})", where=_describe(path)) from None
    return workdir / shapefiles[0]


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
        try:
            return gpd.read_file(readable)
        except Exception:  # pyogrio raises several types; all mean "cannot read"
            raise InputError(
                f"cannot be read as a boundary file (GeoJSON, GeoPackage or shapefile): {_unreadable_reason(path, suffix)}",
                where=_describe(path),
            ) from None


def _unreadable_reason(path: Path, suffix: str) -> str:
    """Why a file GDAL could not read is not a boundary file, in the reader's terms. The library's own
    message names the server's temporary path and a driver prefix, which mean nothing to a reader."""
    if suffix in (".geojson", ".json"):
        try:
            content = json.loads(path.read_bytes().decode("utf-8-sig"))
        except UnicodeDecodeError:
            return "it is not UTF-8 text, so it is not GeoJSON"
        except json.JSONDecodeError as error:
            return f"it is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg.lower()})"
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
