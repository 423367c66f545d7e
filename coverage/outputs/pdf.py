"""The one-page A4 briefing as a PDF (fpdf2), laid out from plain content (``BriefingPage``).

Text is real PDF text in Liberation Sans (DejaVu Sans as fallback for other scripts), embedded
as a Unicode subset, so "£", "–", "’", "ô" and names in other alphabets print and can be copied or
searched. Nothing is smaller than 9 pt. Data text is laid out as plain text (no markdown or
markup). If the content is too long for one page, the longest lists are shortened, each ending
with a line that says how many more are in the data files: the page never spills onto a second.

The PDF is tagged for assistive technology (PDF/UA-1, ISO 14289-1): a structure tree in reading
order (the title as H1, section headings as H2, paragraphs, lists as L > LI > LBody, the map as a
Figure with alternate text), every decoration (panels, bullets, swatches, rules) marked as an
artifact, the document language (en-GB), the title shown in the viewer's title bar, and XMP
metadata with the PDF/UA identifier. fpdf2 2.8's public API sets the language and title and tags
images and outline headings (always as /Figure, all flat under /Document); it has no public call
to tag text, lists or artifacts, so ``_Tags`` builds the rest with fpdf2's own structure-tree
classes (``fpdf.structure_tree``, internal to fpdf2: requirements pin fpdf2 to 2.8, and
tests/test_briefing.py checks the tree, the marked content and the metadata of every pack).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from xml.sax.saxutils import escape

from fpdf.structure_tree import StructElem, StructureTreeBuilder

from coverage.outputs.static_map import FONT_FILES, display_text, font_file
from coverage.vocabulary import HATCHED_CLASSES

if TYPE_CHECKING:
    from fpdf import FPDF
    from fpdf.encryption import StandardSecurityHandler
    from fpdf.syntax import PDFObject

PAGE_W, PAGE_H = 210.0, 297.0
MARGIN = 12.0
BOTTOM = PAGE_H - 10.0
FOOTER_GAP = 5.0  # the credit line at the foot of the page ends this far above the paper's edge
LANGUAGE = "en-GB"
CONTENT_W = PAGE_W - 2 * MARGIN
LEFT_W = 90.0
GUTTER = 6.0
RIGHT_X = MARGIN + LEFT_W + GUTTER
RIGHT_W = PAGE_W - MARGIN - RIGHT_X
MIN_PT = 9.0
PT_TO_MM = 25.4 / 72

DARK_BLUE = (18, 67, 109)
ORANGE = (244, 106, 37)
TEXT = (61, 61, 61)
BLACK = (0, 0, 0)
PANEL = (242, 242, 242)


@dataclass
class Headline:
    label: str
    value: str
    note: str = ""
    small: bool = False  # a long value (a class name) set smaller than a number


@dataclass
class ListItem:
    name: str
    detail: str = ""


@dataclass
class MapShape:
    """One force area on the PDF's map: fill, dashed outline or not, rings as fractions of the
    map's width and height (y down)."""

    fill: str
    dashed: bool
    rings: list[list[tuple[float, float]]]


@dataclass
class BriefingPage:
    title: str
    subtitle: str
    message: str
    headlines: list[Headline]
    map_shapes: list[MapShape]  # drawn as vector paths, so the map prints sharp at any size
    map_hatch: list[list[tuple[float, float]]]  # hatching lines, in the same fractions
    map_aspect: float  # height / width of the map
    marker: tuple[float, float] | None  # the chosen force's point, as fractions of the image's width and height
    outline: list[list[tuple[float, float]]]  # the chosen force's rings, in the same fractions
    marker_label: str | None
    legend: list[tuple[str, str, str]]  # (label, fill colour, class)
    exists_heading: str
    exists: list[ListItem]
    missing_heading: str
    missing: list[ListItem]
    national_heading: str
    national: list[ListItem]
    scenario_heading: str | None
    scenario_lines: list[str]
    notes: list[str]
    sources: list[str]
    keywords: Sequence[str] = field(default_factory=tuple)
    map_alt: str = ""  # the map's alternate text, read out in its place
    credit: str = ""  # "From the Stalking Provision Atlas[: address]", at the foot of the page


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


@lru_cache(maxsize=4)
def _glyphs(path: str) -> frozenset[int]:
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]  # fontTools ships no type information

    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap())


def _needs_fallback(texts: Sequence[str]) -> bool:
    """True when some character is not in the main font (e.g. a name in another script)."""
    regular = font_file(False)
    if regular is None:
        return False
    glyphs = _glyphs(regular)
    return any(ord(ch) not in glyphs for text in texts for ch in text if not ch.isspace())


class _Element(StructElem):
    """A structure element that may sit below another (fpdf2 puts every element straight under
    /Document and gives only those their page, /Pg): a nested one takes its page from the
    element above it under /Document when the file is written."""

    __slots__ = ()

    def _build_obj_dict(self, security_handler: StandardSecurityHandler | None = None) -> dict[str, object]:
        top: StructElem = self
        while isinstance(top.p, StructElem) and top.p.s != "/Document":
            top = top.p
        if self.pg is None:
            self.pg = top.pg
        return super()._build_obj_dict(security_handler)


class _TreeBuilder(StructureTreeBuilder):
    """fpdf2's structure tree, written out to any depth (fpdf2 writes only /Document's children)."""

    def __iter__(self) -> Iterator[PDFObject]:
        yield self.struct_tree_root
        yield self.doc_struct_elem
        yield self.struct_tree_root.parent_tree

        def below(element: StructElem) -> Iterator[PDFObject]:
            for kid in element.k:
                if isinstance(kid, StructElem):
                    yield kid
                    yield from below(kid)

        yield from below(self.doc_struct_elem)


class _Tags:
    """The page's structure tree in reading order, and the marked content that ties text and
    drawings to it (or marks them as artifacts). One page: marked-content ids count from 0."""

    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf
        self.builder = _TreeBuilder()
        pdf.struct_builder = self.builder
        self.next_mcid = 0
        self.spid: int | None = None

    def element(self, kind: str, parent: StructElem | None = None, alt: str | None = None) -> StructElem:
        """A new element ``kind`` (a standard structure type: H1, P, L, LI, LBody, Figure) as the last
        child of ``parent`` (default /Document), so the tree's order is the reading order."""
        parent = parent or self.builder.doc_struct_elem
        element = _Element(struct_type=f"/{kind}", parent=parent, kids=[], page_number=self.pdf.page, alt=alt)
        parent.k.append(element)
        return element

    @contextmanager
    def marked(self, element: StructElem) -> Iterator[None]:
        """What is drawn inside belongs to ``element``."""
        if self.spid is None:  # the page's entry in the parent tree, made with the first marked content
            self.spid = len(self.builder.spid_per_page_number)
            self.builder.spid_per_page_number[self.pdf.page] = self.spid
            self.pdf.pages[self.pdf.page].struct_parents = self.spid
        mcid = self.next_mcid
        self.next_mcid += 1
        element.k.append(mcid)
        self.builder.struct_tree_root.parent_tree.nums[self.spid].append(element)  # index = mcid
        self.pdf._out(f"{element.s} <</MCID {mcid}>> BDC")
        yield
        self.pdf._out("EMC")

    @contextmanager
    def artifact(self) -> Iterator[None]:
        """What is drawn inside is decoration (a panel, a bullet, a swatch, a rule): not read out."""
        self.pdf._out("/Artifact BMC")
        yield
        self.pdf._out("EMC")


def _xml_text(text: str) -> str:
    """Text as XML character data: escaped, without the control characters XML 1.0 forbids."""
    return escape(display_text(text))  # display_text turns control characters into spaces


def _xmp(title: str, subject: str, keywords: str, creator: str) -> str:
    """XMP metadata for PDF/UA-1: the PDF/UA identifier (pdfuaid:part 1) and the title (dc:title)."""
    return f"""<x:xmpmeta xmlns:x="adobe:ns:meta/">
  <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
    <rdf:Description rdf:about=""
        xmlns:dc="http://purl.org/dc/elements/1.1/"
        xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
        xmlns:xmp="http://ns.adobe.com/xap/1.0/"
        xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/">
      <pdfuaid:part>1</pdfuaid:part>
      <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{_xml_text(title)}</rdf:li></rdf:Alt></dc:title>
      <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{_xml_text(subject)}</rdf:li></rdf:Alt></dc:description>
      <dc:creator><rdf:Seq><rdf:li>{_xml_text(creator)}</rdf:li></rdf:Seq></dc:creator>
      <dc:language><rdf:Bag><rdf:li>{LANGUAGE}</rdf:li></rdf:Bag></dc:language>
      <pdf:Keywords>{_xml_text(keywords)}</pdf:Keywords>
      <xmp:CreatorTool>{_xml_text(creator)} (coverage.outputs.pdf)</xmp:CreatorTool>
    </rdf:Description>
  </rdf:RDF>
</x:xmpmeta>"""


class _Page:
    """An fpdf2 document with the atlas's fonts, its structure tree and a few text helpers."""

    def __init__(self, fallback: bool = False) -> None:
        from fpdf import FPDF

        logging.getLogger("fpdf").setLevel(logging.ERROR)  # missing-glyph notices for exotic scripts
        pdf = FPDF(orientation="P", unit="mm", format="A4")
        pdf.set_auto_page_break(False)
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        regular, bold = font_file(False), font_file(True)
        if regular is None:
            raise RuntimeError("no Unicode TTF font found: install fonts-liberation or fonts-dejavu-core")
        pdf.add_font("Sans", "", regular)
        pdf.add_font("Sans", "B", bold or regular)
        extra, extra_bold = FONT_FILES[False][1], FONT_FILES[True][1]
        if fallback and Path(extra).is_file() and extra != regular:
            pdf.add_font("Fallback", "", extra)
            pdf.add_font("Fallback", "B", extra_bold if Path(extra_bold).is_file() else extra)
            pdf.set_fallback_fonts(["Fallback"], exact_match=False)
        pdf.set_lang(LANGUAGE)
        self.tags = _Tags(pdf)
        pdf.add_page()
        self.pdf = pdf

    def style(self, size: float, bold: bool = False, colour: tuple[int, int, int] = TEXT) -> None:
        assert size >= MIN_PT, f"text under {MIN_PT} pt"
        self.pdf.set_font("Sans", "B" if bold else "", size)
        self.pdf.set_text_color(*colour)

    def text(
        self,
        x: float,
        y: float,
        w: float,
        text: str,
        size: float,
        bold: bool = False,
        colour: tuple[int, int, int] = TEXT,
        leading: float = 1.2,
        draw: bool = True,
        align: str = "L",
        tag: StructElem | str | None = None,
    ) -> float:
        """Wrapped text in a box ``w`` wide from (x, y); returns the y below it. Drawn, it belongs to
        ``tag``: a structure element, or the name of a new one (H1, P, …) under /Document; None only
        inside something already marked (the map's label is part of the map's Figure)."""
        from fpdf.enums import XPos, YPos

        self.style(size, bold, colour)
        line_h = size * PT_TO_MM * leading
        text = display_text(text)
        if not draw:
            # output="LINES" returns the lines; fpdf2 annotates the union of every output mode
            lines = cast(list[str], self.pdf.multi_cell(w, line_h, text, dry_run=True, output="LINES", align=align))
            return y + line_h * len(lines)
        self.pdf.set_xy(x, y)
        if tag is None:
            self.pdf.multi_cell(w, line_h, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align=align)
        else:
            with self.tags.marked(self.tags.element(tag) if isinstance(tag, str) else tag):
                self.pdf.multi_cell(w, line_h, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align=align)
        return self.pdf.get_y()

    def list_item(self, parent: StructElem | None) -> StructElem | None:
        """The LBody of a new item of list ``parent`` (None when only measuring)."""
        if parent is None:
            return None
        return self.tags.element("LBody", self.tags.element("LI", parent))


def _items(page: _Page, x: float, y: float, w: float, heading: str, items: list[ListItem], draw: bool) -> float:
    """A heading (H2) and its list (L > LI > LBody: each item's name and detail)."""
    if not items and not heading:
        return y
    y = page.text(x, y, w, heading, 10.5, True, DARK_BLUE, draw=draw, tag="H2") + 0.8
    listed = page.tags.element("L") if draw and items else None
    for entry in items:
        body = page.list_item(listed)
        if draw:
            with page.tags.artifact():
                page.pdf.set_fill_color(*DARK_BLUE)
                page.pdf.rect(x, y + 1.2, 1.3, 1.3, style="F")
        y = page.text(x + 3, y, w - 3, entry.name, 9.5, True, BLACK, draw=draw, tag=body)
        if entry.detail:
            y = page.text(x + 3, y, w - 3, entry.detail, 9, False, TEXT, draw=draw, tag=body)
        y += 1.0
    return y + 1.5


def _legend(
    page: _Page, x: float, y: float, w: float, legend: list[tuple[str, str, str]], marker_label: str | None, draw: bool
) -> float:
    """The map's key: a heading (H2) and a list; the swatches are artifacts (each label says what it stands for)."""
    pdf = page.pdf
    y = page.text(x, y, w, "Key: best specialist stalking provision found", 9.5, True, BLACK, draw=draw, tag="H2")
    y += 0.5
    box = 3.6
    listed = page.tags.element("L") if draw else None
    for label, colour, klass in legend:
        body = page.list_item(listed)
        if draw:
            with page.tags.artifact():
                pdf.set_fill_color(*_rgb(colour))
                pdf.set_draw_color(51, 51, 51)
                pdf.set_line_width(0.25)
                if klass == "unknown":
                    pdf.set_dash_pattern(dash=0.6, gap=0.5)
                pdf.rect(x, y + 0.3, box, box, style="DF")
                pdf.set_dash_pattern()
                if klass in HATCHED_CLASSES:
                    pdf.set_line_width(0.2)
                    pdf.set_draw_color(77, 77, 77)
                    for step in (0.9, 1.8, 2.7):  # diagonal hatch inside the swatch
                        pdf.line(x, y + 0.3 + step, x + step, y + 0.3)
                        pdf.line(x + step, y + 0.3 + box, x + box, y + 0.3 + step)
                    pdf.line(x, y + 0.3 + box, x + box, y + 0.3)
        y = page.text(x + box + 2, y, w - box - 2, label, 9, False, TEXT, draw=draw, tag=body) + 0.4
    if marker_label:
        body = page.list_item(listed)
        if draw:
            with page.tags.artifact():
                pdf.set_draw_color(*ORANGE)
                pdf.set_line_width(0.9)
                pdf.rect(x + 0.3, y + 0.6, box - 0.6, box - 0.6, style="D")
                pdf.set_line_width(0.2)
        y = page.text(
            x + box + 2, y, w - box - 2, f"Orange outline: {marker_label}", 9, True, BLACK, draw=draw, tag=body
        )
    return y


def _draw_map(
    pdf: FPDF,
    x0: float,
    y0: float,
    w: float,
    h: float,
    shapes: list[MapShape],
    hatch: list[list[tuple[float, float]]],
) -> None:
    """Filled rings with outlines, then the hatching. Shapes with holes are drawn first, so an
    area inside a hole (an enclave) is painted over them."""

    def points(ring: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(x0 + fx * w, y0 + fy * h) for fx, fy in ring]

    pdf.set_draw_color(51, 51, 51)
    for shape in sorted(shapes, key=lambda s: (len(s.rings) <= 1, s.dashed)):
        pdf.set_fill_color(*_rgb(shape.fill))
        pdf.set_line_width(0.3 if shape.dashed else 0.15)
        if shape.dashed:
            pdf.set_dash_pattern(dash=0.8, gap=0.6)
        for ring in shape.rings:
            pdf.polygon(points(ring), style="DF")
        pdf.set_dash_pattern()
    pdf.set_draw_color(77, 77, 77)
    pdf.set_line_width(0.12)
    for line in hatch:
        pdf.polyline(points(line))


def _marker(page: _Page, x0: float, y0: float, w: float, h: float, marker: tuple[float, float], label: str) -> None:
    """The chosen force's name on the map, in a white box joined to its point by a leader line."""
    pdf = page.pdf
    mx, my = x0 + marker[0] * w, y0 + marker[1] * h
    page.style(9.5, True, BLACK)
    text = display_text(label)
    width = min(pdf.get_string_width(text) + 2 * pdf.c_margin + 2.5, w * 0.55)
    # output="LINES" returns the lines; fpdf2 annotates the union of every output mode
    lines = cast(list[str], pdf.multi_cell(width - 2, 4.2, text, dry_run=True, output="LINES"))
    height = 4.2 * len(lines) + 1.5
    # Right of the point if there is room, else left; kept inside the image.
    bx = mx + 7 if mx + 7 + width <= x0 + w else mx - 7 - width
    bx = max(x0, min(bx, x0 + w - width))
    by = max(y0, min(my - height / 2, y0 + h - height))
    pdf.set_draw_color(*BLACK)
    pdf.set_line_width(0.35)
    pdf.line(mx, my, bx if bx > mx else bx + width, by + height / 2)
    pdf.set_fill_color(*BLACK)
    pdf.ellipse(mx - 0.9, my - 0.9, 1.8, 1.8, style="F")
    pdf.set_fill_color(255, 255, 255)
    pdf.set_draw_color(*ORANGE)
    pdf.set_line_width(0.5)
    pdf.rect(bx, by, width, height, style="DF")
    page.text(bx + 1, by + 0.75, width - 2, text, 9.5, True, BLACK)


def _texts(content: BriefingPage) -> list[str]:
    texts = [
        content.title,
        content.subtitle,
        content.message,
        content.marker_label or "",
        content.credit,
        *content.notes,
        *content.sources,
    ]
    texts += [t for h in content.headlines for t in (h.label, h.value, h.note)]
    texts += [
        t for items in (content.exists, content.missing, content.national) for i in items for t in (i.name, i.detail)
    ]
    texts += [content.exists_heading, content.missing_heading, content.national_heading, content.scenario_heading or ""]
    texts += [*content.scenario_lines, *(label for label, _, _ in content.legend)]
    return [display_text(t) for t in texts]


_MEASURING: dict[bool, _Page] = {}
_MEASURING_LOCK = threading.Lock()


SUBJECT = "One-page briefing on specialist stalking services"
CREATOR = "Stalking Provision Atlas"


def _footer_top(content: BriefingPage, page: _Page) -> float:
    """Where the credit line at the foot of the page starts (it may wrap: a long address)."""
    if not content.credit:
        return PAGE_H - FOOTER_GAP
    return PAGE_H - FOOTER_GAP - (page.text(0, 0, CONTENT_W, content.credit, 9, False, TEXT, draw=False))


def _bottom(content: BriefingPage, page: _Page) -> float:
    """How far down the page the content may run: above the credit line."""
    return min(BOTTOM, _footer_top(content, page) - 1.0)


def _layout(content: BriefingPage, page: _Page, draw: bool) -> float:
    """Lay the page out; with ``draw`` False only measure (nothing is added to ``page``). Drawn,
    every piece of text joins the structure tree in reading order (left column before right),
    and every decoration is an artifact."""
    pdf = page.pdf
    tags = page.tags
    if draw:
        from fpdf.prefs import ViewerPreferences

        title = display_text(content.title)
        keywords = "; ".join(["stalking", "police force area", *content.keywords])
        pdf.set_title(title)
        pdf.viewer_preferences = ViewerPreferences(display_doc_title=True)  # the title, not the file name
        pdf.set_author(CREATOR)
        pdf.set_subject(SUBJECT)
        pdf.set_creator(f"{CREATOR} (coverage.outputs.pdf)")
        pdf.set_keywords(keywords)
        pdf.set_xmp_metadata(_xmp(title, SUBJECT, keywords, CREATOR))
    y = MARGIN - 1
    y = page.text(MARGIN, y, CONTENT_W, content.title, 17, True, BLACK, leading=1.15, draw=draw, tag="H1") + 0.5
    y = page.text(MARGIN, y, CONTENT_W, content.subtitle, 9, False, TEXT, draw=draw, tag="P") + 1.5
    y = page.text(MARGIN, y, CONTENT_W, content.message, 11, True, DARK_BLUE, draw=draw, tag="P") + 2.5

    # Headline numbers in a row of panels: each panel one paragraph (label, value, note).
    n = len(content.headlines)
    box_w = (CONTENT_W - 3 * (n - 1)) / n
    heights = []
    for headline in content.headlines:
        h = page.text(0, 0, box_w - 4, headline.label, 9, False, TEXT, draw=False)
        h = page.text(
            0, h, box_w - 4, headline.value, 11 if headline.small else 15, True, BLACK, leading=1.1, draw=False
        )
        h = page.text(0, h, box_w - 4, headline.note, 9, False, TEXT, draw=False) if headline.note else h
        heights.append(h + 4)
    box_h = max(heights)
    for i, headline in enumerate(content.headlines):
        x = MARGIN + i * (box_w + 3)
        panel = tags.element("P") if draw else None
        if draw:
            with tags.artifact():
                pdf.set_fill_color(*PANEL)
                pdf.rect(x, y, box_w, box_h, style="F")
                pdf.set_fill_color(*DARK_BLUE)
                pdf.rect(x, y, 1.2, box_h, style="F")
        yy = page.text(x + 2.5, y + 2, box_w - 4, headline.label, 9, False, TEXT, draw=draw, tag=panel)
        yy = page.text(
            x + 2.5,
            yy,
            box_w - 4,
            headline.value,
            11 if headline.small else 15,
            True,
            BLACK,
            leading=1.1,
            draw=draw,
            tag=panel,
        )
        if headline.note:
            page.text(x + 2.5, yy, box_w - 4, headline.note, 9, False, TEXT, draw=draw, tag=panel)
    y += box_h + 4

    # Left: the map (one Figure with alternate text: shapes, the chosen force's outline and label), the key.
    map_h = LEFT_W * content.map_aspect
    if draw:
        alt = display_text(content.map_alt) or "Map of the police force areas of England and Wales."
        with tags.marked(tags.element("Figure", alt=alt)):
            _draw_map(pdf, MARGIN, y, LEFT_W, map_h, content.map_shapes, content.map_hatch)
            for colour, width in ((ORANGE, 1.1), (BLACK, 0.25)):
                pdf.set_draw_color(*colour)
                pdf.set_line_width(width)
                for ring in content.outline:
                    pdf.polygon([(MARGIN + fx * LEFT_W, y + fy * map_h) for fx, fy in ring], style="D")
            if content.marker and content.marker_label:
                _marker(page, MARGIN, y, LEFT_W, map_h, content.marker, content.marker_label)
    left_end = _legend(page, MARGIN, y + map_h + 2, LEFT_W, content.legend, content.marker_label, draw)

    # Right: what exists, what was not found, national services.
    right = y
    right = _items(page, RIGHT_X, right, RIGHT_W, content.exists_heading, content.exists, draw)
    right = _items(page, RIGHT_X, right, RIGHT_W, content.missing_heading, content.missing, draw)
    right = _items(page, RIGHT_X, right, RIGHT_W, content.national_heading, content.national, draw)
    y = max(left_end, right) + 2

    if content.scenario_heading:
        y = page.text(MARGIN, y, CONTENT_W, content.scenario_heading, 10.5, True, DARK_BLUE, draw=draw, tag="H2")
        y += 0.5
        for line in content.scenario_lines:
            y = page.text(MARGIN, y, CONTENT_W, line, 9, False, BLACK, draw=draw, tag="P")
        y += 2

    if draw:
        with tags.artifact():
            pdf.set_draw_color(191, 191, 191)
            pdf.set_line_width(0.3)
            pdf.line(MARGIN, y, PAGE_W - MARGIN, y)
    y += 1.5
    for note in content.notes:
        y = page.text(MARGIN, y, CONTENT_W, note, 9, False, TEXT, draw=draw, tag="P") + 0.5
    y = page.text(MARGIN, y + 0.5, CONTENT_W, "Sources and licence", 9.5, True, BLACK, draw=draw, tag="H2")
    for line in content.sources:
        y = page.text(MARGIN, y, CONTENT_W, line, 9, False, TEXT, draw=draw, tag="P") + 0.3
    if draw and content.credit:
        # At the foot of the page, last in reading order; the content above always ends over it (``_bottom``).
        page.text(MARGIN, _footer_top(content, page), CONTENT_W, content.credit, 9, False, TEXT, tag="P")
    return y


def _shortened(items: list[ListItem], keep: int, what: str) -> list[ListItem]:
    if len(items) <= keep:
        return items
    more = len(items) - keep
    return items[:keep] + [ListItem(f"… and {more} more {what}: see the services data file", "")]


def fit(content: BriefingPage, fallback: bool = False) -> BriefingPage:
    """The content, with its longest lists shortened until it fits on one page."""
    current = content
    originals = {"national": content.national, "exists": content.exists, "missing": content.missing}
    keep = {name: len(items) for name, items in originals.items()}
    with _MEASURING_LOCK:
        page = _MEASURING.get(fallback) or _MEASURING.setdefault(fallback, _Page(fallback))
        while True:
            end = _layout(current, page, draw=False)
            if end <= _bottom(current, page):
                return current
            name = max(keep, key=lambda k: keep[k])
            if keep[name] <= 1:
                return current  # cannot shorten further; drawn as is (text stays >= 9 pt)
            keep[name] -= 1
            # the keys are the three list fields, but mypy checks a ** dict against every field of BriefingPage
            current = replace(
                current,
                **cast(
                    dict[str, Any],
                    {
                        k: _shortened(originals[k], keep[k], "services" if k != "missing" else "items")
                        for k in originals
                    },
                ),
            )


def render_pdf(content: BriefingPage) -> bytes:
    """One A4 page as PDF bytes."""
    fallback = _needs_fallback(_texts(content))
    fitted = fit(content, fallback)
    page = _Page(fallback)
    _layout(fitted, page, draw=True)
    return bytes(page.pdf.output())
