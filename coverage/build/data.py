"""``build-data``: turn the official inputs and research drafts into the files the app ships."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from coverage import paths
from coverage.build.contacts import write_contacts
from coverage.build.forces import build_force_table
from coverage.build.indicators import build_indicators
from coverage.build.postcodes import build_postcode_tables
from coverage.build.recorded_crime import build_recorded_crime, describe
from coverage.build.register import assemble_register
from coverage.build.sources import mark_planner_use, planner_input_files, registry_csv, render_sources_markdown
from coverage.errors import InputError
from coverage.model.atlas_data import load_all, provision_table
from coverage.model.boundaries import measure_simplification, read_boundaries, simplify_shared_arcs, to_compact_geojson
from coverage.model.catalogue import catalogue_table, dataset, source_markdown
from coverage.model.demand import recorded_crime_csv
from coverage.model.forces import force_names
from coverage.model.indicators import indicators_csv
from coverage.outputs import compiled_maps

ONS_BOUNDARY_SHAPEFILE = Path("boundaries") / "original" / "PFA_DEC_2023_EW_BSC.shp"


@dataclass
class BuildReport:
    written: list[Path]
    boundary_kb: float
    max_deviation_m: float
    overlap_gap_km2: float
    register_rows: int
    sources: int
    notes: list[str]

    def lines(self) -> list[str]:
        return [
            *(f"wrote {p}" for p in self.written),
            f"boundaries: {self.boundary_kb:.0f} KB, max deviation {self.max_deviation_m:.0f} m, "
            f"overlap + gap {self.overlap_gap_km2:.3f} km²",
            f"register: {self.register_rows} rows; sources registry: {self.sources} sources",
            *self.notes,
        ]


def _write_text(path: Path, text: str, written: list[Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    written.append(path)


def _write_csv(path: Path, frame: pd.DataFrame, written: list[Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n")
    written.append(path)


def build_data(source_dir: Path, research_dir: Path | None = None, data_dir: Path = paths.DATA_DIR) -> BuildReport:
    """Rebuild every shipped file under ``data_dir`` from ``source_dir`` (``shared/data``).

    Everything is built in a staging folder first; ``data_dir`` is touched only when the whole build
    has succeeded, so a refused input never leaves a half-built ``data/``."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".build-", dir=data_dir))
    try:
        report = _build_into(Path(source_dir), research_dir, staging)
        final = []
        for built in report.written:
            target = data_dir / built.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(built, target)
            final.append(target)
        report.written = final
        return report
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _build_into(source_dir: Path, research_dir: Path | None, data_dir: Path) -> BuildReport:
    source_dir = Path(source_dir)
    research_dir = Path(research_dir) if research_dir else source_dir.parent / "research"
    for needed in (source_dir / ONS_BOUNDARY_SHAPEFILE, research_dir / "service_register_draft.csv"):
        if not needed.exists():
            raise InputError("not found; give --source the shared/data folder (research beside it)", where=str(needed))

    written: list[Path] = []
    forces = build_force_table(source_dir)
    _write_csv(data_dir / "forces" / "forces.csv", forces, written)
    _write_text(data_dir / "forces" / "SOURCE.md", source_markdown([dataset("forces")]), written)

    original = read_boundaries(source_dir / ONS_BOUNDARY_SHAPEFILE, force_names(forces)).frame
    simplified = simplify_shared_arcs(original)
    simplified["name"] = simplified["code"].map(force_names(forces))
    geojson = to_compact_geojson(simplified)
    _write_text(data_dir / "boundaries" / "pfa_dec2023_simplified.geojson", geojson, written)
    quality = measure_simplification(original, simplified)
    boundary_source = source_markdown([dataset("boundaries")]) + (
        "\n## Measured by the build\n\n"
        f"- size {len(geojson.encode()) / 1024:.0f} KB, {quality.vertices:,} vertices\n"
        f"- largest deviation from the ONS BSC outline {quality.max_deviation_m:.0f} m ({quality.worst_force})\n"
        f"- overlap between neighbours {quality.overlap_km2:.3f} km², gaps {quality.gap_km2:.3f} km²\n"
    )
    _write_text(data_dir / "boundaries" / "SOURCE.md", boundary_source, written)

    built = assemble_register(research_dir, forces)
    register = built.register
    _write_csv(data_dir / "services" / "register.csv", register, written)
    # The one sources registry (register, planner and indicator sources) and the planner's view of it.
    registry = mark_planner_use(built.registry, planner_input_files())
    _write_text(data_dir / "sources.csv", registry_csv(registry), written)
    _write_text(data_dir / "scenarios" / "SOURCES.md", render_sources_markdown(registry), written)
    written.append(write_contacts(data_dir))
    _write_text(
        data_dir / "services" / "SOURCE.md", source_markdown([dataset("services"), dataset("contacts")]), written
    )

    crime = build_recorded_crime(source_dir, forces)
    _write_text(data_dir / "indicators" / "recorded_crime.csv", recorded_crime_csv(crime.table), written)
    indicators = build_indicators(source_dir, forces)
    _write_text(data_dir / "indicators" / "indicators.csv", indicators_csv(indicators), written)
    _write_text(
        data_dir / "indicators" / "SOURCE.md",
        source_markdown([dataset("recorded_crime"), dataset("indicators")]),
        written,
    )

    outward, local_authorities = build_postcode_tables(
        source_dir, forces, boundaries_geojson=data_dir / "boundaries" / "pfa_dec2023_simplified.geojson"
    )
    _write_csv(data_dir / "postcodes" / "outward_codes.csv", outward, written)
    _write_csv(data_dir / "postcodes" / "local_authorities.csv", local_authorities, written)
    _write_text(
        data_dir / "postcodes" / "SOURCE.md",
        source_markdown([dataset("postcodes"), dataset("local_authorities")]),
        written,
    )

    _write_csv(data_dir / "catalogue.csv", catalogue_table(), written)
    # Last: the inline maps, compiled from the data as the app will read it back.
    shipped = load_all(data_dir)
    provision = provision_table(shipped.forces, shipped.register)
    for name in compiled_maps.NAMES:
        _write_text(
            compiled_maps.compiled_path(data_dir, name),
            compiled_maps.compiled_json(name, shipped.boundaries, provision),
            written,
        )
    _write_text(data_dir / compiled_maps.MAPS_FOLDER / "SOURCE.md", compiled_maps.SOURCE_MD, written)
    return BuildReport(
        written=written,
        boundary_kb=len(geojson.encode()) / 1024,
        max_deviation_m=quality.max_deviation_m,
        overlap_gap_km2=quality.overlap_km2 + quality.gap_km2,
        register_rows=len(register),
        sources=len(registry),
        notes=list(describe(crime)),
    )
