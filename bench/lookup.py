"""Benchmark the postcode / place → police force lookup; prints the figures (and --json).

    python bench/lookup.py

Builds from the shipped data/postcodes/*.csv; if they are not built yet, builds the same tables
in memory from ../shared/data. Targets: a single lookup ≤ 5 ms after load (median of 1,000 distinct
queries, uncached), and 100,000 mixed queries ≤ 1 s through ``lookup_many``.

The mix: 45% full postcodes (random inward codes, so nearly all distinct), 15% postcode districts,
25% local authority and force names (a quarter of them in lower case with a trailing space), 2%
misspellings (500 distinct), 13% other (outside England and Wales, unknown, empty, emoji, SQL, HTML,
5,000 characters). Misspellings are the slow path (difflib), so their cost is also shown on its own.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time

from coverage import paths
from coverage.build.postcodes import build_postcode_tables
from coverage.model.forces import read_force_table
from coverage.model.postcodes import (
    LOCAL_AUTHORITIES_CSV,
    OUTWARD_CODES_CSV,
    Lookup,
    read_local_authorities,
    read_outward_codes,
)

# The installed package knows where its checkout is (an editable install: pip install -e .).
REPO = paths.REPO_ROOT

SHARED_DATA = REPO.parent / "shared" / "data"


def load() -> tuple[Lookup, object, object, str, float]:
    started = time.perf_counter()
    forces = read_force_table(paths.FORCES_CSV)
    if (paths.DATA_DIR / OUTWARD_CODES_CSV).exists() and (paths.DATA_DIR / LOCAL_AUTHORITIES_CSV).exists():
        outward = read_outward_codes(paths.DATA_DIR / OUTWARD_CODES_CSV)
        las = read_local_authorities(paths.DATA_DIR / LOCAL_AUTHORITIES_CSV)
        origin = "data/postcodes (shipped)"
    elif (SHARED_DATA / "PROVENANCE.md").exists():
        outward, las = build_postcode_tables(SHARED_DATA, forces)
        origin = "../shared/data (built in memory; data/postcodes not built yet)"
    else:
        sys.exit("no data/postcodes/*.csv and no ../shared/data to build them from")
    lookup = Lookup.from_frames(outward, las, forces)
    return lookup, outward, las, origin, time.perf_counter() - started


def query_pool(outward, las, forces, rng: random.Random) -> list[str]:
    """Realistic queries: full postcodes, districts, LA and force names, typos, junk."""
    districts = [c for c, f in zip(outward["outward_code"], outward["force_code"]) if f]
    letters = "ABDEFGHJLNPQRSTUWXYZ"

    def postcode() -> str:
        code = rng.choice(districts)
        inward = f"{rng.randint(0, 9)}{rng.choice(letters)}{rng.choice(letters)}"
        return rng.choice([f"{code} {inward}", f"{code}{inward}".lower(), f" {code.lower()}  {inward} "])

    def typo(name: str) -> str:
        i = rng.randrange(1, len(name) - 1)
        return name[:i] + name[i + 1 :]

    names = list(las["lad_name"]) + list(forces["name"])
    misspellings = [typo(rng.choice([n for n in names if len(n) > 6])) for _ in range(500)]
    specials = [
        "EH1 1YZ",
        "BT1",
        "JE2 3AB",
        "IM1",
        "GY1 1AA",
        "ZZ99 9ZZ",
        "London",
        "Met",
        "GMP",
        "",
        "🙂",
        "'; DROP TABLE x;--",
        "<script>alert(1)</script>",
        "x" * 5000,
        "Carlisle",
        "Newcastle",
        "chesire",
        "Warington",
        "BN91",
        "CH4",
    ]
    pool = [postcode() for _ in range(45_000)]  # full postcodes, nearly all distinct
    pool += [rng.choice(districts) for _ in range(15_000)]  # postcode districts
    pool += [rng.choice(names) for _ in range(18_000)]  # local authority and force names
    pool += [rng.choice(names).lower() + " " for _ in range(7_000)]  # … typed carelessly
    pool += [rng.choice(misspellings) for _ in range(2_000)]  # misspellings (500 distinct)
    pool += [rng.choice(specials) for _ in range(13_000)]  # outside E&W, unknown, junk
    rng.shuffle(pool)
    return pool[:100_000]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    rng = random.Random(20231201)

    lookup, outward, las, origin, load_s = load()
    forces = read_force_table(paths.FORCES_CSV)
    pool = query_pool(outward, las, forces, rng)

    # Single lookups: 1,000 distinct queries the cache has not seen, each timed on its own.
    singles = list(dict.fromkeys(pool))[:1_000]
    times_ms = []
    for query in singles:
        started = time.perf_counter()
        lookup.lookup(query)
        times_ms.append((time.perf_counter() - started) * 1000)
    # The slow path on its own: misspellings answered with difflib.
    typos = [f"{name[:3]}{name[4:]}x" for name in las["lad_name"] if len(name) > 7][:200]
    typo_ms = []
    for query in typos:
        started = time.perf_counter()
        lookup.lookup(query)
        typo_ms.append((time.perf_counter() - started) * 1000)

    # A batch of 100,000 mixed queries on a fresh lookup (cold cache), and again (warm cache).
    fresh, *_ = load()
    started = time.perf_counter()
    results = fresh.lookup_many(pool)
    batch_cold_s = time.perf_counter() - started
    started = time.perf_counter()
    fresh.lookup_many(pool)
    batch_warm_s = time.perf_counter() - started

    kinds: dict[str, int] = {}
    for result in results:
        kinds[result.kind] = kinds.get(result.kind, 0) + 1
    figures = {
        "source": origin,
        "load_s": round(load_s, 3),
        "outward_codes": int((outward["force_code"] != "").sum()),
        "straddling": int(outward["candidate_force_codes"].str.contains(";").sum()),
        "single_lookup_median_ms": round(statistics.median(times_ms), 4),
        "single_lookup_p99_ms": round(sorted(times_ms)[int(len(times_ms) * 0.99)], 3),
        "single_lookup_max_ms": round(max(times_ms), 3),
        "misspelling_median_ms": round(statistics.median(typo_ms), 3),
        "misspelling_max_ms": round(max(typo_ms), 3),
        "batch_queries": len(pool),
        "batch_distinct_queries": len(set(pool)),
        "batch_cold_s": round(batch_cold_s, 3),
        "batch_warm_s": round(batch_warm_s, 3),
        "kinds": dict(sorted(kinds.items())),
        "targets": {"single_lookup_ms": 5, "batch_s": 1},
    }
    if args.json:
        print(json.dumps(figures))
        return
    print(f"source: {figures['source']} (loaded in {figures['load_s']} s)")
    print(f"{figures['outward_codes']:,} outward codes, {figures['straddling']} straddle a force border")
    print(
        f"single lookup: median {figures['single_lookup_median_ms']} ms, p99 {figures['single_lookup_p99_ms']} ms, "
        f"max {figures['single_lookup_max_ms']} ms (target ≤ 5 ms)"
    )
    print(
        f"misspelling (difflib path): median {figures['misspelling_median_ms']} ms, max {figures['misspelling_max_ms']} ms"
    )
    print(
        f"batch of {figures['batch_queries']:,} mixed queries ({figures['batch_distinct_queries']:,} distinct): "
        f"{figures['batch_cold_s']} s cold cache, {figures['batch_warm_s']} s warm (target ≤ 1 s)"
    )
    print("kinds: " + ", ".join(f"{k} {v:,}" for k, v in figures["kinds"].items()))


if __name__ == "__main__":
    main()
