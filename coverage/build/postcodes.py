"""Build the postcode lookup tables under ``data/postcodes/`` from ``shared/data`` (offline only).

Reads the ONS postcode-district centroids and the LAD → PFA lookup, places each district in the
force whose polygon holds its centroid, flags districts that may straddle a boundary, and writes
the two tables :class:`coverage.model.postcodes.Lookup` reads at run time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

import pandas as pd

from coverage.errors import InputError, InputErrors
from coverage.model.postcodes import (
    LOCAL_AUTHORITY_COLUMNS,
    NON_GEOGRAPHIC_AREAS,
    OUTWARD_CODE_PATTERN,
    OUTWARD_COLUMNS,
    REASON_NEAR_BORDER,
    postcode_area,
    split_outward,
    validate_local_authorities,
    validate_outward_codes,
)

if TYPE_CHECKING:
    import numpy.typing as npt
    import pyproj
    import shapely

SOURCE_DISTRICTS_CSV = Path("postcodes") / "postcode_district_centroids_pfa.csv"


SOURCE_LAD_LOOKUP_CSV = Path("lookups") / "lad23_to_pfa23_dec2023.csv"


REASON_LA_NAME = "local authority name points to another force"


REASON_OUTSIDE = "local authority name is outside England and Wales"


OUTSIDE_AREAS = {
    **dict.fromkeys(
        ["AB", "DD", "DG", "EH", "FK", "G", "HS", "IV", "KA", "KW", "KY", "ML", "PA", "PH", "TD", "ZE"], "Scotland"
    ),
    "BT": "Northern Ireland",
    "IM": "Isle of Man",
    "JE": "Jersey",
    "GY": "Guernsey",
}


def _projected_boundaries(boundaries_geojson: Path) -> tuple[dict[str, shapely.Geometry], pyproj.Transformer]:
    """Force polygons from the shipped GeoJSON (EPSG:4326), in British National Grid metres."""
    import numpy as np
    import pyproj
    import shapely

    try:
        collection = json.loads(Path(boundaries_geojson).read_text(encoding="utf-8"))
        features = collection["features"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError(f"cannot read force boundaries ({error})", where=str(boundaries_geojson)) from None
    to_bng = pyproj.Transformer.from_crs(4326, 27700, always_xy=True)

    def project(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        x, y = to_bng.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    polygons: dict[str, shapely.Geometry] = {}
    for number, feature in enumerate(features, start=1):
        try:
            code = feature["properties"]["code"]
            polygons[code] = shapely.transform(shapely.geometry.shape(feature["geometry"]), project)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise InputError(
                f"feature {number} has no usable code or geometry ({error})", where=str(boundaries_geojson)
            ) from None
    return polygons, to_bng


def _nearest_other_forces(districts: pd.DataFrame, boundaries_geojson: Path) -> dict[str, str]:
    """District → nearest force polygon other than its own, measured from its lat/long centroid."""
    import shapely

    polygons, to_bng = _projected_boundaries(boundaries_geojson)
    nearest: dict[str, str] = {}
    for district, own, lat, lon in zip(
        districts["postcode_district"], districts["pfa23cd"], districts["latitude"], districts["longitude"]
    ):
        try:
            x, y = to_bng.transform(float(lon), float(lat))
        except ValueError:
            raise InputError(
                "latitude/longitude missing or not numbers", where=f"{SOURCE_DISTRICTS_CSV}, district {district}"
            ) from None
        point = shapely.Point(x, y)
        others = [(polygon.distance(point), code) for code, polygon in polygons.items() if code != own]
        if not others:
            raise InputError("has no other force to compare with", where=str(boundaries_geojson))
        nearest[district] = min(others)[1]
    return nearest


class _DistrictRow(Protocol):
    """The columns of a source district row (from ``itertuples``) that the build reads: all text."""

    postcode_district: str
    town_area: str
    region_name: str
    postcodes_active: str
    pfa23cd: str
    pfa_by_region_name: str
    area: str


def _read_source_csv(path: Path, columns: list[str]) -> pd.DataFrame:
    if not path.exists():
        raise InputError("not found; give the shared/data folder", where=str(path))
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", where=str(path))
    stripped: pd.DataFrame = table.apply(lambda column: column.str.strip())
    return stripped


def build_postcode_tables(
    source_dir: Path, forces: pd.DataFrame, *, boundaries_geojson: Path | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build (outward codes, local authorities) from ``source_dir`` (the ``shared/data`` folder).

    ``boundaries_geojson`` (default: the shipped ``data/boundaries/pfa_dec2023_simplified.geojson``)
    gives the nearest other force of a district whose centroid is within 2 km of a force border.
    """
    from coverage import paths

    source_dir = Path(source_dir)
    boundaries_geojson = Path(boundaries_geojson or paths.BOUNDARIES_GEOJSON)
    known = set(forces["code"])
    districts_path = source_dir / SOURCE_DISTRICTS_CSV
    districts = _read_source_csv(
        districts_path,
        [
            "postcode_district",
            "latitude",
            "longitude",
            "town_area",
            "region_name",
            "postcodes_active",
            "non_geographic",
            "pfa23cd",
            "near_pfa_border_2km",
            "pfa_by_region_name",
        ],
    )
    problems = []
    for column in ("pfa23cd", "pfa_by_region_name"):
        unknown = sorted(set(districts[column]) - known - {""})
        if unknown:
            problems.append(f"column '{column}' has codes not in the force table: {', '.join(unknown)}")
    duplicated = districts.loc[districts["postcode_district"].duplicated(), "postcode_district"].tolist()
    if duplicated:
        problems.append(f"duplicate districts: {', '.join(duplicated)}")
    # Besides the usual shape, two letters-only districts exist: GIR (Girobank) and NPT (old Newport).
    bad = [
        d
        for d in districts["postcode_district"]
        if not (OUTWARD_CODE_PATTERN.fullmatch(d) or re.fullmatch("[A-Z]{3}", d))
    ]
    if bad:
        problems.append(f"not postcode districts: {', '.join(bad[:10])}")
    if problems:
        raise InputErrors(problems, where=str(districts_path))

    districts["area"] = districts["postcode_district"].map(postcode_area)
    non_geographic = districts["non_geographic"].str.lower().eq("true") | districts["area"].isin(NON_GEOGRAPHIC_AREAS)
    has_force = districts["pfa23cd"] != ""
    outside = ~has_force & ~non_geographic
    unplaced = sorted(set(districts.loc[outside & ~districts["area"].isin(OUTSIDE_AREAS), "postcode_district"]))
    if unplaced:
        raise InputError(
            f"districts with no force outside the known Scottish, Northern Irish and Crown Dependency "
            f"postcode areas: {', '.join(unplaced)}",
            where=str(districts_path),
        )

    # England & Wales districts with a force.
    ew = districts[has_force & ~non_geographic].copy()
    near = ew[ew["near_pfa_border_2km"].str.lower() == "true"]
    nearest_other = _nearest_other_forces(near, boundaries_geojson) if len(near) else {}
    # Names of local authorities outside E&W (e.g. "Scottish Borders") → jurisdiction.
    outside_region_names: dict[str, str] = {}
    for region, area in zip(districts.loc[outside, "region_name"], districts.loc[outside, "area"]):
        if region:
            outside_region_names.setdefault(region, OUTSIDE_AREAS[area])

    rows = []
    # The source table is read as stripped text (blanks as ""); ``area`` is its postcode area.
    for row in cast(Iterator[_DistrictRow], ew.itertuples(index=False)):
        candidates = {row.pfa23cd}
        reasons = []
        crosses_into = ""
        if row.postcode_district in nearest_other:
            candidates.add(nearest_other[row.postcode_district])
            reasons.append(REASON_NEAR_BORDER)
        if row.pfa_by_region_name and row.pfa_by_region_name != row.pfa23cd:
            candidates.add(row.pfa_by_region_name)
            reasons.append(REASON_LA_NAME)
        if not row.pfa_by_region_name and row.region_name in outside_region_names:
            crosses_into = outside_region_names[row.region_name]
            reasons.append(REASON_OUTSIDE)
        rows.append(
            {
                "outward_code": row.postcode_district,
                "force_code": row.pfa23cd,
                "candidate_force_codes": ";".join(sorted(candidates)),
                "straddle_reason": "; ".join(reasons),
                "non_geographic": False,
                "town_area": row.town_area,
                "active": _is_positive(row.postcodes_active),
                "outside_ew": crosses_into,
            }
        )
    # Non-geographic districts of England & Wales postcode areas: no location, so no force.
    for row in cast(
        Iterator[_DistrictRow],
        districts[non_geographic & ~districts["area"].isin(OUTSIDE_AREAS)].itertuples(index=False),
    ):
        town = row.town_area if row.town_area and row.town_area != "Non-geographic" else ""
        rows.append(
            {
                "outward_code": row.postcode_district,
                "force_code": "",
                "candidate_force_codes": "",
                "straddle_reason": "",
                "non_geographic": True,
                "town_area": town or NON_GEOGRAPHIC_AREAS.get(row.area, ""),
                "active": _is_positive(row.postcodes_active),
                "outside_ew": "",
            }
        )
    # Postcode areas outside England & Wales (their E&W districts, e.g. TD12, have rows above).
    for area in sorted(set(districts.loc[outside, "area"])):
        rows.append(
            {
                "outward_code": area,
                "force_code": "",
                "candidate_force_codes": "",
                "straddle_reason": "",
                "non_geographic": False,
                "town_area": "",
                "active": True,
                "outside_ew": OUTSIDE_AREAS[area],
            }
        )
    outward = pd.DataFrame(rows, columns=OUTWARD_COLUMNS)
    order = sorted(
        range(len(outward)),
        key=lambda i: (
            outward["outside_ew"].iat[i] != "" and outward["force_code"].iat[i] == "",
            split_outward(cast(str, outward["outward_code"].iat[i])),  # the codes built above are text
        ),
    )
    outward = outward.iloc[order].reset_index(drop=True)
    return validate_outward_codes(outward, known, where=str(districts_path)), _build_local_authorities(
        source_dir, known
    )


def _is_positive(text: str) -> bool:
    try:
        return float(text) > 0
    except ValueError:
        return False


def _build_local_authorities(source_dir: Path, known: set[str]) -> pd.DataFrame:
    path = source_dir / SOURCE_LAD_LOOKUP_CSV
    table = _read_source_csv(path, ["LAD23CD", "LAD23NM", "PFA23CD"])
    las = table.rename(columns={"LAD23CD": "lad_code", "LAD23NM": "lad_name", "PFA23CD": "force_code"})
    las = las[LOCAL_AUTHORITY_COLUMNS].drop_duplicates()
    return validate_local_authorities(las, known, where=str(path))
