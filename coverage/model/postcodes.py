"""Postcode, postcode district, local authority or force name → police force area.

This is the lookup behind "what help is there where I live?". It answers by postcode
*district* (outward code, e.g. ``CH1``), never by full postcode: the inward part of a full
postcode is checked for shape only. A district is placed in the force whose (generalised)
polygon contains the district's centroid; districts whose centroid lies within 2 km of another
force, or whose local-authority name points to another force, are flagged as straddling and list
every candidate force.

Two derived tables are shipped under ``data/postcodes/`` and built by
:func:`build_postcode_tables` from ``shared/data``:

``outward_codes.csv``
    ``outward_code, force_code, candidate_force_codes, straddle_reason, non_geographic,
    town_area, active, outside_ew``. Three kinds of row:

    * an England & Wales district with a force (``force_code`` set);
    * a non-geographic district (PO boxes, bulk mail, British Forces; ``non_geographic`` true,
      no force);
    * a postcode *area* outside England and Wales (``outward_code`` is letters only, e.g. ``EH``,
      ``outside_ew`` names the jurisdiction). A district of such an area that the data assign to
      an England & Wales force (``TD12``, ``TD15``) has its own district row and wins.

    ``outside_ew`` on a district row names the jurisdiction a district also reaches into
    (``TD12``: Scotland).

``local_authorities.csv``
    ``lad_code, lad_name, force_code`` (December 2023; each LAD lies in exactly one force).

Run-time code (:class:`Lookup`) reads only those two files and the force table.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any, NamedTuple, Protocol, cast

import pandas as pd

from coverage.errors import InputError, InputErrors
from coverage.model.forces import force_names as force_names_of
from coverage.model.forces import read_force_table

# --------------------------------------------------------------------------------------------
# Shapes, names and constants
# --------------------------------------------------------------------------------------------

OUTWARD_CODES_CSV = Path("postcodes") / "outward_codes.csv"
LOCAL_AUTHORITIES_CSV = Path("postcodes") / "local_authorities.csv"
FORCES_CSV = Path("forces") / "forces.csv"

OUTWARD_COLUMNS = [
    "outward_code",
    "force_code",
    "candidate_force_codes",
    "straddle_reason",
    "non_geographic",
    "town_area",
    "active",
    "outside_ew",
]
LOCAL_AUTHORITY_COLUMNS = ["lad_code", "lad_name", "force_code"]

REASON_NEAR_BORDER = "centroid within 2 km of another force"

KINDS = (
    "postcode",
    "outward_code",
    "local_authority",
    "force",
    "outside_england_wales",
    "non_geographic",
    "ambiguous",
    "not_found",
    "invalid",
)

# Postcode areas outside England and Wales and who polices them. Which *districts* of an area
# belong to England and Wales (TD12, TD15) is read from the data, not from this table.
JURISDICTIONS = {
    "Scotland": "Police Scotland",
    "Northern Ireland": "the Police Service of Northern Ireland (PSNI)",
    "Isle of Man": "the Isle of Man Constabulary",
    "Jersey": "the States of Jersey Police",
    "Guernsey": "Guernsey Police",
}
# Postcode areas with no location at all (doogal does not flag BF1 as non-geographic).
NON_GEOGRAPHIC_AREAS = {"BF": "British Forces Post Office", "BX": "non-geographic", "GIR": "Girobank"}

# A UK postcode: outward code (area letters, district digit(s), optional letter) + inward code.
# The inward code is checked for shape only; we answer by district.
_OUTWARD = r"[A-Z]{1,2}[0-9][A-Z0-9]?"
_FULL_POSTCODE = re.compile(rf"({_OUTWARD})([0-9][A-Z]{{2}})")
OUTWARD_CODE_PATTERN = re.compile(_OUTWARD)
_SECTOR = re.compile(rf"({_OUTWARD}) ([0-9][A-Z]?)")
_GIROBANK = re.compile(r"GIR ?0AA")
_AREA_ONLY = re.compile(r"[A-Z]{1,2}")
# Clean input needs no other checks: "ch1 2ab", "CH12AB", " SO14 ".
_FAST_POSTCODE = re.compile(r" *([A-Za-z]{1,2}[0-9][A-Za-z0-9]?) *([0-9][A-Za-z]{2}) *")
_FAST_OUTWARD = re.compile(r" *([A-Za-z]{1,2}[0-9][A-Za-z0-9]?) *")

MAX_QUERY_CHARS = 200
_HARD_TRUNCATE = 5_000
_CACHE_LIMIT = 200_000
_ECHO_CHARS = 40
_FUZZY_CUTOFF = 0.85
_SUGGEST_CUTOFF = 0.6
_SHORT_LIST = 10  # names difflib scores for a misspelling, chosen by shared letter pairs
_MIN_DICE = 0.3
_MAX_SUGGESTIONS = 8

_ASCII_OK = re.compile(r"[A-Za-z0-9 ,.'&()\-]*")
_EXTRA_PUNCTUATION = set(",.'&()-’‘–—")  # curly quotes and dashes typed on phones
_NAME_JUNK = re.compile(r"[^a-z0-9]+")
_FORCE_SUFFIXES = (
    " police force area",
    " police service",
    " police force",
    " force area",
    " constabulary",
    " police",
)
# Words that on their own say nothing about a place: never match them inside longer names.
_STOPWORDS = frozenset(
    [
        "and",
        "of",
        "the",
        "on",
        "upon",
        "city",
        "county",
        "borough",
        "north",
        "south",
        "east",
        "west",
        "mid",
        "central",
        "greater",
        "isle",
        "isles",
        "st",
        "upper",
        "lower",
        "great",
        "little",
        "new",
        "old",
        "police",
        "force",
        "area",
        "district",
        "council",
    ]
)

# A few names people use for forces that are not the ONS names. Values are force codes.
FORCE_ALIASES: dict[str, tuple[str, ...]] = {
    "met": ("E23000001",),
    "the met": ("E23000001",),
    "met police": ("E23000001",),
    "mps": ("E23000001",),
    "metropolitan": ("E23000001",),
    "london": ("E23000001", "E23000034"),
    "greater london": ("E23000001", "E23000034"),
    "colp": ("E23000034",),
    "city of london police": ("E23000034",),
    "gmp": ("E23000005",),
    "manchester police": ("E23000005",),
    "west mids": ("E23000014",),
    "wmp": ("E23000014",),
    "tvp": ("E23000029",),
    "berkshire": ("E23000029",),
    "oxfordshire": ("E23000029",),
    "avon": ("E23000036",),
    "devon": ("E23000035",),
    "dyfed": ("W15000004",),
    "tyne and wear": ("E23000007",),
    "tyneside": ("E23000007",),
    "teesside": ("E23000013",),
    "worcestershire": ("E23000016",),
    "east sussex": ("E23000033",),
    "west sussex": ("E23000033",),
    "west yorks": ("E23000010",),
    "south yorks": ("E23000011",),
    "north yorks": ("E23000009",),
    "east yorkshire": ("E23000012",),
    "yorkshire": ("E23000009", "E23000010", "E23000011", "E23000012"),
    "wales": ("W15000001", "W15000002", "W15000003", "W15000004"),
}
# How a jurisdiction reads inside a sentence ("in the Isle of Man").
_JURISDICTION_IN = {"Isle of Man": "the Isle of Man", "Guernsey": "the Bailiwick of Guernsey"}
# Places and forces outside England and Wales people may type. Values are jurisdictions.
OUTSIDE_NAMES = {
    "Police Scotland": "Scotland",
    "Edinburgh": "Scotland",
    "Glasgow": "Scotland",
    "Aberdeen": "Scotland",
    "Dundee": "Scotland",
    "Inverness": "Scotland",
    "PSNI": "Northern Ireland",
    "Belfast": "Northern Ireland",
    "Manx": "Isle of Man",
    "Isle of Man Constabulary": "Isle of Man",
    "St Helier": "Jersey",
    "Alderney": "Guernsey",
    "Sark": "Guernsey",
    "St Peter Port": "Guernsey",
}
# Welsh names of Welsh local authorities (LAD23 names are English only). Values are LAD23 names.
WELSH_LA_NAMES = {
    "Ynys Môn": "Isle of Anglesey",
    "Caerdydd": "Cardiff",
    "Abertawe": "Swansea",
    "Casnewydd": "Newport",
    "Bro Morgannwg": "Vale of Glamorgan",
    "Sir y Fflint": "Flintshire",
    "Wrecsam": "Wrexham",
    "Sir Ddinbych": "Denbighshire",
    "Sir Benfro": "Pembrokeshire",
    "Sir Gaerfyrddin": "Carmarthenshire",
    "Castell-nedd Port Talbot": "Neath Port Talbot",
    "Pen-y-bont ar Ogwr": "Bridgend",
    "Merthyr Tudful": "Merthyr Tydfil",
    "Sir Fynwy": "Monmouthshire",
    "Caerffili": "Caerphilly",
}

MSG_EMPTY = (
    "Type a postcode (e.g. CH1 2AB), a postcode district (e.g. SO14), a local authority "
    "(e.g. Warrington) or a police force name (e.g. Cheshire)."
)
MSG_TOO_LONG = (
    "That search is too long: type a postcode, a postcode district, a local authority or a police "
    f"force name (at most {MAX_QUERY_CHARS} characters)."
)
MSG_BAD_CHARACTERS = (
    "That search contains characters we cannot use (such as angle brackets, semicolons or emoji): type a "
    "postcode, a postcode district, a local authority or a police force name, using letters and numbers."
)
MSG_NO_LETTERS = (
    "That does not look like a UK postcode or a place name: a postcode starts with letters "
    "(e.g. CH1 2AB), and names need letters (e.g. Warrington)."
)
MSG_BAD_POSTCODE = (
    "That does not look like a UK postcode (e.g. CH1 2AB) or a postcode district (e.g. SO14): "
    "check it, or search for a local authority or police force name."
)


# --------------------------------------------------------------------------------------------
# Reading and checking the shipped tables (coverage.build.postcodes writes them)
# --------------------------------------------------------------------------------------------


def split_outward(code: str) -> tuple[str, int, str]:
    match = re.fullmatch(r"([A-Z]+)([0-9]*)([A-Z]*)", code)
    if not match:
        return (code, -1, "")
    area, digits, suffix = match.groups()
    return (area, int(digits) if digits else -1, suffix)


def postcode_area(code: str) -> str:
    return split_outward(code)[0]


class _OutwardRow(Protocol):
    """A row of the outward-code table (from ``itertuples``): text columns, ``non_geographic`` and ``active`` bools."""

    outward_code: str
    force_code: str
    candidate_force_codes: str
    straddle_reason: str
    non_geographic: bool
    town_area: str
    active: bool
    outside_ew: str


def validate_outward_codes(table: pd.DataFrame, known: set[str], *, where: str) -> pd.DataFrame:
    """Check the outward-code table: columns, unique codes, known forces, consistent candidates."""
    missing = [c for c in OUTWARD_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", where=where)
    problems = []
    duplicated = table.loc[table["outward_code"].duplicated(), "outward_code"].tolist()
    if duplicated:
        problems.append(f"duplicate outward codes: {', '.join(duplicated[:10])}")
    # The columns are checked above; the table is read as text (blanks as "") with bool flags.
    for number, row in enumerate(cast(Iterator[_OutwardRow], table.itertuples(index=False)), start=2):
        place = f"row {number} ({row.outward_code})"
        candidates = [c for c in row.candidate_force_codes.split(";") if c]
        if row.force_code:
            if row.force_code not in known:
                problems.append(f"{place}: force_code {row.force_code} is not a force")
            if row.force_code not in candidates:
                problems.append(f"{place}: force_code is not among candidate_force_codes")
            unknown = [c for c in candidates if c not in known]
            if unknown:
                problems.append(f"{place}: unknown candidate force(s) {', '.join(unknown)}")
            if len(candidates) > 1 and not row.straddle_reason:
                problems.append(f"{place}: several candidate forces but no straddle_reason")
        elif candidates:
            problems.append(f"{place}: candidate forces but no force_code")
        elif not row.non_geographic and not row.outside_ew:
            problems.append(f"{place}: no force, not non-geographic and not outside England and Wales")
        if row.outside_ew and row.outside_ew not in JURISDICTIONS:
            problems.append(f"{place}: outside_ew '{row.outside_ew}' is not one of {', '.join(JURISDICTIONS)}")
    if problems:
        raise InputErrors(problems, where=where)
    return table.reset_index(drop=True)


def validate_local_authorities(table: pd.DataFrame, known: set[str], *, where: str) -> pd.DataFrame:
    """Check the local-authority table: columns, one force per LAD, known forces."""
    missing = [c for c in LOCAL_AUTHORITY_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", where=where)
    problems = []
    several = table.loc[table["lad_code"].duplicated(), "lad_code"].tolist()
    if several:
        problems.append(f"local authorities listed more than once (or in two forces): {', '.join(several)}")
    unknown = sorted(set(table["force_code"]) - known)
    if unknown:
        problems.append(f"force codes not in the force table: {', '.join(unknown)}")
    empty = table.loc[(table["lad_name"] == "") | table["lad_name"].isna(), "lad_code"].tolist()
    if empty:
        problems.append(f"local authorities without a name: {', '.join(empty)}")
    if problems:
        raise InputErrors(problems, where=where)
    return table.sort_values("lad_code").reset_index(drop=True)


def _with_bool_columns(table: pd.DataFrame) -> pd.DataFrame:
    """``non_geographic`` and ``active`` as booleans, whether they came as bools or as CSV text."""
    table = table.copy()
    for column in ("non_geographic", "active"):
        if table[column].dtype != bool:
            table[column] = table[column].astype(str).str.strip().str.lower().isin(["true", "1", "yes"])
    return table


def read_outward_codes(path: Path) -> pd.DataFrame:
    """Read the shipped ``outward_codes.csv``."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in OUTWARD_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", where=str(path))
    return _with_bool_columns(table)


def read_local_authorities(path: Path) -> pd.DataFrame:
    """Read the shipped ``local_authorities.csv``."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


# --------------------------------------------------------------------------------------------
# Lookup (run time: reads only the shipped tables)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LookupResult:
    """The answer to one query. ``message`` is one plain sentence for the user.

    ``force_codes`` lists the candidate forces (one for a plain answer; several when a district
    straddles a border or a name is ambiguous). Results are shared between identical queries,
    so they are immutable (tuples, not lists).
    """

    query: str
    kind: str
    force_code: str | None = None
    force_codes: tuple[str, ...] = ()
    straddles: bool = False
    message: str = ""
    suggestions: tuple[str, ...] = ()
    matched: str | None = None  # the canonical thing answered: "CH1 2AB", "CH4", "Warrington", …
    # A jurisdiction outside England and Wales (a key of JURISDICTIONS) that the answer is in
    # ("EH1 1YZ": Scotland) or that a district also reaches into ("TD12": Scotland); else None.
    jurisdiction: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["force_codes"] = list(self.force_codes)
        data["suggestions"] = list(self.suggestions)
        return data


@dataclass(frozen=True)
class _District:
    code: str
    force_code: str
    candidates: tuple[str, ...]
    reason: str
    non_geographic: bool
    town: str
    active: bool
    outside: str


@dataclass(frozen=True)
class _Target:
    kind: str  # "local_authority" | "force" | "outside_england_wales"
    label: str
    force_codes: tuple[str, ...] = ()
    jurisdiction: str = ""
    extra_labels: tuple[str, ...] = field(default=())


def _fold(text: str) -> str:
    """Lower case, accents dropped, '&' → 'and', punctuation → spaces, 'saint' → 'st'."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = text.replace("&", " and ").replace("’", "").replace("'", "")
    text = _NAME_JUNK.sub(" ", text).strip()
    words = ["st" if w == "saint" else w for w in text.split()]
    if words and words[0] == "the" and len(words) > 1:
        words = words[1:]
    return " ".join(words)


def _strip_force_suffix(key: str) -> str:
    for suffix in _FORCE_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)]
    return key


def _la_display_name(name: str) -> str:
    """'Bristol, City of' → 'City of Bristol' (ONS index-style names read badly in a sentence)."""
    match = re.fullmatch(r"(.+), ((?:City|County|Royal Borough) of)", name)
    return f"{match.group(2)} {match.group(1)}" if match else name


def _la_base_name(name: str) -> str:
    match = re.fullmatch(r"(.+), ((?:City|County|Royal Borough) of)", name)
    return match.group(1) if match else name


def _echo(text: str) -> str:
    """A safe, short form of the user's text to quote back: letters, digits, space, - ' , . only."""
    kept = "".join(
        ch
        for ch in text[: _ECHO_CHARS * 4]
        if ch in " -',." or (ch.isascii() and ch.isdigit()) or unicodedata.category(ch).startswith("L")
    )
    kept = " ".join(kept.split())
    return kept[:_ECHO_CHARS].rstrip() + "…" if len(kept) > _ECHO_CHARS else kept


_NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine"}


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _town_label(town_area: str) -> str:
    towns = [t.strip() for t in town_area.split(",") if t.strip()]
    return "/".join(towns[:2])


class _Answer(NamedTuple):
    """A district's answer, worked out once when the lookup is built."""

    kind: str  # "outward_code" or "non_geographic"
    force_code: str | None
    force_codes: tuple[str, ...]
    straddles: bool
    outward_message: str  # "CH4 (Chester/Handbridge) straddles …"
    postcode_rest: str  # what follows the full postcode: " is in postcode district CH4 (…), which …"
    outside: str | None  # the jurisdiction outside England and Wales the district reaches into, if any


class _NameMatch(NamedTuple):
    """What a (folded) name matched; cached, then rendered for each raw query."""

    how: str  # "exact" | "matches" | "did you mean" | "town" | "area" | "none"
    targets: tuple[_Target, ...] = ()
    codes: tuple[str, ...] = ()  # postcode districts, for "town" and "area"
    suggestions: tuple[str, ...] = ()  # for "none"


_MARK = "\x00"  # stands for the full postcode while a district's answer is precomputed


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _word_index(keys: Iterable[str]) -> dict[str, set[str]]:
    index: dict[str, set[str]] = {}
    for key in keys:
        for word in key.split():
            if word not in _STOPWORDS:
                index.setdefault(word, set()).add(key)
    return index


def _containing(index: dict[str, set[str]], key: str) -> list[str]:
    """Keys that contain ``key`` as whole words ("bristol" in "bristol city of")."""
    words = [w for w in key.split() if w not in _STOPWORDS]
    if not words or len(key) < 3:
        return []
    found = set.intersection(*(index.get(w, set()) for w in words))
    padded = f" {key} "
    return sorted(k for k in found if padded in f" {k} ")


class Lookup:
    """Answers a query with a police force area. Build once, then call :meth:`lookup`.

    Everything a lookup needs is worked out when it is built: each district's answer, an index of
    names, of the words in them, and of their letter pairs (to short-list the candidates that
    :mod:`difflib` scores for misspellings). Answers are cached by query.
    """

    def __init__(
        self,
        districts: dict[str, _District],
        outside_areas: dict[str, str],
        names: dict[str, _Target],
        force_names: dict[str, str],
        force_regions: dict[str, str],
    ):
        self._districts = districts
        self._outside_areas = outside_areas
        self._ew_areas = {postcode_area(code) for code in districts}
        self._names = names
        self._force_names = force_names
        self._force_regions = force_regions
        self._answers = {code: self._district_answer(d) for code, d in districts.items()}
        # Names: whole-word index, and letter pairs for the misspelling short list.
        self._name_words = _word_index(names)
        self._keys = sorted(names)
        self._key_bigrams = [len(_bigrams(k)) for k in self._keys]
        self._bigram_index: dict[str, list[int]] = {}
        for number, key in enumerate(self._keys):
            for pair in _bigrams(key):
                self._bigram_index.setdefault(pair, []).append(number)
        # Towns listed in the districts' Town/Area column → their (active) districts.
        towns: dict[str, set[str]] = {}
        for code, district in districts.items():
            if district.force_code and district.active:
                for town in district.town.split(","):
                    folded = _fold(town)
                    if folded:
                        towns.setdefault(folded, set()).add(code)
        self._towns = {town: tuple(sorted(codes, key=split_outward)) for town, codes in towns.items()}
        self._town_words = _word_index(self._towns)
        self._cache: dict[str, LookupResult] = {}
        self._name_cache: dict[str, _NameMatch] = {}

    # ---- construction ------------------------------------------------------------------------

    @classmethod
    def from_frames(cls, outward: pd.DataFrame, las: pd.DataFrame, forces: pd.DataFrame) -> Lookup:
        """Build from the outward-code table, the local-authority table and the force table."""
        known = set(forces["code"])
        missing = [c for c in OUTWARD_COLUMNS if c not in outward.columns]
        if missing:
            raise InputError(f"missing column(s) {', '.join(missing)}", where="outward codes")
        outward = validate_outward_codes(_with_bool_columns(outward.fillna("")), known, where="outward codes")
        las = validate_local_authorities(las.fillna(""), known, where="local authorities")
        force_names = force_names_of(forces)
        force_regions = {
            code: ("Wales" if country == "Wales" else f"the {region} region of England")
            for code, country, region in zip(forces["code"], forces["country"], forces["region"])
        }
        districts: dict[str, _District] = {}
        outside_areas: dict[str, str] = {}
        # Validated above, after fillna("") and _with_bool_columns: text columns and bool flags.
        for row in cast(Iterator[_OutwardRow], outward.itertuples(index=False)):
            if not row.force_code and not row.non_geographic and row.outside_ew:
                outside_areas[row.outward_code] = row.outside_ew
                continue
            districts[row.outward_code] = _District(
                code=row.outward_code,
                force_code=row.force_code,
                candidates=tuple(c for c in row.candidate_force_codes.split(";") if c),
                reason=row.straddle_reason,
                non_geographic=bool(row.non_geographic),
                town=str(row.town_area),
                active=bool(row.active),
                outside=row.outside_ew,
            )
        return cls(districts, outside_areas, cls._name_index(las, forces), force_names, force_regions)

    @classmethod
    def from_data_dir(cls, data_dir: Path | str) -> Lookup:
        """Build from the shipped files under ``data_dir`` (the repository's ``data/``)."""
        data_dir = Path(data_dir)
        paths = [data_dir / OUTWARD_CODES_CSV, data_dir / LOCAL_AUTHORITIES_CSV, data_dir / FORCES_CSV]
        for path in paths:
            if not path.exists():
                raise InputError("not found; run `python -m coverage build-data`", where=str(path))
        return cls.from_frames(
            read_outward_codes(paths[0]), read_local_authorities(paths[1]), read_force_table(paths[2])
        )

    @staticmethod
    def _name_index(las: pd.DataFrame, forces: pd.DataFrame) -> dict[str, _Target]:
        index: dict[str, _Target] = {}

        def add(key: str, target: _Target) -> None:
            key = _fold(key)
            if not key:
                return
            present = index.get(key)
            if present is None:
                index[key] = target
            elif present.label != target.label and present.force_codes != target.force_codes:
                # The same words name two things in different forces: keep both, as an ambiguity.
                codes = tuple(sorted(set(present.force_codes) | set(target.force_codes)))
                index[key] = _Target("force", present.label, codes, extra_labels=present.extra_labels + (target.label,))

        names = force_names_of(forces)
        # Forces first: where a force and a local authority share a name, the force answers.
        for code, name, ons_name in zip(forces["code"], forces["name"], forces["ons_name"]):
            target = _Target("force", name, (code,))
            for text in {name, ons_name}:
                add(text, target)
        for alias, alias_codes in FORCE_ALIASES.items():
            codes = tuple(c for c in alias_codes if c in names)
            if codes:
                label = names[codes[0]] if len(codes) == 1 else alias.title()
                add(alias, _Target("force", label, codes))
        by_lad_name = {}
        for name, force in zip(las["lad_name"], las["force_code"]):
            target = _Target("local_authority", _la_display_name(name), (force,))
            by_lad_name[name] = target
            for text in {name, _la_display_name(name), _la_base_name(name)}:
                add(text, target)
        for welsh, english in WELSH_LA_NAMES.items():
            if english in by_lad_name:
                add(welsh, by_lad_name[english])
        for jurisdiction in JURISDICTIONS:
            add(jurisdiction, _Target("outside_england_wales", jurisdiction, jurisdiction=jurisdiction))
        for text, jurisdiction in OUTSIDE_NAMES.items():
            add(text, _Target("outside_england_wales", text, jurisdiction=jurisdiction))
        return index

    # ---- public ------------------------------------------------------------------------------

    def lookup(self, query: str) -> LookupResult:
        """Answer one query; never raises on any input."""
        if type(query) is str:
            cached = self._cache.get(query)
            if cached is not None:
                return cached
        try:
            result = self._answer(query)
        except Exception as error:  # a lookup must never take a page down
            text = query[:_HARD_TRUNCATE] if isinstance(query, str) else ""
            result = LookupResult(
                text, "invalid", message=f"That search could not be answered ({type(error).__name__})."
            )
        if type(query) is str and len(query) <= MAX_QUERY_CHARS:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[query] = result
        return result

    def lookup_many(self, queries: Iterable[str]) -> list[LookupResult]:
        """Answer many queries, in order; repeated queries are answered from the cache."""
        get = self._cache.get
        lookup = self.lookup
        results: list[LookupResult] = []
        append = results.append
        for query in queries:
            cached = get(query) if type(query) is str else None
            append(cached if cached is not None else lookup(query))
        return results

    @property
    def outward_codes(self) -> list[str]:
        """Every district the lookup knows (with a force, or non-geographic)."""
        return sorted(self._districts, key=split_outward)

    @property
    def outside_areas(self) -> dict[str, str]:
        """Postcode area → jurisdiction outside England and Wales."""
        return dict(self._outside_areas)

    # ---- the rules ---------------------------------------------------------------------------

    def _answer(self, query: object) -> LookupResult:
        if not isinstance(query, str):
            return LookupResult("", "invalid", message=MSG_EMPTY)
        query = query[:_HARD_TRUNCATE]
        # Fast path: the common, clean shapes.
        fast = _FAST_POSTCODE.fullmatch(query)
        if fast:
            outward = fast.group(1).upper()
            return self._district(query, outward, f"{outward} {fast.group(2).upper()}")
        fast = _FAST_OUTWARD.fullmatch(query)
        if fast:
            return self._district(query, fast.group(1).upper(), None)

        text = query.strip()
        if not text:
            return LookupResult(query, "invalid", message=MSG_EMPTY)
        if len(text) > MAX_QUERY_CHARS:
            return LookupResult(query, "invalid", message=MSG_TOO_LONG)
        if not _ASCII_OK.fullmatch(text) and not all(
            ch.isspace()
            or ch in _EXTRA_PUNCTUATION
            or (ch.isascii() and ch.isalnum())
            or unicodedata.category(ch)[0] in "LM"
            for ch in text
        ):
            return LookupResult(query, "invalid", message=MSG_BAD_CHARACTERS)
        if not any(ch.isalpha() for ch in text):
            return LookupResult(query, "invalid", message=MSG_NO_LETTERS)

        upper = " ".join(text.upper().split())
        compact = upper.replace(" ", "")
        if any(ch.isdigit() for ch in compact):
            return self._answer_postcode(query, upper, compact)
        if len(compact) == 3 and compact in self._districts:  # letters-only districts: NPT, GIR
            return self._district(query, compact, None)
        if _AREA_ONLY.fullmatch(compact) and compact in self._outside_areas:
            return self._outside(query, compact, self._outside_areas[compact], f"Postcode area {compact}")
        return self._answer_name(query, text)

    def _answer_postcode(self, query: str, upper: str, compact: str) -> LookupResult:
        if _GIROBANK.fullmatch(upper):
            return self._district(query, "GIR", "GIR 0AA")
        full = _FULL_POSTCODE.fullmatch(compact)
        if full:
            outward, inward = full.groups()
            return self._district(query, outward, f"{outward} {inward}")
        sector = _SECTOR.fullmatch(upper)
        if sector:  # "CH1 2": a postcode sector, or a postcode typed half-way
            return self._district(query, sector.group(1), None)
        if OUTWARD_CODE_PATTERN.fullmatch(compact):
            return self._district(query, compact, None)
        return LookupResult(query, "invalid", message=MSG_BAD_POSTCODE)

    def _district(self, query: str, outward: str, postcode: str | None) -> LookupResult:
        answer = self._answers.get(outward)
        if answer is None:
            return self._unknown_district(query, outward, postcode)
        if postcode is None:
            return LookupResult(
                query,
                answer.kind,
                answer.force_code,
                answer.force_codes,
                answer.straddles,
                answer.outward_message,
                (),
                outward,
                answer.outside,
            )
        kind = "postcode" if answer.kind == "outward_code" else answer.kind
        return LookupResult(
            query,
            kind,
            answer.force_code,
            answer.force_codes,
            answer.straddles,
            postcode + answer.postcode_rest,
            (),
            postcode,
            answer.outside,
        )

    def _unknown_district(self, query: str, outward: str, postcode: str | None) -> LookupResult:
        shown = postcode or outward
        area = split_outward(outward)[0]
        if area in self._outside_areas:
            return self._outside(query, shown, self._outside_areas[area], shown)
        if area in NON_GEOGRAPHIC_AREAS:
            return LookupResult(
                query,
                "non_geographic",
                matched=shown,
                message=(
                    f"{shown} is a non-geographic postcode ({NON_GEOGRAPHIC_AREAS[area]}) with no location, "
                    "so it has no police force area: search for the place where you live instead."
                ),
            )
        if postcode is None:
            # "EC2" or "W1": central London districts are split into EC2A, EC2M, W1A … ; offer them.
            split = sorted(
                code
                for code in self._answers
                if code.startswith(outward) and code[len(outward) :].isalpha() and len(code) == len(outward) + 1
            )
            if split:
                return LookupResult(
                    query,
                    "not_found",
                    matched=shown,
                    suggestions=tuple(split[:_MAX_SUGGESTIONS]),
                    message=(
                        f"{shown} is divided into postcode districts "
                        + (f"{', '.join(split[:3])} and others" if len(split) > 3 else _join(split))
                        + ": choose one, or type your full postcode."
                    ),
                )
        what = f"its district {outward} is" if postcode else f"{outward} is"
        hint = "" if area in self._ew_areas else f" (there is no postcode area {area} in England and Wales)"
        return LookupResult(
            query,
            "not_found",
            matched=shown,
            message=(
                f"{shown} looks like a postcode, but {what} not a postcode district we know in England "
                f"and Wales{hint}: check it, or search for your local authority or police force."
            ),
        )

    def _district_answer(self, district: _District) -> _Answer:
        """Work out a district's answer once, for the district alone and for a full postcode in it."""
        kind = "non_geographic" if district.non_geographic else "outward_code"
        force_code = district.force_code or None
        codes = district.candidates if force_code else ()
        straddles = bool(force_code) and (len(codes) > 1 or bool(district.outside))
        return _Answer(
            kind,
            force_code,
            codes,
            straddles,
            self._district_message(district, None),
            self._district_message(district, _MARK)[len(_MARK) :],
            district.outside or None,
        )

    def _district_message(self, district: _District, postcode: str | None) -> str:
        town = _town_label(district.town)
        label = f"{district.code} ({town})" if town else district.code
        retired = "" if district.active or district.non_geographic else ", a retired district with no postcodes in use,"
        lead = f"{postcode} is in postcode district {label}{retired or ','} which" if postcode else f"{label}{retired}"
        if district.non_geographic:
            return (
                f"{lead} is a non-geographic (PO box style) postcode district with no location, so it has "
                "no police force area: search for the place where you live instead."
            )
        force_name = self._force_names[district.force_code]
        names = [self._force_names[c] for c in district.candidates]
        if district.outside:
            crossing = f"crosses the border with {district.outside}"
            if len(names) > 1:
                crossing = f"straddles {_join(names)} and {crossing}"
            return (
                f"{lead} {crossing}; the district centroid falls in {force_name}, and addresses in "
                f"{district.outside} are policed by {JURISDICTIONS[district.outside]}, outside this atlas."
            )
        if len(names) > 1 and district.reason == REASON_NEAR_BORDER:
            # Only closeness is known: the district's centre lies within 2 km of another force.
            return (
                f"{lead} may straddle {_join(names)}: its centre is within 2 km of the boundary, and the "
                f"district centroid falls in {force_name}."
            )
        if len(names) > 1:
            return f"{lead} straddles {_join(names)}; the district centroid falls in {force_name}."
        by_district = " (answered by postcode district, not by full postcode)" if postcode else ""
        return f"{lead} is in {self._area_phrase(district.force_code)}{by_district}."

    def _outside(self, query: str, matched: str, jurisdiction: str, subject: str) -> LookupResult:
        force = JURISDICTIONS[jurisdiction]
        where = _JURISDICTION_IN.get(jurisdiction, jurisdiction)
        if subject == jurisdiction or subject in force:
            lead = f"{where[0].upper()}{where[1:]} is outside England and Wales: its police force is {force}"
        else:
            lead = f"{subject} is in {where}, where the police force is {force}"
        return LookupResult(
            query,
            "outside_england_wales",
            matched=matched,
            message=(f"{lead}; this atlas covers only the 43 police force areas of England and Wales."),
            jurisdiction=jurisdiction,
        )

    def _area_phrase(self, code: str) -> str:
        name = self._force_names[code]
        return f"the {name} force area" if name.endswith("Police") else f"the {name} police force area"

    # ---- names -------------------------------------------------------------------------------

    def _answer_name(self, query: str, text: str) -> LookupResult:
        key = _fold(text)
        if not key:
            return LookupResult(query, "invalid", message=MSG_NO_LETTERS)
        match = self._name_cache.get(key)
        if match is None:
            match = self._match_name(key)
            if len(self._name_cache) >= _CACHE_LIMIT:
                self._name_cache.clear()
            self._name_cache[key] = match
        if match.how in ("exact", "matches", "did you mean"):
            return self._resolve(query, list(match.targets), note=None if match.how == "exact" else match.how)
        if match.how == "town":
            return self._town_answer(query, match.codes)
        if match.how == "area":
            area = key.upper()
            return LookupResult(
                query,
                "not_found",
                suggestions=match.codes,
                message=(
                    f"{area} is a postcode area with many districts: add the district number (e.g. "
                    f"{match.codes[0]}) or give your full postcode."
                ),
            )
        suggestions = list(match.suggestions)
        return LookupResult(
            query,
            "not_found",
            suggestions=match.suggestions,
            message=(
                f"We could not find “{_echo(text)}”: try a postcode (e.g. CH1 2AB), a postcode district (e.g. SO14), "
                "a local authority or a police force name"
                + (f", or did you mean {_join(suggestions[:3])}?" if suggestions else ".")
            ),
        )

    def _match_name(self, key: str) -> _NameMatch:
        """The slow part of a name query, done once per folded name."""
        target = self._names.get(key) or self._names.get(_strip_force_suffix(key))
        if target is not None:
            return _NameMatch("exact", (target,))
        key = _strip_force_suffix(key)
        # Whole words inside a longer name: "Bristol" → "Bristol, City of"; "Hull"; "Newcastle".
        inside = _containing(self._name_words, key)
        if inside:
            return _NameMatch("matches", tuple(self._names[k] for k in inside))
        # A town from the districts' Town/Area lists ("Horley" must not become "did you mean Chorley").
        only_stopwords = all(word in _STOPWORDS for word in key.split())
        codes = (
            ()
            if only_stopwords
            else self._towns.get(key)
            or tuple(
                sorted({c for town in _containing(self._town_words, key) for c in self._towns[town]}, key=split_outward)
            )
        )
        if codes:
            return _NameMatch("town", codes=codes)
        if _AREA_ONLY.fullmatch(key.upper()) and key.upper() in self._ew_areas:
            area = key.upper()
            districts = sorted(
                (c for c in self._districts if postcode_area(c) == area and not self._districts[c].non_geographic),
                key=split_outward,
            )
            return _NameMatch("area", codes=tuple(districts[:_MAX_SUGGESTIONS]))
        close = self._close_names(key, _FUZZY_CUTOFF) if len(key) >= 4 else []
        if close:
            return _NameMatch("did you mean", tuple(self._names[k] for _, k in close))
        scored = self._close_names(key, _SUGGEST_CUTOFF)
        return _NameMatch("none", suggestions=tuple(self._labels([self._names[k] for _, k in scored])))

    def _close_names(self, key: str, cutoff: float, limit: int = 5) -> list[tuple[float, str]]:
        """Names within difflib ratio ``cutoff`` of ``key``, best first; difflib scores a short list only.

        The short list is the names sharing the most letter pairs with ``key`` (a misspelt name
        keeps most of its letter pairs), so a miss costs a few SequenceMatcher calls, not hundreds.
        """
        pairs = _bigrams(key)
        if not pairs:
            return []
        index = self._bigram_index
        shared = Counter(chain.from_iterable(index[pair] for pair in pairs if pair in index))
        dice = sorted(
            ((2 * n / (len(pairs) + self._key_bigrams[i]), i) for i, n in shared.most_common(3 * _SHORT_LIST)),
            reverse=True,
        )
        matcher = difflib.SequenceMatcher(autojunk=False)
        matcher.set_seq2(key)
        scored = []
        for similarity, number in dice[:_SHORT_LIST]:
            if similarity < _MIN_DICE:
                break
            matcher.set_seq1(self._keys[number])
            if matcher.real_quick_ratio() >= cutoff and matcher.quick_ratio() >= cutoff:
                score = matcher.ratio()
                if score >= cutoff:
                    scored.append((score, self._keys[number]))
        scored.sort(key=lambda item: (-item[0], item[1]))
        return scored[:limit]

    def _town_answer(self, query: str, codes: tuple[str, ...]) -> LookupResult:
        forces = sorted(
            {c for code in codes for c in self._districts[code].candidates}, key=lambda c: self._force_names[c]
        )
        shown = _join(list(codes)) if len(codes) <= 4 else ", ".join(codes[:3]) + f" and {len(codes) - 3} more"
        if len(forces) == 1:
            where = f"all in {self._area_phrase(forces[0])}"
        elif len(forces) <= 4:
            where = f"in {_join([self._force_names[c] for c in forces])}"
        else:
            where = f"in {len(forces)} police force areas"
        return LookupResult(
            query,
            "not_found",
            suggestions=tuple(codes[:_MAX_SUGGESTIONS]),
            message=(
                f"“{_echo(query)}” is not a local authority or police force name, but it is a place in postcode "
                f"district{'s' if len(codes) > 1 else ''} {shown} ({where}): choose a district or give your full postcode."
            ),
        )

    @staticmethod
    def _labels(targets: list[_Target]) -> list[str]:
        labels: list[str] = []
        for target in targets:
            for label in (target.label, *target.extra_labels):
                if label not in labels:
                    labels.append(label)
        return labels

    def _resolve(self, query: str, targets: list[_Target], note: str | None) -> LookupResult:
        unique: list[_Target] = []
        for target in targets:
            if target not in unique:
                unique.append(target)
        labels = self._labels(unique)
        codes = tuple(sorted({c for t in unique for c in t.force_codes}))
        jurisdictions = sorted({t.jurisdiction for t in unique if t.jurisdiction})
        prefix = f"Did you mean {labels[0]}? " if note == "did you mean" and len(labels) == 1 else ""

        if jurisdictions and not codes and len(jurisdictions) == 1:
            result = self._outside(query, labels[0], jurisdictions[0], labels[0])
            return LookupResult(
                query,
                result.kind,
                matched=labels[0],
                message=prefix + result.message,
                suggestions=tuple(labels) if note else (),
                jurisdiction=result.jurisdiction,
            )
        if len(codes) == 1 and not jurisdictions:
            code = codes[0]
            kinds = {t.kind for t in unique}
            kind = "force" if "force" in kinds else "local_authority"
            area = self._area_phrase(code)
            if len(labels) == 1:
                label = labels[0]
                if kind == "force":
                    body = f"{label} is one of the 43 police force areas of England and Wales, in {self._force_regions[code]}."
                    if label != self._force_names[code]:
                        body = f"{label} is {area}, in {self._force_regions[code]}."
                else:
                    body = f"{label} is a local authority in {area}."
                return LookupResult(
                    query,
                    kind,
                    code,
                    codes,
                    False,
                    prefix + body,
                    matched=label,
                    suggestions=tuple(labels) if note else (),
                )
            shown = _join(labels[:4]) if len(labels) <= 4 else ", ".join(labels[:3]) + f" and {len(labels) - 3} more"
            verb = "is close to" if note == "did you mean" else "matches"
            return LookupResult(
                query,
                kind,
                code,
                codes,
                False,
                (f"“{_echo(query)}” {verb} {shown}, all in {area}."),
                matched=labels[0],
                suggestions=tuple(labels),
            )
        # Several forces (or places inside and outside England and Wales).
        options = [self._force_names[c] for c in codes] + jurisdictions
        if note is None and len(labels) == 1:
            count = _NUMBER_WORDS.get(len(options), str(len(options)))
            lead = f"{labels[0]} is covered by {count} police forces, {_join(options)}"
        else:
            lead = f"“{_echo(query)}” could mean {_join(labels[:_MAX_SUGGESTIONS])}"
        suggestions = options if note is None and len(labels) == 1 else labels[:_MAX_SUGGESTIONS]
        return LookupResult(
            query,
            "ambiguous",
            None,
            codes,
            False,
            f"{lead}: choose one, or give a postcode to find the force.",
            suggestions=tuple(suggestions),
        )
