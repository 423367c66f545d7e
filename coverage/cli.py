"""``python -m coverage``: the same core the pages use, for analysts, batch jobs and tests.

Exit status: 0 success; 2 bad input (one line on stderr naming the file, row or field);
1 an internal error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import paths
from .errors import InputError


def _cmd_build_data(args: argparse.Namespace) -> int:
    from .build import build_data

    report = build_data(Path(args.source), Path(args.research) if args.research else None)
    print("\n".join(report.lines()))
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from . import atlas_data
    from .boundaries import read_boundaries
    from .forces import force_names

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m coverage", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build-data", help="rebuild the derived files in data/")
    build.add_argument("--source", required=True, help="the shared/data folder with the ONS inputs")
    build.add_argument("--research", help="the research drafts folder (default: beside --source)")
    build.set_defaults(handler=_cmd_build_data)

    validate = commands.add_parser("validate", help="check a boundary file or service register (default: the shipped files)")
    validate.add_argument("--boundaries", type=Path, help="GeoJSON, GeoPackage, shapefile or zipped shapefile")
    validate.add_argument("--services", type=Path, help="a service register CSV")
    validate.add_argument("--json", action="store_true", help="print one JSON object")
    validate.set_defaults(handler=_cmd_validate)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 1
    except Exception as error:  # a bug, not bad input: say so without a wall of traceback
        print(f"internal error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
