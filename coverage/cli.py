"""``atlas`` (or ``python -m coverage``): the same core the pages use, for analysts, batch jobs and tests.

Exit status: 0 success; 2 bad input (one line on stderr naming the file, row or field);
1 an internal error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from coverage import paths
from coverage.errors import InputError
from coverage.vocabulary import HEADLINE_MEASURE, MEASURES


def _cmd_build_data(args: argparse.Namespace) -> int:
    from coverage.build.data import build_data

    report = build_data(Path(args.source), Path(args.research) if args.research else None)
    print("\n".join(report.lines()))
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from coverage.model import atlas_data
    from coverage.model.boundaries import read_boundaries
    from coverage.model.forces import force_names

    forces = atlas_data.load_forces()
    results: dict[str, object] = {}
    if args.boundaries:
        checked = read_boundaries(args.boundaries, force_names(forces))
        results["boundaries"] = {
            "file": str(args.boundaries),
            "forces": len(checked.frame),
            "crs": checked.source_crs,
            "code_field": checked.code_field,
            "repaired": checked.repaired,
        }
    if args.services:
        register = atlas_data.load_register(args.services, forces=forces)
        results["services"] = {"file": str(args.services), "rows": len(register)}
    if not results:
        atlas_data.load_all()
        results["shipped"] = "ok"
    if args.json:
        print(json.dumps({"ok": True, **results}))
    else:
        for key, value in results.items():
            print(f"{key}: ok — {value}")
    return 0


def _cmd_lookup(args: argparse.Namespace) -> int:
    from coverage.model.postcodes import Lookup

    result = Lookup.from_data_dir(paths.DATA_DIR).lookup(args.query)
    if result.kind in ("invalid", "not_found"):
        raise InputError(result.message, where="lookup")
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        print(result.message)
    return 0


def _cmd_summary(args: argparse.Namespace) -> int:
    from coverage.model import atlas_data
    from coverage.model.lottery import SUMMARY_MEASURES, national_figures
    from coverage.vocabulary import MEASURE

    data = atlas_data.load_all()
    figures = national_figures(data.forces, data.register, data.crime, MEASURE[args.measure])
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
        return 0
    print(f"Forces: {figures['forces']} (snapshot: {figures['snapshot']})")
    print(f"Offences: {figures['offences_measure']}, police recorded, {figures['offences_period']}")
    for _, key in SUMMARY_MEASURES:
        print(
            f"  {key.replace('_', ' '):<24} {figures[f'forces_with_{key}']:>3} forces, "
            f"{figures[f'population_16plus_share_{key}']:.1%} of people aged 16+, "
            f"{figures[f'offences_share_{key}']:.1%} of recorded offences"
        )
    print(f"  {figures['offences_note']}")
    inequality = figures["inequality"]
    print(f"  Gini of local services per 100,000 aged 16+: {inequality['gini_services_per_100k_16plus']}")
    return 0


def _cmd_cost(args: argparse.Namespace) -> int:
    from coverage.model import atlas_data
    from coverage.outputs.scenario_workbook import scenario_workbook
    from coverage.planner.costing import run_scenario, to_json_summary
    from coverage.planner.demand import demand_offences
    from coverage.planner.schema import load_scenario_file

    scenario = load_scenario_file(args.scenario)
    data = atlas_data.load_all()
    existing = atlas_data.forces_with_multi_agency_unit(data.forces, data.register)
    basis = demand_offences(scenario, data.crime, data.indicators)
    result = run_scenario(scenario, data.forces, basis.offences, existing_units=existing)
    if args.xlsx:
        Path(args.xlsx).write_bytes(scenario_workbook(result, scenario))
    summary = to_json_summary(result)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, default=str))
    else:
        print(f"{scenario.name}: {len(summary['by_force'])} force(s), {len(summary['by_year'])} years")
        print(f"  total cost (nominal): £{summary['total_cost_nominal']:,.0f}")
        print(f"  total cost (real):    £{summary['total_cost_real']:,.0f}")
        print(f"  present value:        £{summary['present_value']:,.0f}")
        print(f"  FTE (steady state):   {summary['fte_total']:,.1f}")
        if args.xlsx:
            print(f"  workbook written to {args.xlsx}")
    return 0


def _cmd_briefing(args: argparse.Namespace) -> int:
    from coverage.model import atlas_data
    from coverage.outputs.briefing import write_all_briefings, write_briefing

    data = atlas_data.load_all()
    if args.all:
        written = write_all_briefings(args.out, data, scenario_id=args.scenario, workers=2)
    else:
        written = write_briefing(args.out, args.force, data, scenario_id=args.scenario)
    print(f"wrote {len(written)} files to {args.out}")
    return 0


def build_parser(prog: str = "python -m coverage") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=(__doc__ or "").splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build-data", help="rebuild the derived files in data/")
    build.add_argument("--source", required=True, help="the shared/data folder with the ONS inputs")
    build.add_argument("--research", help="the research drafts folder (default: beside --source)")
    build.set_defaults(handler=_cmd_build_data)

    validate = commands.add_parser(
        "validate", help="check a boundary file or service register (default: the shipped files)"
    )
    validate.add_argument("--boundaries", type=Path, help="GeoJSON, GeoPackage, shapefile or zipped shapefile")
    validate.add_argument("--services", type=Path, help="a service register CSV")
    validate.add_argument("--json", action="store_true", help="print one JSON object")
    validate.set_defaults(handler=_cmd_validate)
    lookup = commands.add_parser(
        "lookup", help="which police force area a postcode, district, council or force name is in"
    )
    lookup.add_argument("query", help="e.g. 'CH1 2AB', SO14, Warrington, Cheshire")
    lookup.add_argument("--json", action="store_true", help="print one JSON object")
    lookup.set_defaults(handler=_cmd_lookup)

    summary = commands.add_parser("summary", help="national postcode-lottery figures")
    summary.add_argument("--json", action="store_true", help="print one JSON object")
    summary.add_argument(
        "--measure",
        choices=[measure.key for measure in MEASURES],
        default=HEADLINE_MEASURE.key,
        help="the recorded offences to share out (default: stalking, 8Q; 'group' is the ONS stalking and harassment group)",
    )
    summary.set_defaults(handler=_cmd_summary)

    cost = commands.add_parser("cost", help="staff and cost a scenario (YAML)")
    cost.add_argument("scenario", type=Path, help="a scenario YAML file (see data/scenarios/presets)")
    cost.add_argument("--json", action="store_true", help="print one JSON object")
    cost.add_argument("--xlsx", type=Path, help="also write a workbook with inputs, results and sources")
    cost.set_defaults(handler=_cmd_cost)
    briefing = commands.add_parser("briefing", help="write a force's (or the national) briefing pack")
    briefing.add_argument("--force", help="ONS force code, e.g. E23000006 (default: England and Wales)")
    briefing.add_argument("--all", action="store_true", help="every force and England and Wales, two processes")
    briefing.add_argument("--scenario", help="a scenario preset id to cost in the pack (see data/scenarios/presets)")
    briefing.add_argument("--out", type=Path, required=True, help="folder to write into")
    briefing.set_defaults(handler=_cmd_briefing)
    return parser


def main(argv: list[str] | None = None, prog: str = "python -m coverage") -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    try:
        handler: Callable[[argparse.Namespace], int] = args.handler  # each command's set_defaults(handler=...)
        return handler(args)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 1
    except Exception as error:  # a bug, not bad input: say so without a wall of traceback
        print(f"internal error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1


def atlas() -> int:
    """The ``atlas`` console script: the same commands as ``python -m coverage``."""
    return main(prog="atlas")
