"""Briefing packs a campaigner can publish as they are: charts (PNG and SVG), a one-page PDF, the
data behind every chart (CSV and XLSX, with a sources sheet), alt text, and one zip of it all,
for one police force area or for England and Wales.

``build_briefing(data, force_code, scenario_id)`` returns the pack in memory (the Briefing page
offers each file); ``write_briefing(out_dir, force_code, data)`` writes the same files for the
command line and for batches. Work that does not depend on the force (the provision table, the
projected map shapes, the coverage chart, the national ranked chart) is done once per data
version and reused across a batch (``briefing_context``).

Every chart carries its title, subtitle (measure, unit, period), takeaway, source and licence
inside the image, and a credit line naming the atlas (with its address when the deployment sets
``ATLAS_PUBLIC_URL``: ``coverage.paths.PUBLIC_URL``); text that comes from data is drawn as text
(SVG escapes it), never as markup. The headline chart (a force's ranked chart; the coverage chart
for England and Wales) also comes as a square (1080×1080) and a landscape (1200×675) PNG for
sharing, with the same words inside.
Exports neutralise cells a spreadsheet would run as a formula. No address of a service is ever
shown: services are placed by the area they cover, and UK postcodes are removed from any text a
briefing shows about a service.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import altair as alt
import numpy as np
import pandas as pd

from coverage import paths
from coverage.errors import InputError
from coverage.export import csv_bytes, xlsx_bytes
from coverage.model.atlas_data import AtlasData, provision_table
from coverage.model.catalogue import DATASETS, REGISTER_SNAPSHOT
from coverage.model.demand import (
    ENGLAND_AND_WALES_CODE,
    area_populations,
    demand_by_area,
    force_ranking,
    format_rate,
    latest_period,
    offences_by_force,
)
from coverage.model.forces import force_names
from coverage.model.freshness import STALE_AFTER_MONTHS, freshness_table
from coverage.model.lottery import coverage_shares
from coverage.model.register import (
    COVERAGE_LABELS,
    NATIONAL_FORCE_CODES,
    PROVISION_FLAGS_COLUMNS,
    STATUS_LABELS,
    provision_flags,
    services_for_force,
    short_service_name,
    split_list,
)
from coverage.outputs import renderer
from coverage.outputs.charts import AF_DARK_BLUE, AF_ORANGE, AF_TEXT, FONT, ChartText, ranked_bar_chart
from coverage.outputs.scenario_charts import money
from coverage.outputs.static_map import (
    MapBase,
    MapLayout,
    display_text,
    fill_map,
    map_base,
    map_template,
    text_width,
    wrap_text,
)
from coverage.sources import load_registry
from coverage.vocabulary import (
    DARK_FILL_CLASSES,
    FIRST_COMPARABLE_YEAR,
    HEADLINE_MEASURE,
    HOME_OFFICE_ATTRIBUTION,
    LOCAL_SERVICE_TYPES,
    OGL_V3,
    ONS_ATTRIBUTION,
    PROVISION_CLASS,
    PROVISION_CLASS_LABELS,
    PROVISION_CLASSES,
    RATE_CAVEAT,
    SERVICE_TYPE_LABELS,
    Measure,
)

if TYPE_CHECKING:
    from altair.typing import ChartType
    from pandas.api.typing import NAType

    from coverage.outputs.pdf import BriefingPage, MapShape
    from coverage.planner.schema import Scenario

NATIONAL_NAME = "England and Wales"
NATIONAL_SLUG = "england-and-wales"
ATLAS_NAME = "Stalking Provision Atlas"
PNG_SCALE = 2  # PNGs at twice the chart's pixel size (print and high-density screens)
CHART_WIDTH = 560  # plot width of bar charts; the map sets its own
SNAPSHOT = REGISTER_SNAPSHOT
# What every pack says of its demand figures (stalking, 8Q, is the headline measure).
DEMAND_NOTE = (
    "Demand is police recorded stalking (Home Office offence code 8Q), not the wider ONS 'Stalking and harassment' "
    f"group. {HEADLINE_MEASURE.caveat}"
)
NOT_PROOF = "'Nothing found' means the search found no evidence of a service; it is not proof that none exists."
NO_ADDRESSES = "Services are placed by the area they cover; no addresses are given."
PLACEHOLDER = "[postcode removed]"
# Full UK postcodes (e.g. "CH1 1AA", "SW1A 2AA"): a briefing never shows where a service sits.
_POSTCODE = re.compile(
    r"\b(GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-HJKMNPR-Y]? ?[0-9][ABD-HJLNP-UW-Z]{2})\b", re.IGNORECASE
)


# ---------------------------------------------------------------------------------------------
# Small text helpers


def without_postcodes(text: object) -> str:
    """Service text as a briefing may show it: any full UK postcode removed."""
    return _POSTCODE.sub(PLACEHOLDER, "" if text is None else str(text))


def _percent(share: float) -> str:
    """A share as a whole percentage; "less than 1%" rather than a misleading "0%"."""
    if 0 < share < 0.005:
        return "less than 1%"
    return f"{share:.0%}"


def _count(value: float | np.integer[Any] | NAType | None) -> str:
    return "unknown" if value is None or pd.isna(value) else f"{int(value):,}"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def atlas_credit(url: str | None) -> str:
    """The line every image and PDF ends with: the atlas, and its address if the deployment gave one
    (``ATLAS_PUBLIC_URL``); never an address it did not."""
    url = display_text(url or "")
    return f"From the {ATLAS_NAME}: {url}" if url else f"From the {ATLAS_NAME}"


def _names(names: Sequence[str]) -> str:
    names = [display_text(n) for n in names]
    if not names:
        return "none"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# ---------------------------------------------------------------------------------------------
# Titles and footers drawn inside the image (wrapped, never cut off)

TITLE_SIZE, SUBTITLE_SIZE, TAKEAWAY_SIZE, SOURCE_SIZE = 17, 12, 12, 11


FOOTER_DATA = "briefing_footer"


def titled(chart: ChartType, *, width: int) -> alt.VConcatChart:
    """``chart`` framed for a title and subtitle above and a takeaway and source below. The words
    are filled in by ``apply_text`` on the compiled spec, so one compiled frame serves many packs."""
    footer_base = alt.Chart(alt.NamedData(name=FOOTER_DATA)).encode(
        x=alt.value(0), y=alt.Y("y:Q", scale=None, axis=None), text="line:N"
    )
    footer = alt.layer(
        footer_base.transform_filter("datum.kind == 'takeaway'").mark_text(
            align="left", baseline="top", font=FONT, fontSize=TAKEAWAY_SIZE, fontWeight="bold", color="#000000"
        ),
        footer_base.transform_filter("datum.kind == 'source'").mark_text(
            align="left", baseline="top", font=FONT, fontSize=SOURCE_SIZE, color=AF_TEXT
        ),
    ).properties(width=width, height=10)
    # Altair's configure_* methods are typed through a decorator that loses their ``Self`` return.
    framed: alt.VConcatChart = (
        alt.vconcat(chart, footer, spacing=14)
        .properties(
            title=alt.TitleParams(
                text="",
                subtitle="",
                anchor="start",
                font=FONT,
                fontSize=TITLE_SIZE,
                fontWeight="bold",
                color="#000000",
                subtitleFont=FONT,
                subtitleFontSize=SUBTITLE_SIZE,
                subtitleColor=AF_TEXT,
                subtitlePadding=6,
                offset=12,
            ),
            padding=16,
            background="#FFFFFF",
        )
        .configure_view(stroke=None)
        .configure_axis(
            labelFont=FONT, titleFont=FONT, labelColor=AF_TEXT, titleColor=AF_TEXT, labelFontSize=11, titleFontSize=12
        )
        .configure_legend(
            labelFont=FONT, titleFont=FONT, labelColor=AF_TEXT, titleColor=AF_TEXT, labelFontSize=12, titleFontSize=12
        )
    )
    return framed


def apply_text(
    spec: dict[str, Any], text: ChartText, *, width: int, title_width: int | None = None, credit: str = ""
) -> dict[str, Any]:
    """A copy of a compiled ``titled`` spec with its title, subtitle, takeaway, source and credit
    line (``atlas_credit``), each wrapped to the width (measured in the font used), so nothing is
    truncated."""
    title_width = title_width or width
    rows: list[dict[str, float | str]] = []
    y = 0.0
    for line in wrap_text(text.takeaway, width, TAKEAWAY_SIZE, bold=True) if text.takeaway else []:
        rows.append({"y": y, "line": line, "kind": "takeaway"})
        y += TAKEAWAY_SIZE + 5
    y += 4
    for line in wrap_text(text.source, width, SOURCE_SIZE):
        rows.append({"y": y, "line": line, "kind": "source"})
        y += SOURCE_SIZE + 4
    if credit:
        y += 3
        for line in wrap_text(credit, width, SOURCE_SIZE):
            rows.append({"y": y, "line": line, "kind": "source"})
            y += SOURCE_SIZE + 4
    spec = dict(spec)
    spec["title"] = {
        **spec["title"],
        "text": wrap_text(text.title, title_width, TITLE_SIZE, bold=True),
        "subtitle": wrap_text(text.subtitle, title_width, SUBTITLE_SIZE),
    }
    vconcat = list(spec["vconcat"])
    vconcat[-1] = {**vconcat[-1], "height": int(y) + 2}
    spec["vconcat"] = vconcat
    spec["datasets"] = {**(spec.get("datasets") or {}), FOOTER_DATA: rows}
    return spec


def chart_spec(
    chart: ChartType, text: ChartText, *, width: int, title_width: int | None = None, credit: str = ""
) -> dict[str, Any]:
    """The compiled spec of ``chart`` with its words inside the image."""
    return apply_text(
        titled(chart, width=width).to_dict(validate=False), text, width=width, title_width=title_width, credit=credit
    )


# ---------------------------------------------------------------------------------------------
# What a pack holds


# What each chart is called where a file of it is offered ("Ranked chart, PNG"; "Ranked chart data, CSV").
CHART_LABELS = {
    "map": "Map",
    "rates": "Ranked chart",
    "trend": "Trend chart",
    "coverage": "Coverage chart",
    "scenario-cost": "Scenario cost chart",
}


@dataclass
class BriefingChart:
    key: str  # map, rates, trend, coverage, scenario-cost
    heading: str
    text: ChartText
    svg: str
    png: bytes
    data: pd.DataFrame  # exactly the rows the chart shows
    sources: pd.DataFrame
    alt_text: str
    # the SVG and PNG being drawn
    pending: Future[tuple[str, bytes]] | None = field(default=None, repr=False, compare=False)

    def ready(self) -> BriefingChart:
        """Wait for the SVG and PNG (drawn in the background while the pack's other files are made)."""
        if self.pending is not None:
            self.svg, self.png = self.pending.result()
            self.pending = None
        return self

    def file_names(self, stem: str) -> dict[str, str]:
        return {ext: f"{stem}-{self.key}.{ext}" for ext in ("png", "svg", "csv", "xlsx")}

    @property
    def label(self) -> str:
        """The chart's short name, for the names of its files' download buttons."""
        return CHART_LABELS.get(self.key, self.heading)


# Images of the headline chart for sharing: pixel size, and how many image pixels to one chart pixel
# (text drawn at 11–17 px reads at 16–34 px in the image).
SHARE_FORMATS: dict[str, tuple[tuple[int, int], float]] = {
    "square": ((1080, 1080), 2.0),
    "landscape": ((1200, 675), 1.5),
}


@dataclass
class ShareImage:
    """The headline chart drawn to an exact pixel size (PNG), its title, takeaway, source, licence
    and credit inside."""

    chart_key: str  # the chart it shows: rates (a force's pack) or coverage (England and Wales)
    shape: str  # a key of SHARE_FORMATS
    text: ChartText
    alt_text: str
    png: bytes = b""
    svg: str = ""  # what the PNG was drawn from (not a file of the pack: the chart's own SVG is)
    pending: Future[tuple[str, bytes]] | None = field(default=None, repr=False, compare=False)

    @property
    def size(self) -> tuple[int, int]:
        return SHARE_FORMATS[self.shape][0]

    @property
    def label(self) -> str:
        width, height = self.size
        return f"{CHART_LABELS[self.chart_key]}, {self.shape} PNG ({width}×{height})"

    def ready(self) -> ShareImage:
        if self.pending is not None:
            self.svg, self.png = self.pending.result()
            self.pending = None
        return self

    def file_name(self, stem: str) -> str:
        return f"{stem}-{self.chart_key}-{self.shape}.png"


@dataclass
class BriefingPack:
    code: str | None
    area_name: str
    stem: str
    scenario_id: str | None
    charts: list[BriefingChart]
    services: pd.DataFrame
    pdf: bytes
    sources: pd.DataFrame
    files: dict[str, bytes] = field(default_factory=dict)  # every file but the zip, in order
    register_note: str = ""  # set when the pack was built from a user-edited register
    share: list[ShareImage] = field(default_factory=list)  # the headline chart, square and landscape
    credit: str = ""  # atlas_credit: the atlas, and its address when the deployment gives one

    @property
    def zip_name(self) -> str:
        return f"{self.stem}.zip"

    @property
    def pdf_name(self) -> str:
        return f"{self.stem}.pdf"

    def zip_bytes(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for name, content in self.files.items():
                stored = name.endswith((".png", ".pdf", ".xlsx"))  # already compressed
                archive.writestr(name, content, compress_type=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
        return buffer.getvalue()


def _about_sheet(text: ChartText, alt_text: str) -> pd.DataFrame:
    """The chart's words, for the workbook that carries its data."""
    return pd.DataFrame(
        {
            "Item": ["Title", "Subtitle", "Takeaway", "Source", "Alt text", "Attribution", "Note"],
            "Text": [
                text.title,
                text.subtitle,
                text.takeaway,
                text.source,
                alt_text,
                f"{ONS_ATTRIBUTION} {HOME_OFFICE_ATTRIBUTION}",
                DEMAND_NOTE,
            ],
        }
    )


SOURCE_COLUMNS = ["Source", "Publisher", "Title", "Period or date", "Licence", "Link or attribution"]


def _dataset_sources(keys: Sequence[str]) -> pd.DataFrame:
    rows = [
        {
            "Source": d.file,
            "Publisher": d.publisher,
            "Title": d.title,
            "Period or date": d.period,
            "Licence": d.licence,
            "Link or attribution": d.attribution,
        }
        for d in DATASETS
        if d.key in keys
    ]
    return pd.DataFrame(rows, columns=SOURCE_COLUMNS)


def _register_sources(sources: pd.DataFrame, ids: Sequence[str]) -> pd.DataFrame:
    table = sources.set_index("source_id").reindex(sorted(set(ids))).reset_index().fillna("")
    return pd.DataFrame(
        {
            "Source": table["source_id"],
            "Publisher": table["publisher"],
            "Title": table["title"],
            "Period or date": table["date"],
            "Licence": "See the source (cited as evidence of the service)",
            "Link or attribution": table["url"],
        },
        columns=SOURCE_COLUMNS,
    )


def _scenario_sources(scenario: Scenario) -> pd.DataFrame:
    from coverage.planner.schema import source_ids_used

    registry = load_registry()
    rows = []
    for sid in source_ids_used(scenario):
        entry = registry.get(sid)
        rows.append(
            {
                "Source": sid,
                "Publisher": entry.publisher if entry else "",
                "Title": entry.title if entry else "(not in data/sources.csv)",
                "Period or date": entry.date if entry else "",
                "Licence": "See the source (cited for a cost-model input)",
                "Link or attribution": entry.url if entry else "",
            }
        )
    return pd.DataFrame(rows, columns=SOURCE_COLUMNS)


def _cited(register: pd.DataFrame) -> list[str]:
    return sorted({sid for cell in register["source_ids"] for sid in split_list(str(cell)) if sid})


# ---------------------------------------------------------------------------------------------
# Shared work for a data version


def data_version(data: AtlasData) -> str:
    """A short fingerprint of the data a pack is built from (for caches)."""
    digest = hashlib.sha256()
    for frame in (data.forces, data.register, data.sources, data.indicators, data.crime):
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        digest.update("|".join(map(str, frame.columns)).encode())
    digest.update(str(len(data.boundaries.get("features", []))).encode())
    for feature in data.boundaries.get("features", []):
        digest.update(feature["properties"].get("code", "").encode())
        digest.update(json.dumps(feature["geometry"]["coordinates"][:1], separators=(",", ":"))[:256].encode())
    return digest.hexdigest()[:16]


@dataclass
class BriefingContext:
    data: AtlasData
    version: str
    table: pd.DataFrame  # provision_table + flags, one row per force (names from the force table)
    names: dict[str, str]
    measure: Measure  # the demand every chart shows: stalking (8Q)
    period: str  # its latest period in the data
    offences: dict[str, float]  # force → offences of ``measure`` in ``period``
    ranking: pd.DataFrame  # demand.force_ranking, display names from the force table
    england_wales: dict[str, float]  # offences, rate_all_ages, rate_16plus, pop_all_ages, pop_16plus
    freshness: pd.DataFrame  # freshness.freshness_table as of the day the pack is built
    shares: pd.DataFrame  # lottery.coverage_shares
    base: MapBase
    # (key, ...) -> BriefingChart reused across forces
    rendered: dict[tuple[str | None, ...], object] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # The name of a user-edited register this context was built from, or None for the published one.
    # Every chart, the PDF, the README and the file names then say so.
    edited_register: str | None = None
    # The deployment's address (coverage.paths.PUBLIC_URL when the context was made): every image and the PDF give it.
    public_url: str = ""

    @property
    def register_note(self) -> str:
        return edited_register_note(self.edited_register)

    @property
    def credit(self) -> str:
        return atlas_credit(self.public_url)


def edited_register_note(name: str | None) -> str:
    """The line every file of a pack built from a user-edited register carries ("" for the published one)."""
    if not name:
        return ""
    return (
        f"Built from a user-edited service register ({display_text(name)[:80]}), not the published "
        "Stalking Provision Atlas register."
    )


def _england_wales(crime: pd.DataFrame, forces: pd.DataFrame, measure: Measure, period: str) -> dict[str, float]:
    areas = demand_by_area(crime, forces, measure, period).set_index("code")
    row = cast(pd.Series, areas.loc[ENGLAND_AND_WALES_CODE])  # one label of a unique index: a row
    population = cast(pd.Series, area_populations(forces).loc[ENGLAND_AND_WALES_CODE])  # one row
    return {
        "offences": float(row["offences"]),
        "rate_all_ages": float(row["rate_all_ages"]),
        "rate_16plus": float(row["rate_16plus"]),
        "pop_all_ages": float(population["pop_all_ages"]),
        "pop_16plus": float(population["pop_16plus"]),
    }


def _build_context(
    data: AtlasData, version: str, edited_register: str | None = None, public_url: str = ""
) -> BriefingContext:
    _warm_renderer()
    forces = data.forces
    table = provision_table(forces, data.register)
    missing = [c for c in PROVISION_FLAGS_COLUMNS if c not in table.columns]
    if missing:  # a provision_table without the per-type flags
        flags = provision_flags(data.register, list(forces["code"]))
        table = table.merge(flags[["code", *missing]], on="code", how="left", validate="one_to_one")
    flags = table[PROVISION_FLAGS_COLUMNS]
    names = force_names(forces)
    measure = HEADLINE_MEASURE
    period = latest_period(data.crime, measure)
    offences = offences_by_force(data.crime, measure, period)
    ranking = force_ranking(data.crime, forces, measure, period)
    ranking["name"] = ranking["code"].map(names).fillna(ranking["name"])
    shares = coverage_shares(flags, forces, offences)
    return BriefingContext(
        data=data,
        version=version,
        table=table,
        names=names,
        measure=measure,
        period=period,
        offences=offences,
        ranking=ranking,
        england_wales=_england_wales(data.crime, forces, measure, period),
        freshness=freshness_table(data.register, data.sources, list(forces["code"]), date.today()),
        shares=shares,
        base=map_base(data.boundaries, table),
        edited_register=edited_register or None,
        public_url=public_url,
    )


_CONTEXTS: OrderedDict[str, BriefingContext] = OrderedDict()
_CONTEXTS_LOCK = threading.Lock()


def briefing_context(data: AtlasData, edited_register: str | None = None) -> BriefingContext:
    """The work shared by every pack of one data version (kept for the last few versions).

    ``edited_register`` names a user-edited register the data carry, so every file says so. The
    atlas's address is read from ``coverage.paths.PUBLIC_URL`` (``ATLAS_PUBLIC_URL``) here."""
    version = data_version(data)
    public_url = paths.PUBLIC_URL
    key = f"{version}|{edited_register or ''}|{public_url}"
    with _CONTEXTS_LOCK:
        if key in _CONTEXTS:
            _CONTEXTS.move_to_end(key)
            return _CONTEXTS[key]
    context = _build_context(data, version, edited_register, public_url)
    with _CONTEXTS_LOCK:
        _CONTEXTS[key] = context
        while len(_CONTEXTS) > 3:
            _CONTEXTS.popitem(last=False)
    return context


def _render(spec: dict[str, Any] | str) -> tuple[str, bytes]:
    svg = renderer.vegalite_to_svg(spec)
    return svg, renderer.svg_to_png(svg, scale=PNG_SCALE)


# The charts are drawn one at a time in vl-convert's own process (coverage.outputs.renderer); this
# thread hands them over and waits, without the GIL, while Python builds the PDF and the data files.
_RENDERER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="briefing-render")
_WARMED = threading.Event()


def _render_later(spec: dict[str, Any] | str) -> Future[tuple[str, bytes]]:
    return _RENDERER.submit(_render, spec)


def _warm_renderer() -> None:
    """Start vl-convert's process (about half a second, once per server) while the caller does other work."""
    if not _WARMED.is_set():
        _WARMED.set()
        _RENDERER.submit(renderer.start)


_T = TypeVar("_T")


def _shared(context: BriefingContext, key: tuple[str | None, ...], build: Callable[[], _T]) -> _T:
    """Something the same for many packs (a national chart, the PDF's map), built once per context."""
    # The cache holds, under each key, what that key's ``build`` made.
    with context.lock:
        if key in context.rendered:
            return cast(_T, context.rendered[key])
    made = build()
    with context.lock:
        return cast(_T, context.rendered.setdefault(key, made))


# ---------------------------------------------------------------------------------------------
# The charts


MAP_SOURCE = (
    "Services: Stalking Provision Atlas service register, from public sources (listed in the data file). "
    "Boundaries: ONS Police Force Areas (December 2023), simplified for display. " + ONS_ATTRIBUTION
)


def _crime_source(context: BriefingContext) -> str:
    return (
        f"Offences: police recorded {context.measure.noun} (Home Office offence code {context.measure.code}), "
        f"{context.period}. {HOME_OFFICE_ATTRIBUTION} Population: ONS mid-2023 estimates. {ONS_ATTRIBUTION}"
    )


def _coverage_source(context: BriefingContext) -> str:
    return f"Services: Stalking Provision Atlas service register. {_crime_source(context)}"


def _class_counts(context: BriefingContext) -> pd.Series:
    return context.table["provision_class"].value_counts()


MAP_LAYOUT = MapLayout()


def _map_chart(context: BriefingContext, code: str | None) -> BriefingChart:
    table = context.table
    counts = _class_counts(context)
    shares = context.shares.set_index("measure")
    unit_share = cast(float, shares.loc["has_multi_agency_unit", "population_16plus_share"])  # a float64 column
    national = (
        f"{int(counts.get('multi_agency_unit', 0))} of {len(table)} force areas have a multi-agency stalking unit "
        f"(home to {_percent(unit_share)} of people aged 16+); in {int(counts.get('national_only', 0))} no local "
        f"specialist service was found; {int(counts.get('unknown', 0))} not searched (unknown)."
    )
    if code:
        row = cast(pd.Series, table.set_index("code").loc[code])  # one label of a unique index: a row
        name = display_text(context.names[code])
        takeaway = f"{name} (outlined in orange): {PROVISION_CLASS_LABELS[row['provision_class']].lower()}. " + national
    else:
        takeaway = national
    text = ChartText(
        title="Specialist stalking services by police force area",
        subtitle=(
            "The best specialist stalking provision found in each of the 43 police force areas of England and Wales; "
            f"{SNAPSHOT}"
        ),
        takeaway=takeaway,
        source=" ".join(filter(None, [MAP_SOURCE, NOT_PROOF, context.register_note])),
    )
    layout = MAP_LAYOUT
    template = _shared(
        context, ("map-template",), lambda: map_template(context.base, layout, lambda c: titled(c, width=layout.width))
    )
    spec = fill_map(template, context.base, layout, code, context.names.get(code) if code else None)
    pending = _render_later(apply_text(spec, text, width=layout.width, credit=context.credit))
    rows = context.base.rows(code)
    if not code:
        rows = rows.drop(columns=["Outlined on the map"])
    alt_text = _map_alt(context, code)
    sources = pd.concat(
        [
            _dataset_sources(["boundaries", "forces", "services"]),
            _register_sources(
                context.data.sources,
                _cited(context.data.register[context.data.register["force_codes"] != NATIONAL_FORCE_CODES]),
            ),
        ],
        ignore_index=True,
    )
    return BriefingChart("map", "Map: specialist stalking provision", text, "", b"", rows, sources, alt_text, pending)


def _map_alt(context: BriefingContext, code: str | None) -> str:
    """What the map shows, in words: read out in its place (the chart's alt text, the PDF's Figure)."""
    table = context.table
    groups = []
    for key in PROVISION_CLASSES:
        members = table.loc[table["provision_class"] == key, "name"].sort_values().tolist()
        groups.append(f"{PROVISION_CLASS_LABELS[key]} ({len(members)}): {_names(members)}.")
    return (
        "Map of the 43 police force areas of England and Wales, each shaded by the best specialist stalking "
        "service found there, from dark blue (a multi-agency stalking unit) through lighter blues to grey with "
        "hatching (national services only, none found locally) and white with a dashed outline (unknown, not "
        "searched). "
        + (f"{display_text(context.names[code])} is outlined in orange and labelled. " if code else "")
        + " ".join(groups)
    )


RATE_FORMAT = ".2f"


def _rates_template(context: BriefingContext) -> dict[str, Any]:
    """The ranked chart (coverage.outputs.charts.ranked_bar_chart) compiled once, no force highlighted."""
    ranking = context.ranking.dropna(subset=["rate_all_ages"])
    ew_rate = context.england_wales["rate_all_ages"]
    built = ranked_bar_chart(
        ranking.assign(name=ranking["name"].map(display_text)),
        value_column="rate_all_ages",
        value_title=f"Offences per 1,000 population ({context.period})",
        value_format=RATE_FORMAT,
        text=ChartText("", "", "", ""),
        highlight_code=None,
        reference_value=ew_rate,
        reference_label=f"England and Wales {format_rate(ew_rate)}",
        width=CHART_WIDTH,
    )
    return titled(built.vconcat[0], width=CHART_WIDTH).to_dict(validate=False)


def _with_highlight(template: dict[str, Any], code: str | None) -> dict[str, Any]:
    """The compiled ranked chart with one force's bar highlighted and labelled, set in its data
    (the ``highlight`` and ``label`` columns ranked_bar_chart draws from)."""
    spec = dict(template)
    datasets = dict(spec["datasets"])
    found = False
    for name, rows in datasets.items():
        if rows and isinstance(rows[0], dict) and {"code", "highlight", "label", "rate_all_ages"} <= rows[0].keys():
            found = True
            datasets[name] = [
                {
                    **row,
                    "highlight": row["code"] == code,
                    "label": f"{row['name']}: {format(row['rate_all_ages'], RATE_FORMAT)}"
                    if row["code"] == code
                    else "",
                }
                for row in rows
            ]
    if not found:
        raise RuntimeError("ranked_bar_chart's data has no highlight/label columns: update briefing._with_highlight")
    spec["datasets"] = datasets
    return spec


def _rates_chart(context: BriefingContext, code: str | None) -> BriefingChart:
    ranking = context.ranking.dropna(subset=["rate_all_ages"]).copy()
    ew = context.england_wales
    ew_rate = ew["rate_all_ages"]
    period, noun = context.period, context.measure.noun
    n = len(context.ranking)
    top, bottom = ranking.iloc[0], ranking.iloc[-1]
    if code:
        row = cast(pd.Series, context.ranking.set_index("code").loc[code])  # one label of a unique index: a row
        name = display_text(context.names[code])
        if pd.isna(row["rate_all_ages"]):
            takeaway = f"{name}: no rate for {period}."
        else:
            direction = "higher than" if row["rate_all_ages"] > ew_rate else "lower than"
            if abs(row["rate_all_ages"] - ew_rate) < 0.005:
                direction = "the same as"
            takeaway = (
                f"{name}: {format_rate(row['rate_all_ages'])} {noun} per 1,000 population, {direction} England and "
                f"Wales ({format_rate(ew_rate)}); {_ordinal(int(row['rank']))} highest of {n}."
            )
    else:
        takeaway = (
            f"Rates ranged from {format_rate(bottom['rate_all_ages'])} in {display_text(bottom['name'])} to "
            f"{format_rate(top['rate_all_ages'])} in {display_text(top['name'])}; England and Wales: {format_rate(ew_rate)}."
        )
    text = ChartText(
        title=f"Police recorded {noun} per 1,000 population",
        subtitle=(
            f"43 police force areas, England and Wales, {period}; population all ages, mid-2023. "
            f"{context.measure.caveat} {RATE_CAVEAT}"
        ),
        takeaway=takeaway,
        source=_crime_source(context),
    )
    template = _shared(context, ("rates-template",), lambda: _rates_template(context))
    spec = _with_highlight(template, code)
    pending = _render_later(
        apply_text(spec, text, width=CHART_WIDTH, title_width=CHART_WIDTH + 160, credit=context.credit)
    )
    population = context.data.forces.set_index("code")
    rate_all, rate_16 = f"Offences per 1,000 population ({period})", f"Offences per 1,000 aged 16+ ({period})"
    count = f"Recorded {noun} ({period})"
    data = pd.DataFrame(
        {
            "Rank (1 = highest rate)": ranking["rank"].astype("Int64"),
            "Area": ranking["name"],
            "ONS code": ranking["code"],
            rate_all: ranking["rate_all_ages"].round(2),
            rate_16: ranking["rate_16plus"].round(2),
            count: ranking["offences"].astype("Int64"),
            "Population, all ages (mid-2023)": ranking["code"].map(population["pop_mid2023"]).astype("Int64"),
            "Population aged 16+ (mid-2023)": ranking["code"].map(population["pop_mid2023_16plus"]).astype("Int64"),
            # pandas compares with None (all False), but pandas-stubs' Series.eq leaves None out of its scalars.
            "Shown as": np.where(ranking["code"].eq(code), "Highlighted bar", "Bar"),  # type: ignore[arg-type]
        }
    )
    reference = pd.DataFrame(
        {
            "Rank (1 = highest rate)": pd.array([pd.NA], dtype="Int64"),
            "Area": [NATIONAL_NAME],
            "ONS code": [ENGLAND_AND_WALES_CODE],
            rate_all: [round(ew_rate, 2)],
            rate_16: [round(ew["rate_16plus"], 2)],
            count: pd.array([int(ew["offences"])], dtype="Int64"),
            "Population, all ages (mid-2023)": pd.array([int(ew["pop_all_ages"])], dtype="Int64"),
            "Population aged 16+ (mid-2023)": pd.array([int(ew["pop_16plus"])], dtype="Int64"),
            "Shown as": ["Reference line (sum of the 43 forces)"],
        }
    )
    data = pd.concat([data, reference], ignore_index=True)
    alt_text = (
        f"Horizontal bar chart ranking the {len(ranking)} police force areas of England and Wales by police recorded "
        f"{noun} per 1,000 population, {period}, highest first. Highest: {display_text(top['name'])}, "
        f"{format_rate(top['rate_all_ages'])}. Lowest: {display_text(bottom['name'])}, {format_rate(bottom['rate_all_ages'])}. "
        f"A dashed line marks England and Wales at {format_rate(ew_rate)}. " + (takeaway if code else "")
    ).strip()
    sources = _dataset_sources(["recorded_crime", "forces"])
    return BriefingChart(
        "rates", f"Ranked chart: {noun} per 1,000 population", text, "", b"", data, sources, alt_text, pending
    )


def _trend_chart(context: BriefingContext, code: str | None) -> BriefingChart:
    """Stalking over the years: the force, its region or country and England and Wales (or, for the
    national pack, England, Wales and England and Wales), with the counting-rule breaks drawn."""
    from coverage.model.demand import trend
    from coverage.outputs.demand_charts import trend_chart, trend_takeaway

    forces = context.data.forces
    if code:
        region = str(forces.set_index("code").loc[code, "region_code"])
        codes, area = [code, region, ENGLAND_AND_WALES_CODE], context.names[code]
    else:
        codes, area = [ENGLAND_AND_WALES_CODE, "E92000001", "W92000004"], NATIONAL_NAME
    rows = trend(context.data.crime, forces, codes, context.measure)
    if code:
        rows = rows.assign(name=rows["name"].where(rows["code"] != code, context.names[code]))
    first, last = int(rows["year_ending"].min()), int(rows["year_ending"].max())
    takeaway = trend_takeaway(rows, context.measure, area)
    names = list(dict.fromkeys(rows["name"]))
    text = ChartText(
        title=f"Police recorded {context.measure.noun} per 1,000 population, {first}–{last}",
        subtitle=(
            f"{', '.join(display_text(n) for n in names)}; years ending December; population all ages, mid-2023 "
            "for every year. Dashed lines: counting-rule changes (April 2018, April 2020); shaded: not comparable"
        ),
        takeaway=takeaway,
        source=" ".join(filter(None, [_crime_source(context), context.register_note])),
    )
    built = trend_chart(
        rows.assign(name=rows["name"].map(display_text)), measure=context.measure, text=text, width=CHART_WIDTH
    )
    pending = _render_later(
        chart_spec(built.vconcat[0], text, width=CHART_WIDTH, title_width=CHART_WIDTH + 60, credit=context.credit)
    )
    data = pd.DataFrame(
        {
            "Area": rows["name"],
            "ONS code": rows["code"],
            "Period": rows["period"],
            f"Recorded {context.measure.noun}": rows["offences"].astype("Int64"),
            "Per 1,000 population (mid-2023)": rows["rate_all_ages"].round(3),
            "Comparable with the latest year": np.where(rows["comparable"], "Yes", "No (counting rules changed)"),
        }
    )
    alt_text = (
        f"Line chart of police recorded {context.measure.noun} per 1,000 population from {first} to {last}, one line "
        f"each for {', '.join(display_text(n) for n in names)}, told apart by colour, dash and a label at the end. "
        "Dashed vertical lines mark the counting-rule changes of April 2018 and April 2020. " + takeaway
    )
    sources = _dataset_sources(["recorded_crime", "forces"])
    return BriefingChart("trend", f"Trend: {context.measure.noun}", text, "", b"", data, sources, alt_text, pending)


SHARE_MEASURES = (
    ("forces", "Police force areas"),
    ("population", "People aged 16+ (mid-2023)"),
    ("offences", "Recorded stalking offences (8Q, latest year)"),
)


def class_shares(context: BriefingContext) -> pd.DataFrame:
    """Share of forces, of people aged 16+ and of recorded offences (the context's measure and period)
    in each provision class (classes are exclusive: each force counts once, in the best class it earned)."""
    table = context.table[["code", "provision_class", "pop_mid2023_16plus"]].copy()
    table["offences"] = table["code"].map(context.offences).astype(float)
    table["forces"] = 1.0
    table["population"] = table["pop_mid2023_16plus"].astype(float)
    rows = []
    for column, label in SHARE_MEASURES:
        total = table[column].sum()
        for key in PROVISION_CLASSES:
            value = table.loc[table["provision_class"] == key, column].sum()
            rows.append(
                {
                    "Measure": label.replace("latest year", context.period) if column == "offences" else label,
                    "Provision (best found)": PROVISION_CLASS_LABELS[key],
                    "class": key,
                    "Count": round(value),
                    "Total": round(total),
                    "Share": float(value / total) if total else 0.0,
                }
            )
    return pd.DataFrame(rows)


def _coverage_text(context: BriefingContext) -> ChartText:
    shares = context.shares.set_index("measure")
    # One label of a unique index each: a row.
    unit = cast(pd.Series, shares.loc["has_multi_agency_unit"])
    none = cast(pd.Series, shares.loc["no_specialist_service"])
    unknown = cast(pd.Series, shares.loc["unknown"])
    takeaway = (
        f"Force areas with a multi-agency stalking unit are home to {_percent(unit['population_16plus_share'])} of people "
        f"aged 16+ and recorded {_percent(unit['offences_share'])} of {context.measure.noun}; {_percent(none['population_16plus_share'])} "
        f"of people aged 16+ live where no local specialist service was found, and {_percent(unknown['population_16plus_share'])} "
        "where provision is unknown."
    )
    return ChartText(
        title="Who is covered: specialist stalking provision by share of areas, people and stalking offences",
        subtitle=(
            "Share of the 43 police force areas, of people aged 16+ (mid-2023) and of police recorded stalking "
            f"offences ({context.measure.code}, {context.period}) in each class, %"
        ),
        takeaway=takeaway,
        source=" ".join(filter(None, [_coverage_source(context), context.register_note])),
    )


def _coverage_plot(
    rows: pd.DataFrame, *, width: int, height: int, bar_height: int = 34, legend_columns: int = 2
) -> ChartType:
    """Three 100% stacked bars (areas, people, offences) split by provision class (``class_shares`` rows)."""
    plot = rows.assign(
        order=rows["class"].map({k: i for i, k in enumerate(PROVISION_CLASSES)}),
        label=[f"{s:.0%}" if s >= 0.05 else "" for s in rows["Share"]],
        dark=rows["class"].isin(DARK_FILL_CLASSES),
        dashed=rows["class"].eq("unknown"),
        Measure=rows["Measure"],
    )
    labels = [PROVISION_CLASS_LABELS[k] for k in PROVISION_CLASSES]
    colours = [PROVISION_CLASS[k].fill for k in PROVISION_CLASSES]
    base = alt.Chart(plot).encode(
        y=alt.Y(
            "Measure:N",
            title=None,
            sort=[m for _, m in SHARE_MEASURES],
            axis=alt.Axis(labelFontSize=12, labelLimit=0),  # never cut short
        ),
        x=alt.X("Share:Q", stack="normalize", title="Share (%)", axis=alt.Axis(format="%", grid=False)),
        order=alt.Order("order:Q"),
    )
    bars = base.mark_bar(height=bar_height, stroke="#333333", strokeWidth=0.6).encode(
        color=alt.Color(
            "Provision (best found):N",
            scale=alt.Scale(domain=labels, range=colours),
            legend=alt.Legend(
                title="Provision (best found in the force area)",
                orient="top",
                direction="vertical",
                columns=legend_columns,
                labelLimit=0,
                titleLimit=0,
                symbolType="square",
                symbolStrokeColor="#333333",
                symbolStrokeWidth=1,
                symbolSize=160,
            ),
        ),
        strokeDash=alt.condition("datum.dashed", alt.value([3, 2]), alt.value([1, 0])),
    )
    text_marks = base.mark_text(font=FONT, fontSize=12, fontWeight="bold", dx=-4, align="right").encode(
        x=alt.X("Share:Q", stack="normalize", bandPosition=1),
        text="label:N",
        color=alt.condition("datum.dark", alt.value("#FFFFFF"), alt.value("#000000")),
    )
    return alt.layer(bars, text_marks).properties(width=width, height=height)


def _coverage_chart(context: BriefingContext) -> BriefingChart:
    """The same for every pack (it is national), so it is drawn once per data version."""
    text = _coverage_text(context)
    takeaway = text.takeaway
    rows = class_shares(context)
    chart = _coverage_plot(rows, width=CHART_WIDTH, height=150)
    pending = _render_later(
        chart_spec(chart, text, width=CHART_WIDTH, title_width=CHART_WIDTH + 200, credit=context.credit)
    )
    data = (
        rows.drop(columns=["class"])
        .assign(Share=lambda f: (f["Share"] * 100).round(1))
        .rename(columns={"Share": "Share (%)"})
    )
    parts = []
    for _, measure in SHARE_MEASURES:
        part = rows[rows["Measure"] == measure]
        parts.append(
            f"{measure}: "
            + "; ".join(f"{p} {_percent(s)}" for p, s in zip(part["Provision (best found)"], part["Share"]))
            + "."
        )
    alt_text = (
        f"Three 100% stacked horizontal bars: police force areas, people aged 16+ and police recorded "
        f"{context.measure.noun} ({context.measure.code}), each split by the best specialist stalking provision found "
        "in the force area. " + " ".join(parts) + " " + takeaway
    )
    sources = _dataset_sources(["services", "forces", "recorded_crime"])
    return BriefingChart("coverage", "Coverage shares", text, "", b"", data, sources, alt_text, pending)


# ---------------------------------------------------------------------------------------------
# The headline chart for sharing: a square and a landscape PNG of an exact pixel size

FRAME_PADDING = 16  # titled()'s padding on each side


def _svg_size(svg: str) -> tuple[float, float]:
    found = re.search(r'<svg\b[^>]*?\bwidth="([\d.]+)"[^>]*?\bheight="([\d.]+)"', svg)
    if not found:
        raise RuntimeError("vl-convert drew an SVG without a width and height")
    return float(found.group(1)), float(found.group(2))


def _flush_footer(spec: dict[str, Any], indent: float, frame: int) -> dict[str, Any]:
    """``spec`` with its takeaway and source starting ``indent`` chart pixels left of the plot (under
    the axis, so they line up with the title at the frame's edge) and the footer's own width cut by
    as much: the words keep their wrapping to ``frame``."""
    spec = dict(spec)
    vconcat = list(spec["vconcat"])
    footer = dict(vconcat[-1])
    footer["width"] = max(1, round(frame - indent))
    footer["layer"] = [
        {**layer, "encoding": {**layer["encoding"], "x": {"value": -indent}}} for layer in footer["layer"]
    ]
    vconcat[-1] = footer
    spec["vconcat"] = vconcat
    return spec


def _render_share(
    build: Callable[[int, int], dict[str, Any]], size: tuple[int, int], scale: float
) -> tuple[str, bytes]:
    """Draw ``build(plot_width, plot_height)`` (a compiled ``titled`` spec whose words are wrapped to
    ``size`` / ``scale`` less the padding) as a PNG of exactly ``size`` pixels. A first drawing
    measures the axis left of the plot and everything above and below it; the second is sized to
    fill ``size`` / ``scale`` chart pixels (the words' wrapping does not change, so one correction
    is enough), and is drawn at that scale on a white canvas of the exact size. Returns the SVG
    drawn and the PNG."""
    from PIL import Image

    width, height = size
    goal_w, goal_h = width / scale, height / scale
    frame = int(goal_w) - 2 * FRAME_PADDING
    plot_w, plot_h = frame // 2, int(goal_h * 0.4)
    svg = renderer.vegalite_to_svg(build(plot_w, plot_h))
    got_w, got_h = _svg_size(svg)
    axis = max(0.0, got_w - 2 * FRAME_PADDING - max(plot_w, frame))  # the axis and labels left of the plot
    plot_w, plot_h = max(120, int(frame - axis)), max(60, int(plot_h + goal_h - got_h))
    svg = renderer.vegalite_to_svg(_flush_footer(build(plot_w, plot_h), axis, frame))
    got_w, got_h = _svg_size(svg)
    fit = min(width / got_w, height / got_h)
    drawn = Image.open(io.BytesIO(renderer.svg_to_png(svg, scale=fit))).convert("RGB")
    drawn = drawn.crop((0, 0, min(width, drawn.width), min(height, drawn.height)))
    canvas = Image.new("RGB", (width, height), "#FFFFFF")
    canvas.paste(drawn, ((width - drawn.width) // 2, (height - drawn.height) // 2))
    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=True)
    return svg, out.getvalue()


SHARE_FONT = 12  # the highlighted force's label and the England and Wales key, in chart pixels


def _rates_columns(context: BriefingContext, code: str | None, *, width: int, height: int) -> ChartType:
    """The ranked chart as columns, highest rate first, for the sharing images: the chosen force's
    column orange and labelled above the columns around it (a leader line down to its own), a
    dashed England and Wales line with its key in the empty top-right corner (the columns fall
    away to the right, so nothing is drawn over)."""
    ranking = context.ranking.dropna(subset=["rate_all_ages"]).sort_values("rate_all_ages", ascending=False)
    n = len(ranking)
    rates = ranking["rate_all_ages"].to_numpy(dtype=float)
    ceiling = float(rates.max()) * 1.4  # headroom for the labels
    per_px = ceiling / height  # rate units per chart pixel, up the plot
    column_px = width / n  # chart pixels per column across it
    position = np.arange(1, n + 1)
    highlight = (ranking["code"] == code).to_numpy() if code else np.zeros(n, dtype=bool)
    plot = pd.DataFrame(
        {
            "x0": position - 0.38,
            "x1": position + 0.38,
            "zero": 0.0,
            "rate": rates,
            "name": ranking["name"].map(display_text).to_numpy(),
            "highlight": highlight,
        }
    )
    x_scale = alt.Scale(domain=[0.5, n + 0.5], nice=False, zero=False)
    y_scale = alt.Scale(domain=[0, ceiling], nice=False)
    bars = (
        alt.Chart(plot)
        .mark_rect()
        .encode(
            x=alt.X(
                "x0:Q",
                scale=x_scale,
                axis=alt.Axis(
                    title=f"The {n} police force areas of England and Wales, highest rate first",
                    labels=False,
                    ticks=False,
                    grid=False,
                ),
            ),
            x2="x1:Q",
            y=alt.Y(
                "rate:Q",
                scale=y_scale,
                axis=alt.Axis(title="Offences per 1,000 population", format=".1f", tickCount=5, gridColor="#E6E6E6"),
            ),
            y2="zero:Q",
            color=alt.condition(alt.datum.highlight, alt.value(AF_ORANGE), alt.value(AF_DARK_BLUE)),
            stroke=alt.condition(alt.datum.highlight, alt.value("#000000"), alt.value(None)),
        )
    )
    ew = context.england_wales["rate_all_ages"]
    rule = (
        alt.Chart(pd.DataFrame({"rate": [ew]}))
        .mark_rule(color=AF_TEXT, strokeDash=[6, 4], strokeWidth=1.5)
        .encode(y=alt.Y("rate:Q", scale=y_scale))
    )
    key = f"England and Wales: {format_rate(ew)}"
    key_right = n + 0.5
    key_left = key_right - (text_width(key, SHARE_FONT) + 6) / column_px
    key_y = ceiling - 4 * per_px
    key_rows = pd.DataFrame(
        {"x": [key_right], "a": [key_left - 30 / column_px], "b": [key_left], "y": [key_y], "mid": [key_y - 7 * per_px]}
    )
    key_text = (
        alt.Chart(key_rows)
        .mark_text(align="right", baseline="top", font=FONT, fontSize=SHARE_FONT, color=AF_TEXT)
        .encode(x=alt.X("x:Q", scale=x_scale), y=alt.Y("y:Q", scale=y_scale), text=alt.value(key))
    )
    key_line = (
        alt.Chart(key_rows)
        .mark_rule(color=AF_TEXT, strokeDash=[6, 4], strokeWidth=1.5)
        .encode(x=alt.X("a:Q", scale=x_scale), x2="b:Q", y=alt.Y("mid:Q", scale=y_scale))
    )
    layers: list[alt.Chart] = [bars, rule, key_line, key_text]
    if highlight.any():
        at = int(np.flatnonzero(highlight)[0])  # 0-based: column at + 1
        label = f"{display_text(context.names[code or ''])}: {format_rate(rates[at])}"
        half = (text_width(label, SHARE_FONT, bold=True) / 2 + 2) / column_px
        centre = min(max(at + 1, 0.5 + half), n + 0.5 - half)
        covered = [j for j in range(n) if j + 1 + 0.38 >= centre - half and j + 1 - 0.38 <= centre + half]
        bottom = max(rates[j] for j in covered) + 8 * per_px
        label_rows = pd.DataFrame(
            {"x": [centre], "y": [bottom], "column": [at + 1.0], "from": [rates[at] + 2 * per_px], "to": [bottom]}
        )
        layers.append(
            alt.Chart(label_rows)
            .mark_text(align="center", baseline="bottom", font=FONT, fontSize=SHARE_FONT, fontWeight="bold")
            .encode(x=alt.X("x:Q", scale=x_scale), y=alt.Y("y:Q", scale=y_scale), text=alt.value(label))
        )
        if bottom - rates[at] > 6 * per_px:  # a leader line when the label sits above taller neighbours
            layers.append(
                alt.Chart(label_rows)
                .mark_rule(color="#000000", strokeWidth=1)
                .encode(x=alt.X("column:Q", scale=x_scale), y=alt.Y("from:Q", scale=y_scale), y2="to:Q")
            )
    return alt.layer(*layers).properties(width=width, height=height)


def _share_images(context: BriefingContext, code: str | None, headline: BriefingChart) -> list[ShareImage]:
    """The headline chart (``headline``: the force's ranked chart, or the coverage chart for England
    and Wales) as a square and a landscape PNG, each drawn in the background."""
    if code:
        name = display_text(context.names[code])
        n = int(context.ranking["rate_all_ages"].notna().sum())
        text = ChartText(
            title=f"{name}: police recorded {context.measure.noun} per 1,000 population",
            subtitle=(
                f"{n} police force areas, England and Wales, {context.period}; population all ages, mid-2023. "
                f"{context.measure.caveat}"
            ),
            takeaway=headline.text.takeaway,
            source=headline.text.source,
        )
        alt_text = (
            f"Column chart of police recorded {context.measure.noun} per 1,000 population in the {n} police force areas "
            f"of England and Wales, {context.period}, highest first. {name}'s column is orange and labelled; a dashed "
            f"line marks England and Wales at {format_rate(context.england_wales['rate_all_ages'])}. "
            + headline.text.takeaway
        )

    else:
        text, alt_text = headline.text, headline.alt_text
        rows = class_shares(context)
    legend_columns = {"square": 1, "landscape": 2}  # the coverage key's columns: one where the image is narrow

    images = []
    for shape, (size, scale) in SHARE_FORMATS.items():
        frame = int(size[0] / scale) - 2 * FRAME_PADDING  # the words' width, in chart pixels

        def build(width: int, height: int, frame: int = frame, shape: str = shape) -> dict[str, Any]:
            chart: ChartType
            if code:
                chart = _rates_columns(context, code, width=width, height=height)
            else:
                bar = max(24, min(60, int(height / 3 * 0.6)))
                chart = _coverage_plot(
                    rows, width=width, height=height, bar_height=bar, legend_columns=legend_columns[shape]
                )
            return chart_spec(chart, text, width=frame, title_width=frame, credit=context.credit)

        image = ShareImage(headline.key, shape, text, alt_text)
        image.pending = _RENDERER.submit(_render_share, build, size, scale)
        images.append(image)
    return images


def _scenario_chart(
    context: BriefingContext, code: str | None, scenario_id: str
) -> tuple[BriefingChart, dict[str, str]]:
    from coverage.outputs.scenario_charts import cost_by_year_chart
    from coverage.planner.costing import counts_as_multi_agency_unit, run_scenario, with_deployments
    from coverage.planner.demand import demand_offences
    from coverage.planner.schema import load_preset

    preset = load_preset(scenario_id)
    table = context.table
    existing = table.loc[table["has_multi_agency_unit"].astype(bool), "code"].tolist()
    if code:
        targets = [code]
        where = display_text(context.names[code])
        placement = f"one unit in {where}"
    else:
        targets = [c for c in table["code"] if c not in existing]
        where = NATIONAL_NAME
        placement = f"one unit in each of the {len(targets)} force areas where no multi-agency stalking unit was found"
    if not targets:
        raise InputError("every force area already has a multi-agency stalking unit: nothing to cost", where="scenario")
    scenario = with_deployments(preset, targets)
    basis = demand_offences(scenario, context.data.crime, context.data.indicators)
    result = run_scenario(scenario, context.data.forces, basis.offences, existing_units=existing)
    totals = result.totals
    by_year = result.by_year
    price_base = result.price_base
    takeaway = (
        f"{money(totals['steady_annual_cost_real'])} a year when fully staffed ({price_base}); "
        f"{money(totals['total_cost_real'])} over {totals['horizon_years']} years in real terms, "
        f"{money(totals['total_cost_nominal'])} in cash; present value {money(totals['present_value'])} at "
        f"{totals['discount_rate']:.1%}. {totals['fte_total']:,.1f} full-time equivalent staff."
    )
    if code and code in existing:
        if counts_as_multi_agency_unit(preset.unit_models[0]):
            takeaway += (
                f" {where} already has a multi-agency stalking unit: this is the modelled cost of running one like it."
            )
        else:
            takeaway += (
                f" {where} already has a multi-agency stalking unit; this is the cost of adding "
                f"“{display_text(preset.name)}” beside it."
            )
    text = ChartText(
        title=f"Cost by year: {display_text(preset.name)}",
        subtitle=(
            f"Modelled cost of {placement}, £ a year, {totals['first_year']} to {totals['last_year']}: in cash "
            f"(nominal) and in real terms ({price_base})"
        ),
        takeaway=takeaway,
        source=(
            f"Stalking Provision Atlas cost model, preset '{scenario_id}': every input cites its source or is marked as an "
            f"assumption (see the sources sheet). Demand: referrals a year per {basis.description}. "
            "Discounting: HM Treasury Green Book. "
            + ONS_ATTRIBUTION
            + (" " + context.register_note if context.register_note else "")
        ),
    )
    built = cost_by_year_chart(by_year, price_base=price_base, text=text, width=CHART_WIDTH)
    pending = _render_later(
        chart_spec(built.vconcat[0], text, width=CHART_WIDTH, title_width=CHART_WIDTH + 60, credit=context.credit)
    )
    data = pd.DataFrame(
        {
            "Financial year": by_year["fiscal_year"],
            f"Real cost, £ ({price_base})": by_year["cost_real"].round(2),
            "Cash (nominal) cost, £": by_year["cost_nominal"].round(2),
            "Full-time equivalent staff": by_year["fte"].round(3),
            "Discount factor": by_year["discount_factor"].round(6),
            f"Present value, £ ({price_base})": by_year["pv"].round(2),
        }
    )
    alt_text = (
        f"Line chart of the modelled yearly cost of {placement} ({display_text(preset.name)}), from "
        f"{totals['first_year']} to {totals['last_year']}: a solid line with circles gives the cash cost, a dashed line "
        f"with squares the real cost at {price_base}. Year 1 ({totals['first_year']}): {money(totals['year1_cost_real'])} real. "
        + takeaway
    )
    sources = pd.concat([_scenario_sources(scenario), _dataset_sources(["indicators", "forces"])], ignore_index=True)
    chart_piece = BriefingChart(
        "scenario-cost", "Scenario cost by year", text, "", b"", data, sources, alt_text, pending
    )
    summary = {
        "name": display_text(preset.name),
        "placement": placement,
        "takeaway": takeaway,
        "scenario_id": scenario_id,
    }
    return chart_piece, summary


# ---------------------------------------------------------------------------------------------
# Services: what exists and what does not (never an address)


def services_table(context: BriefingContext, code: str | None) -> pd.DataFrame:
    """Local specialist services of a force (or of every force, for England and Wales), then the
    national services every area can use. Fields that could hold a location are left out."""
    register = context.data.register
    local = services_for_force(register, code, include_national=True) if code else register
    local = local[local["service_type"].ne("none_found") & local["service_type"].ne("funding_stream")]
    national = local["force_codes"].eq(NATIONAL_FORCE_CODES)
    areas = [
        "All areas (national)"
        if cell == NATIONAL_FORCE_CODES
        else "; ".join(context.names.get(c, c) for c in split_list(cell))
        for cell in local["force_codes"]
    ]
    years = [
        (f"{s}–{e}" if str(e).strip() else f"from {s}")
        if str(s).strip()
        else ("start unknown" + (f"–{e}" if str(e).strip() else ""))
        for s, e in zip(local["start_year"], local["end_year"])
    ]
    table = pd.DataFrame(
        {
            # Status and years straight after the name: an ended service must not read as a current one.
            "Service": [without_postcodes(v) for v in local["service_name"]],
            "Status": local["status"].map(STATUS_LABELS).fillna(local["status"]).to_numpy(),
            "Years": years,
            "Type": local["service_type"].map(SERVICE_TYPE_LABELS).fillna(local["service_type"]).to_numpy(),
            "Provider": [without_postcodes(v) or "not recorded" for v in local["provider"]],
            "Force area(s) covered": areas,
            "Coverage": local["coverage"].map(COVERAGE_LABELS).fillna(local["coverage"]).to_numpy(),
            "Confidence": local["confidence"].to_numpy(),
            "Last verified": local["last_verified"].to_numpy(),
            "Sources": local["source_ids"].str.replace(";", ", ").to_numpy(),
            "_national": national.to_numpy(),
        }
    )
    return table.sort_values("_national", kind="stable").drop(columns="_national").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# The one-page PDF


PDF_MAP_LAYOUT = MapLayout(map_height=600, legend=False, label=False)


def _pdf_map(context: BriefingContext) -> tuple[list[MapShape], list[list[tuple[float, float]]]]:
    """The PDF's map as vector shapes (fills, dashed unknown outlines, hatching): the same for
    every pack; the PDF draws the chosen force's outline over it."""
    from coverage.outputs.pdf import MapShape

    layout = PDF_MAP_LAYOUT

    def fractions(coords: Iterable[Sequence[float]]) -> list[tuple[float, float]]:
        points = [layout.pixel(x, y) for x, y in coords]
        return [(round(px / layout.width, 5), round(py / layout.height, 5)) for px, py in points]

    shapes = []
    for feature in context.base.features:
        geometry = feature["geometry"]
        polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        klass = feature["properties"]["class"]
        shapes.append(
            MapShape(
                fill=PROVISION_CLASS[klass].fill,
                dashed=klass == "unknown",
                rings=[fractions(ring) for polygon in polygons for ring in polygon],
            )
        )
    shapes.sort(key=lambda shape: shape.dashed)  # dashed outlines last, so neighbours do not cover them
    hatch = []
    for feature in context.base.hatch:
        geometry = feature["geometry"]
        lines = {"LineString": [geometry.get("coordinates")], "MultiLineString": geometry.get("coordinates")}.get(
            geometry["type"], []
        )
        hatch += [fractions(line) for line in lines if line and len(line) >= 2]
    return shapes, hatch


def _outline(base: MapBase, layout: MapLayout, code: str) -> list[list[tuple[float, float]]]:
    """Rings of a force's shape as fractions of the map image's width and height (y down)."""
    rings: list[list[tuple[float, float]]] = []
    for feature in base.features:
        if feature["properties"]["code"] != code:
            continue
        geometry = feature["geometry"]
        polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        for polygon in polygons:
            for ring in polygon:
                points = [layout.pixel(x, y) for x, y in ring]
                rings.append([(px / layout.width, py / layout.height) for px, py in points])
    return rings


def _pdf_content(
    context: BriefingContext, code: str | None, scenario: dict[str, str] | None, services: pd.DataFrame
) -> BriefingPage:
    from coverage.outputs.pdf import BriefingPage, Headline, ListItem

    table = context.table.set_index("code")
    counts = _class_counts(context)
    shares = context.shares.set_index("measure")
    ew = context.england_wales
    layout = PDF_MAP_LAYOUT
    map_shapes, map_hatch = _shared(context, ("pdf-map",), lambda: _pdf_map(context))
    marker, outline = None, []
    if code and code in context.base.points:
        px, py = layout.pixel(*context.base.points[code])
        marker = (px / layout.width, py / layout.height)
        outline = _outline(context.base, layout, code)
    legend = [
        (PROVISION_CLASS_LABELS[k] + f" ({int(counts.get(k, 0))})", PROVISION_CLASS[k].fill, k)
        for k in PROVISION_CLASSES
    ]
    local_services = services[~services["Force area(s) covered"].eq("All areas (national)")]
    national_services = services[services["Force area(s) covered"].eq("All areas (national)")]

    def item(row: pd.Series) -> ListItem:
        detail = f"{row['Type']} · {row['Status']} · confidence {row['Confidence']} · {row['Years']}"
        return ListItem(short_service_name(row["Service"]), detail)

    if code:
        # One label of a unique index each: a row.
        row = cast(pd.Series, table.loc[code])
        name = display_text(context.names[code])
        ranked = cast(pd.Series, context.ranking.set_index("code").loc[code])
        klass = row["provision_class"]
        title = f"Specialist stalking services: {name}"
        if klass == "unknown":
            message = (
                f"{name}: provision unknown. The research search did not cover this force area in enough depth to say "
                "whether a multi-agency stalking unit or clinic exists. Unknown is not the same as none."
            )
        else:
            message = f"{name}: {PROVISION_CLASS_LABELS[klass].lower()}."
        rank = "" if pd.isna(ranked["rank"]) else f"{_ordinal(int(ranked['rank']))} highest of 43"
        headlines = [
            Headline("Best provision found", PROVISION_CLASS_LABELS[klass], "service register, early 2026", small=True),
            Headline("People, all ages", _count(row["pop_mid2023"]), "ONS, mid-2023"),
            Headline(
                f"{context.measure.name} offences*", _count(ranked["offences"]), f"police recorded, {context.period}"
            ),
            Headline(
                "Per 1,000 population*",
                format_rate(ranked["rate_all_ages"]),
                f"England and Wales {format_rate(ew['rate_all_ages'])}; {rank}",
            ),
        ]
        exists_heading = f"What exists in {name}"
        exists = [item(r) for _, r in local_services.iterrows()]
        if not exists:
            exists = [
                ListItem("No local specialist service found", "")
                if klass != "unknown"
                else ListItem(
                    "Nothing recorded either way", "The research search did not cover this force area in depth."
                )
            ]
        missing = []
        if klass == "unknown":
            missing.append(ListItem("Not known", "Unknown is not the same as none: nothing is claimed either way."))
        else:
            for column, label in ((s.flag, s.noun) for s in LOCAL_SERVICE_TYPES):
                if not bool(row[column]):
                    missing.append(ListItem(f"No current {label} found", ""))
        national_heading = "National services every area can use"
        national = [item(r) for _, r in national_services.iterrows()]
        cited = sorted({s.strip() for cell in local_services["Sources"] for s in str(cell).split(",") if s.strip()})
    else:
        # One label of a unique index each: a row.
        unit = cast(pd.Series, shares.loc["has_multi_agency_unit"])
        none = cast(pd.Series, shares.loc["no_specialist_service"])
        title = "Specialist stalking services: England and Wales"
        message = (
            f"{int(counts.get('multi_agency_unit', 0))} of {len(table)} police force areas have a multi-agency stalking unit, "
            f"home to {_percent(unit['population_16plus_share'])} of people aged 16+. In "
            f"{int(counts.get('national_only', 0))} areas, home to {_percent(none['population_16plus_share'])} of people "
            "aged 16+, no local specialist service was found."
        )
        headlines = [
            Headline(
                "Force areas with a multi-agency stalking unit",
                f"{int(counts.get('multi_agency_unit', 0))} of {len(table)}",
                f"{_percent(unit['population_16plus_share'])} of people aged 16+",
            ),
            Headline(
                "Force areas with no local specialist service found",
                f"{int(counts.get('national_only', 0))} of {len(table)}",
                f"{_percent(none['population_16plus_share'])} of people aged 16+",
            ),
            Headline(f"{context.measure.name} offences*", _count(ew["offences"]), f"police recorded, {context.period}"),
            Headline("Per 1,000 population*", format_rate(ew["rate_all_ages"]), f"England and Wales, {context.period}"),
        ]
        exists_heading = "What exists: force areas by kind of local service"
        exists = []
        for column, label in ((s.flag, s.noun) for s in LOCAL_SERVICE_TYPES):
            members = table.index[table[column].astype(bool)]
            exists.append(
                ListItem(
                    f"{label[0].upper()}{label[1:]}: {len(members)} of {len(table)} areas",
                    _names(sorted(context.names[c] for c in members))
                    if len(members) <= 8
                    else f"{len(members)} areas: see the map and data",
                )
            )
        missing = [
            ListItem(
                f"No local specialist service found: {int(counts.get('national_only', 0))} areas",
                _names(sorted(context.names[c] for c in table.index[table["provision_class"] == "national_only"])),
            ),
            ListItem(
                f"Unknown, not searched: {int(counts.get('unknown', 0))}",
                _names(sorted(context.names[c] for c in table.index[table["provision_class"] == "unknown"]))
                + ". Unknown is not the same as none.",
            ),
        ]
        national_heading = "National services every area can use"
        national = [item(r) for _, r in national_services.iterrows()]
        cited = []
    fresh = context.freshness.set_index("code")
    if code:
        entry = cast(pd.Series, fresh.loc[code])  # one label of a unique index: a row
        flag = f" (older than {STALE_AFTER_MONTHS} months: services may have changed since)" if entry["stale"] else ""
        evidence = (
            f"Evidence: the register last looked on {entry['last_looked'] or 'no date'}; newest evidence "
            f"{entry['newest_evidence'] or 'undated'}{flag}."
        )
    else:
        stale = int(fresh["stale"].sum())
        evidence = (
            f"Evidence: in {stale} of {len(fresh)} areas the newest evidence is older than {STALE_AFTER_MONTHS} "
            "months, so services there may have changed since; each area's dates are in the services data file."
        )
    notes = [
        evidence,
        f"* Police recorded stalking (offence code 8Q), not the wider stalking and harassment group. Counting-rule "
        f"changes in April 2018 and 2020 mean years before {FIRST_COMPARABLE_YEAR} are not comparable. Rates: per "
        "1,000 people of all ages, ONS mid-2023.",
        f"{NOT_PROOF} {NO_ADDRESSES}",
    ]
    sources = [
        ONS_ATTRIBUTION,
        f"Offences: Home Office police recorded crime open data tables, {context.period}; contains public sector "
        f"information licensed under the {OGL_V3}. Population: ONS mid-2023. Boundaries: ONS Police Force Areas "
        "(December 2023), simplified.",
        "Services: Stalking Provision Atlas service register ("
        + SNAPSHOT
        + ")"
        + (f"; sources for this area: {', '.join(cited)}" if cited else "")
        + ". Full details in the data files that come with this briefing.",
    ]
    if context.register_note:
        sources.insert(0, context.register_note)
    if scenario:
        sources.append(
            f"Cost model: Stalking Provision Atlas, preset '{scenario['scenario_id']}'; each input cites its source or is marked "
            "as an assumption (see the scenario-cost data file)."
        )
    return BriefingPage(
        title=title,
        subtitle=(
            (context.register_note + " · " if context.register_note else "")
            + "One-page briefing from the Stalking Provision Atlas · "
            + SNAPSHOT
            + f" · offences {context.period} · "
            "population mid-2023"
        ),
        message=message,
        headlines=headlines,
        map_shapes=map_shapes,
        map_hatch=map_hatch,
        map_aspect=layout.height / layout.width,
        marker=marker,
        outline=outline,
        marker_label=(display_text(context.names[code]) if code else None),
        legend=legend,
        exists_heading=exists_heading,
        exists=exists,
        missing_heading="What was not found",
        missing=missing,
        national_heading=national_heading,
        national=national,
        scenario_heading=(f"Cost of {scenario['placement']}" if scenario else None),
        scenario_lines=([scenario["name"] + ": " + scenario["takeaway"]] if scenario else []),
        notes=notes,
        sources=sources,
        map_alt=_map_alt(context, code),
        credit=context.credit,
    )


# ---------------------------------------------------------------------------------------------
# The pack


def _check_code(context: BriefingContext, force_code: str | None) -> str | None:
    if force_code is None or str(force_code).strip() == "":
        return None
    code = str(force_code).strip()
    if code not in context.names:
        shown = display_text(code)[:60]
        raise InputError(
            f"unknown force code '{shown}': use one of the 43 ONS police force area codes (E23000001–E23000039, "
            "W15000001–W15000004), e.g. E23000006 for Cheshire, or none for England and Wales",
            where="force",
        )
    return code


def _readme(pack: BriefingPack) -> bytes:
    lines = [
        f"Briefing pack: {display_text(pack.area_name)}",
        pack.credit,
        *([pack.register_note] if pack.register_note else []),
        "",
        ONS_ATTRIBUTION,
        HOME_OFFICE_ATTRIBUTION,
        DEMAND_NOTE,
        NOT_PROOF,
        NO_ADDRESSES,
        "",
        "Files",
        f"- {pack.pdf_name}: one-page A4 briefing",
    ]
    for chart in pack.charts:
        names = chart.file_names(pack.stem)
        lines.append(
            f"- {names['png']} (PNG, {PNG_SCALE}x), {names['svg']} (SVG): {chart.text.title}; data behind it: "
            f"{names['csv']}, {names['xlsx']} (with a sources sheet)"
        )
        for image in pack.share:
            if image.chart_key == chart.key:
                width, height = image.size
                lines.append(
                    f"- {image.file_name(pack.stem)} (PNG, {width}x{height} pixels, {image.shape}): the same chart for "
                    "sharing, its title, takeaway, source and licence inside the image"
                )
    lines += [
        f"- {pack.stem}-services.csv, {pack.stem}-services.xlsx: the services listed in the briefing (no addresses)",
        "",
    ]
    lines.append("Alt text (for copying next to each chart)")
    for chart in pack.charts:
        lines += ["", f"{chart.file_names(pack.stem)['png']}:", chart.alt_text]
    for image in pack.share:
        lines += ["", f"{image.file_name(pack.stem)}:", image.alt_text]
    return ("\n".join(lines) + "\n").encode("utf-8")


def build_briefing(
    data: AtlasData,
    force_code: str | None = None,
    scenario_id: str | None = None,
    *,
    context: BriefingContext | None = None,
    edited_register: str | None = None,
) -> BriefingPack:
    """The whole pack for one force (ONS code) or, with ``force_code`` None, England and Wales.

    ``edited_register`` names a user-edited register in ``data``: every file then says so and the
    file names end "-edited". Raises ``InputError`` for an unknown force code or scenario preset id.
    """
    from coverage.outputs.pdf import render_pdf

    if context is not None and (context.edited_register or None) != (edited_register or None):
        raise ValueError("edited_register must match the context's: build the context with it")
    context = context or briefing_context(data, edited_register)
    code = _check_code(context, force_code)
    scenario_id = (scenario_id or "").strip() or None
    if scenario_id:
        from coverage.planner.schema import load_preset

        load_preset(scenario_id)  # an unknown preset is refused before anything is drawn
    charts = [
        _map_chart(context, code),
        _rates_chart(context, code)
        if code
        else _shared(context, ("rates", None), lambda: _rates_chart(context, None).ready()),
        _trend_chart(context, code)
        if code
        else _shared(context, ("trend", None), lambda: _trend_chart(context, None).ready()),
        _shared(context, ("coverage",), lambda: _coverage_chart(context).ready()),
    ]
    # The headline chart, also drawn square and landscape for sharing: where the force stands among
    # all 43 for a force's pack; who is covered for England and Wales.
    share = _share_images(context, code, charts[1] if code else charts[3])
    scenario_summary = None
    if scenario_id:
        scenario_chart, scenario_summary = _scenario_chart(context, code, scenario_id)
        charts.append(scenario_chart)
    services = services_table(context, code)
    page = _pdf_content(context, code, scenario_summary, services)
    pdf = render_pdf(page)
    area = context.names[code] if code else NATIONAL_NAME
    stem = (
        f"briefing-{code or NATIONAL_SLUG}"
        + (f"-{scenario_id}" if scenario_id else "")
        + ("-edited" if context.edited_register else "")
    )
    all_sources = pd.concat([c.sources for c in charts], ignore_index=True).drop_duplicates().reset_index(drop=True)
    pack = BriefingPack(
        code=code,
        area_name=area,
        stem=stem,
        scenario_id=scenario_id,
        charts=charts,
        services=services,
        pdf=pdf,
        sources=all_sources,
        register_note=context.register_note,
        share=share,
        credit=context.credit,
    )
    tables = {
        chart.key: (
            csv_bytes(chart.data),
            xlsx_bytes(
                [("Data", chart.data), ("Sources", chart.sources), ("About", _about_sheet(chart.text, chart.alt_text))]
            ),
        )
        for chart in charts
    }
    files: dict[str, bytes] = {pack.pdf_name: pdf}
    for chart in charts:
        names = chart.file_names(stem)
        chart.ready()
        files[names["png"]] = chart.png
        files[names["svg"]] = chart.svg.encode("utf-8")
        files[names["csv"]], files[names["xlsx"]] = tables[chart.key]
        for image in share:
            if image.chart_key == chart.key:
                files[image.file_name(stem)] = image.ready().png
    service_sources = pd.concat(
        [
            _dataset_sources(["services"]),
            _register_sources(
                context.data.sources,
                sorted({s.strip() for cell in services["Sources"] for s in str(cell).split(",") if s.strip()}),
            ),
        ],
        ignore_index=True,
    )
    files[f"{stem}-services.csv"] = csv_bytes(services)
    about_services = pd.DataFrame(
        {
            "Item": ["Register"],
            "Text": [
                context.register_note or "The published Stalking Provision Atlas service register (" + SNAPSHOT + ")."
            ],
        }
    )
    files[f"{stem}-services.xlsx"] = xlsx_bytes(
        [("Services", services), ("Sources", service_sources), ("About", about_services)]
    )
    pack.files = files
    files[f"{stem}-README.txt"] = _readme(pack)
    return pack


def write_briefing(
    out_dir: Path,
    force_code: str | None,
    data: AtlasData,
    *,
    scenario_id: str | None = None,
    context: BriefingContext | None = None,
) -> list[Path]:
    """Write one pack's files and its zip into ``out_dir`` (created if needed); return their paths,
    the zip last. File names start ``briefing-<ONS code>`` (or ``briefing-england-and-wales``), so
    a loop over all 43 forces can share one folder."""
    pack = build_briefing(data, force_code, scenario_id, context=context)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in pack.files.items():
        path = out_dir / name
        path.write_bytes(content)
        written.append(path)
    zip_path = out_dir / pack.zip_name
    zip_path.write_bytes(pack.zip_bytes())
    written.append(zip_path)
    return written


def _write_some(
    out_dir: Path, codes: list[str | None], data: AtlasData, scenario_id: str | None
) -> list[tuple[str | None, list[Path]]]:
    context = briefing_context(data)
    return [(code, write_briefing(out_dir, code, data, scenario_id=scenario_id, context=context)) for code in codes]


def write_all_briefings(
    out_dir: Path,
    data: AtlasData,
    *,
    scenario_id: str | None = None,
    national: bool = True,
    workers: int = 1,
) -> list[Path]:
    """Every force's pack (and, with ``national``, England and Wales's first) into one folder.

    The national work is shared within each worker. ``workers`` > 1 splits the forces between that
    many processes (vl-convert renders one chart at a time per process); each pays a second or two
    to start, so it helps for a whole batch, not for one pack.
    """
    # The forces' names straight from the data: building the context here would start a drawing process
    # that, with workers, nothing in this process uses.
    codes: list[str | None] = ([None] if national else []) + sorted(force_names(data.forces))
    out_dir = Path(out_dir)
    if workers <= 1:
        done = _write_some(out_dir, codes, data, scenario_id)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        chunks = [codes[i::workers] for i in range(workers)]
        # "spawn": vl-convert runs threads of its own, which a forked child must not inherit. Each worker
        # draws its own charts: it serves no one else, so a drawing process of its own would gain nothing.
        with ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("spawn"), initializer=renderer.draw_in_this_process
        ) as pool:
            futures = [pool.submit(_write_some, out_dir, chunk, data, scenario_id) for chunk in chunks if chunk]
            done = [item for future in futures for item in future.result()]
    by_code = dict(done)
    return [path for code in codes for path in by_code[code]]
