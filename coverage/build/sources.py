"""Build the one sources registry, ``data/sources.csv``, and the planner's ``data/scenarios/SOURCES.md``.

Two inputs:

- the service register's sources: the research draft's numbered source list plus the build's own
  ``R001`` and ``V…`` (``coverage/build/register.py``), each ``used_for`` ``register``;
- ``curated_sources.csv`` beside this module, kept by hand: the planner's sources (``P…`` and the
  ``S…`` ids the presets cite) and the indicator tables' (``D…``, ``S145``), with ``used_for`` ``planner``
  and/or ``indicators``, never ``register``.

An id in both inputs must have the same publisher, title, date and url in both, or the build stops
naming the id, the field and both values: the research list is the original, so correct the curated
row (or the research). Their notes are joined, the research's first (``research note; curated note``),
and their uses are merged.

The build then adds ``planner`` to the uses of every source a planner input (a preset in
``data/scenarios/presets/`` or a rule file under ``data/planner/``) mentions, and stops if one
mentions an id the registry does not have.

``SOURCES.md`` is ``sources_md_template.md`` (the hand-written prose) with its ``{{source_table}}``
replaced by the table of every registry source used by the planner.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path

import pandas as pd

from coverage import paths
from coverage.errors import InputError, InputErrors
from coverage.sources import (
    LIST_SEPARATOR,
    REGISTRY_COLUMNS,
    USES,
    Source,
    parse_registry,
    source_ids_in_text,
    unknown_source_ids,
    unknown_source_message,
)

CURATED_SOURCES_CSV = Path(__file__).with_name("curated_sources.csv")
SOURCES_MD_TEMPLATE = Path(__file__).with_name("sources_md_template.md")
TABLE_PLACEHOLDER = "{{source_table}}"
# Fields that say which document a source is: they must agree when two inputs give the same id.
IDENTITY_FIELDS = ("publisher", "title", "date", "url")
CURATED_USES = ("planner", "indicators")
MARKDOWN_TABLE_HEADER = ("| id | publisher | title | date | url | note |", "|---|---|---|---|---|---|")


def read_curated_sources(path: Path = CURATED_SOURCES_CSV) -> dict[str, Source]:
    """The hand-kept planner and indicator sources; ``register`` is not a use they may claim."""
    path = Path(path)
    curated = parse_registry(path.read_text(encoding="utf-8"), name=path.name)
    problems = [
        f"{path.name}: {source.id}: used_for '{use}' is not for this file (only {', '.join(CURATED_USES)}; "
        "register sources come from the research source list)"
        for source in curated.values()
        for use in source.used_for
        if use not in CURATED_USES
    ]
    if problems:
        raise InputErrors(problems)
    return curated


def _research_sources(research: pd.DataFrame) -> dict[str, Source]:
    return {
        row["source_id"]: Source(
            id=row["source_id"],
            publisher=row["publisher"],
            title=row["title"],
            date=row["date"],
            url=row["url"],
            note=row["note"],
            used_for=("register",),
        )
        for row in research.to_dict("records")
    }


def merge_registry(
    research: pd.DataFrame, curated: Mapping[str, Source], *, curated_name: str = CURATED_SOURCES_CSV.name
) -> dict[str, Source]:
    """One registry, sorted by id, from the register's sources table and the curated sources.

    ``research`` has the register's sources columns (``source_id``, publisher, title, date, url, note).
    Raises InputErrors for every identity field on which the two inputs disagree.
    """
    merged = _research_sources(research)
    problems = []
    for source_id, extra in curated.items():
        known = merged.get(source_id)
        if known is None:
            merged[source_id] = extra
            continue
        for field in IDENTITY_FIELDS:
            ours, theirs = getattr(extra, field), getattr(known, field)
            if ours != theirs:
                problems.append(
                    f"{curated_name}: source {source_id} has a different {field} from the register's sources "
                    f"(research source list): '{ours}' here, '{theirs}' there; make them the same"
                )
        notes = [note for note in dict.fromkeys((known.note, extra.note)) if note]
        uses = sorted(set(known.used_for) | set(extra.used_for), key=USES.index)
        merged[source_id] = Source(
            id=source_id,
            publisher=known.publisher,
            title=known.title,
            date=known.date,
            url=known.url,
            note="; ".join(notes),
            used_for=tuple(uses),
        )
    if problems:
        raise InputErrors(problems)
    return dict(sorted(merged.items()))


def mark_used(registry: Mapping[str, Source], ids: Iterable[str], use: str) -> dict[str, Source]:
    """The registry with ``use`` added to the uses of every source in ``ids`` (ids not in it are ignored)."""
    cited = set(ids)
    return {
        source_id: (
            replace(source, used_for=tuple(sorted({*source.used_for, use}, key=USES.index)))
            if source_id in cited and use not in source.used_for
            else source
        )
        for source_id, source in registry.items()
    }


def planner_input_files(data_dir: Path = paths.DATA_DIR) -> list[Path]:
    """The hand-written planner inputs that cite sources: the presets and the planner's rule files."""
    return sorted((data_dir / "scenarios" / "presets").glob("*.yaml")) + sorted((data_dir / "planner").rglob("*.yaml"))


def mark_planner_use(registry: Mapping[str, Source], files: Iterable[Path]) -> dict[str, Source]:
    """The registry with ``planner`` added to every source an id of which a planner input mentions.

    Raises InputErrors naming the file and each id it cites that is not in the registry."""
    cited: list[str] = []
    problems = []
    for path in files:
        ids = source_ids_in_text(Path(path).read_text(encoding="utf-8"))
        shown = Path(path).relative_to(paths.REPO_ROOT) if Path(path).is_relative_to(paths.REPO_ROOT) else path
        problems += [f"{shown}: {unknown_source_message(sid, registry)}" for sid in unknown_source_ids(ids, registry)]
        cited += ids
    if problems:
        raise InputErrors(problems)
    return mark_used(registry, cited, "planner")


def registry_csv(registry: Mapping[str, Source]) -> str:
    """``data/sources.csv``: the registry in id order, one source a row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REGISTRY_COLUMNS)
    for source in sorted(registry.values(), key=lambda s: s.id):
        writer.writerow(
            [
                source.id,
                source.publisher,
                source.title,
                source.date,
                source.url,
                source.note,
                LIST_SEPARATOR.join(source.used_for),
            ]
        )
    return out.getvalue()


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_sources_markdown(registry: Mapping[str, Source], template: str | None = None) -> str:
    """``data/scenarios/SOURCES.md``: the template's prose with the planner's sources as a table."""
    text = SOURCES_MD_TEMPLATE.read_text(encoding="utf-8") if template is None else template
    if text.count(TABLE_PLACEHOLDER) != 1:
        raise InputError(f"should hold {TABLE_PLACEHOLDER} exactly once", where=SOURCES_MD_TEMPLATE.name)
    rows = [
        "| " + " | ".join(_cell(value) for value in (s.id, s.publisher, s.title, s.date, s.url, s.note)) + " |"
        for s in sorted(registry.values(), key=lambda s: s.id)
        if "planner" in s.used_for
    ]
    return text.replace(TABLE_PLACEHOLDER, "\n".join([*MARKDOWN_TABLE_HEADER, *rows]))
