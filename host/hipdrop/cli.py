"""The ``hipdrop`` command: a thin layer of argument parsing over the package.

Each subcommand imports its machinery only when it runs, so ``hipdrop --help`` and the light
commands start fast and never load Numba or Qt.
"""

import argparse
import sys

from . import __version__
from .errors import HipdropError


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args) or 0
    except HipdropError as error:
        print(f"hipdrop: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hipdrop: interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hipdrop",
        description="Stride-by-stride pelvic drop from a sacral IMU: link, analysis, review.",
    )
    parser.add_argument("--version", action="version", version=f"hipdrop {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    _add_analyze(commands)
    _add_demo(commands)
    _add_simulate(commands)
    return parser


def _add_analyze(commands):
    p = commands.add_parser(
        "analyze",
        help="per-step pelvic drop, contacts, sides and fatigue of a recording",
        description="Analyse INPUT, a CSV in the interchange format (time_s,acc_x,acc_y,acc_z,"
        "gyr_x,gyr_y,gyr_z: sensor axes as worn, m/s² and deg/s; an optional speed_mps column). "
        "Prints a summary, or writes the JSON document (docs/analysis.md) with --json.",
    )
    p.add_argument("input", help="CSV file")
    p.add_argument("--json", metavar="OUT", help="write the analysis as JSON to OUT ('-': stdout)")
    p.add_argument(
        "--axes",
        help="remap another sensor's axes, e.g. 'x=-z,y=y,z=x' "
        "(proper rotations only: a mirror would swap left and right)",
    )
    p.add_argument("--acc-unit", default="m/s2", choices=["m/s2", "g"])
    p.add_argument("--gyr-unit", default="deg/s", choices=["deg/s", "rad/s"])
    p.add_argument(
        "--speed",
        type=float,
        metavar="M_PER_S",
        help="known treadmill speed (otherwise a speed_mps column, if any)",
    )
    p.set_defaults(run=_run_analyze)


def _run_analyze(args):
    import json

    from .engine.analyze import analyze
    from .engine.inputs import check_plausible, read_csv
    from .engine.summary import summary_text

    data = check_plausible(
        read_csv(args.input, args.axes, args.acc_unit, args.gyr_unit, args.speed)
    )
    doc = analyze(data)
    if args.json == "-":
        print(json.dumps(doc))
    elif args.json:
        with open(args.json, "w") as out:
            out.write(json.dumps(doc))  # one C-encoded string: json.dump(indent=…) is 10× slower
        print(f"wrote {args.json}: {len(doc['steps'])} steps")
    else:
        print(summary_text(doc))
    return 0


def _add_demo(commands):
    p = commands.add_parser(
        "demo",
        help="run the whole chain on the built-in simulated sensor (no hardware needed)",
        description="Stream a simulated run from the virtual sensor through the wire protocol "
        "into the host pipeline and print what arrives.",
    )
    p.add_argument(
        "--scenario",
        default="treadmill_quick",
        help="simulated scenario (default: %(default)s; `hipdrop simulate --list`)",
    )
    p.add_argument("--seed", type=int, default=0, help="scenario seed (default: %(default)s)")
    p.add_argument(
        "--realtime",
        action="store_true",
        help="pace the stream like a real sensor instead of as fast as possible",
    )
    p.add_argument(
        "--faults",
        default="",
        help="link faults to inject, e.g. 'drop@20:1.5,dup@30,reorder@40,"
        "corrupt@50,disconnect@60:5,reboot@80' (kind@time_s[:seconds])",
    )
    p.add_argument(
        "--every",
        type=float,
        default=5.0,
        metavar="S",
        help="print a progress line every S simulated seconds (default: %(default)s)",
    )
    p.set_defaults(run=_run_demo)


def _run_demo(args):
    from .live.demo import run_demo

    return run_demo(args.scenario, args.seed, args.realtime, args.faults, args.every)


def _add_simulate(commands):
    p = commands.add_parser(
        "simulate",
        help="write a simulated recording as CSV (interchange format) with its ground truth",
        description="Write SCENARIO's samples to OUT (time_s,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z "
        "in m/s² and deg/s, sensor axes) and its ground truth to OUT with .truth.json.",
    )
    p.add_argument("scenario", nargs="?", help="scenario name")
    p.add_argument("--out", help="CSV path (default: SCENARIO-SEED.csv)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--rate",
        type=float,
        default=200.0,
        choices=[100.0, 104.0, 200.0, 208.0],
        help="sample rate in Hz (default: %(default)s)",
    )
    p.add_argument("--list", action="store_true", help="list the scenarios and exit")
    p.set_defaults(run=_run_simulate)


def _run_simulate(args):
    from .sim import SCENARIOS, scenario, write_csv

    if args.list or not args.scenario:
        for name, build in SCENARIOS.items():
            print(f"{name:20s} {(build.__doc__ or '').strip().splitlines()[0]}")
        return 0
    recording = scenario(args.scenario, args.seed, args.rate)
    out = args.out or f"{args.scenario}-{args.seed}.csv"
    csv_path, truth = write_csv(recording, out)
    print(
        f"wrote {csv_path} ({len(recording)} samples, {len(recording.truth.steps)} steps) "
        f"and {truth}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
