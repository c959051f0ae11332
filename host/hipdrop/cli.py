"""The ``hipdrop`` command: a thin layer of argument parsing over the package.

Each subcommand imports its machinery only when it runs, so ``hipdrop --help`` and the light
commands start fast and never load Numba or Qt.
"""

import argparse
import sys
from contextlib import contextmanager

from . import __version__
from .argtypes import above_zero
from .errors import HipdropError
from .link.commands import add_link_commands


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
    except BrokenPipeError:  # e.g. `hipdrop sessions | head`: the reader has what it wanted
        sys.stderr.close()
        return 0


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
    _add_device(commands)
    add_link_commands(commands, _add_db_option)
    _add_sessions(commands)
    _add_export(commands)
    return parser


def _add_db_option(parser, in_subcommand=False, default_help=None):
    """``--db PATH``; in a sub-subcommand it must not overwrite the parent's value."""
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=argparse.SUPPRESS if in_subcommand else None,
        help="session database (default: "
        + (default_help or "$HIPDROP_DB, else sessions.db in the user data folder")
        + ")",
    )


def _add_session_argument(parser):
    parser.add_argument("session", metavar="SESSION", help="a session id, or 'latest'")


def _add_analyze(commands):
    p = commands.add_parser(
        "analyze",
        help="per-step pelvic drop, contacts, sides and fatigue of a recording",
        description="Analyse INPUT, a CSV in the interchange format (time_s,acc_x,acc_y,acc_z,"
        "gyr_x,gyr_y,gyr_z: sensor axes as worn, time in s, m/s² and deg/s, 20–1000 Hz; an "
        "optional speed_mps column), "
        "or a stored session (its id, or 'latest'), whose results are then stored with it. "
        "Prints a summary, or writes the JSON document (docs/analysis.md) with --json.",
    )
    p.add_argument("input", help="CSV file, or a session id or 'latest'")
    p.add_argument("--json", metavar="OUT", help="write the analysis as JSON to OUT ('-': stdout)")
    p.add_argument(
        "--axes",
        help="remap another sensor's axes, e.g. 'x=-z,y=y,z=x' "
        "(proper rotations only: a mirror would swap left and right)",
    )
    p.add_argument(
        "--acc-unit",
        default="m/s2",
        choices=["m/s2", "g", "-m/s2", "-g"],
        help="accelerometer unit (default m/s2); '-g' or '-m/s2' (write --acc-unit=-g) for "
        "acceleration that reads -1 g upward at rest, as Apple's Core Motion reports it",
    )
    p.add_argument(
        "--gyr-unit",
        default="deg/s",
        choices=["deg/s", "rad/s"],
        help="gyroscope unit (default deg/s)",
    )
    p.add_argument(
        "--speed",
        type=float,
        metavar="M_PER_S",
        help="known treadmill speed in m/s, not km/h (otherwise a speed_mps column, if any)",
    )
    _add_db_option(p)
    p.set_defaults(run=_run_analyze)


def _run_analyze(args):
    from .engine.analyze import analyze
    from .engine.inputs import read_csv
    from .engine.plausible import check_plausible
    from .engine.warmup import warm_up

    _check_target(args.json, "--json")
    if _is_session_ref(args.input):
        return _run_analyze_session(args)
    data = check_plausible(
        read_csv(args.input, args.axes, args.acc_unit, args.gyr_unit, args.speed),
        args.acc_unit,
        args.gyr_unit,
    )
    warm_up()  # after the checks: a wrong path or unit is said at once
    _show_analysis(analyze(data), args.json)
    return 0


def _check_target(path, option):
    """Say before the work, not after it, that its output cannot be written at ``path``."""
    from pathlib import Path

    if not path or path == "-":
        return
    path = Path(path)
    if path.is_dir():
        raise HipdropError(f"{option} {path} is a folder; give a file name")
    if not path.parent.is_dir():
        raise HipdropError(f"{option} {path}: there is no folder {path.parent}")


@contextmanager
def _writing(path):
    """An OSError while writing ``path`` (a full disk, no permission) becomes a message."""
    try:
        yield
    except OSError as error:
        raise HipdropError(f"cannot write {path}: {error.strerror or error}") from None


def _is_session_ref(text):
    """A session id or 'latest' that is not also the name of a file."""
    from pathlib import Path

    return (text.isdigit() or text.lower() == "latest") and not Path(text).exists()


def _run_analyze_session(args):
    from .engine.warmup import warm_up
    from .paths import session_db_path
    from .store import Store

    if args.axes or args.acc_unit != "m/s2" or args.gyr_unit != "deg/s":
        raise HipdropError(
            "--axes, --acc-unit and --gyr-unit are for CSV files; a stored session is in the "
            "sensor's own axes and units"
        )
    with Store.open(session_db_path(args.db), create=False) as store:
        sid = store.resolve(args.input)
        warm_up()
        doc = store.analyse(sid, speed_mps=args.speed)
    _show_analysis(doc, args.json)
    if args.json != "-":
        print(f"stored the results with session {sid}")
    return 0


def _show_analysis(doc, json_out):
    import json

    from .engine.summary import summary_text

    if json_out == "-":
        print(json.dumps(doc))
    elif json_out:
        with _writing(json_out), open(json_out, "w") as out:
            out.write(json.dumps(doc))  # one C string: json.dump(indent=…) is 10× slower
        print(f"wrote {json_out}: {len(doc['steps'])} steps")
    else:
        print(summary_text(doc))


def _add_demo(commands):
    p = commands.add_parser(
        "demo",
        help="run the whole chain on the built-in simulated sensor (no hardware needed)",
        description="Record a simulated run from the virtual sensor (the firmware on a BLE stack) "
        "over a virtual BLE link through the host's real Bluetooth code, with the live gait "
        "engine, into the demo session database (or --db), then analyse it.",
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
        help="faults on the air: 'disconnect@60:30' (out of range for 30 s), 'reboot@90', "
        "'corrupt@40:10' (damaged notifications for 10 s); comma-separated",
    )
    p.add_argument(
        "--every",
        type=above_zero("seconds"),
        default=5.0,
        metavar="S",
        help="print a progress line every S simulated seconds (default: %(default)s)",
    )
    _add_db_option(p, default_help="demo.db in the user data folder, apart from real sessions")
    p.set_defaults(run=_run_demo)


def _run_demo(args):
    from .engine.warmup import warm_up
    from .live.demo import run_demo

    warm_up()  # else the live view would stand still while it compiles
    return run_demo(args.scenario, args.seed, args.realtime, args.faults, args.every, args.db)


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
    out = args.out or f"{args.scenario}-{args.seed}.csv"
    _check_target(out, "--out")
    recording = scenario(args.scenario, args.seed, args.rate)
    with _writing(out):
        csv_path, truth = write_csv(recording, out)
    print(
        f"wrote {csv_path} ({len(recording)} samples, {len(recording.truth.steps)} steps) "
        f"and {truth}"
    )
    return 0


def _add_sessions(commands):
    p = commands.add_parser(
        "sessions",
        help="list the stored sessions; close an interrupted one, or delete one",
        description="List the sessions in the database, newest first: athlete, date, duration, "
        "steps, mean pelvic drop per stance side, fatigue onset, completeness and state. "
        "`hipdrop sessions close SESSION` ends an interrupted recording; "
        "`hipdrop sessions delete SESSION` removes one for good.",
    )
    _add_db_option(p)
    p.add_argument("--athlete", metavar="NAME", help="only this athlete's sessions")
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.set_defaults(run=_run_sessions)
    actions = p.add_subparsers(title="actions", metavar="ACTION")
    d = actions.add_parser(
        "delete",
        help="delete a session and all its data for good",
        description="Delete SESSION: its raw packets, samples, results and notes, for good.",
    )
    _add_session_argument(d)
    _add_db_option(d, in_subcommand=True)
    d.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    d.set_defaults(run=_run_sessions_delete)
    c = actions.add_parser(
        "close",
        help="end an interrupted recording (kept as incomplete)",
        description="Mark SESSION, whose recorder was killed or lost power, as ended "
        "(incomplete) at its last packet. `hipdrop record --resume SESSION` continues it instead.",
    )
    _add_session_argument(c)
    _add_db_option(c, in_subcommand=True)
    c.set_defaults(run=_run_sessions_close)


def _run_sessions(args):
    from .paths import session_db_path
    from .store import Store
    from .store.listing import EMPTY, sessions_json, sessions_table

    path = session_db_path(args.db)
    if not path.exists():
        print("[]" if args.json else EMPTY)
        return 0
    with Store.open(path, readonly=True) as store:
        infos = store.sessions(args.athlete)
    print(sessions_json(infos) if args.json else sessions_table(infos))
    return 0


def _run_sessions_delete(args):
    from .paths import session_db_path
    from .store import Store

    with Store.open(session_db_path(args.db), create=False) as store:
        sid = store.resolve(args.session)
        info = store.session(sid)
        if not args.yes and not _confirmed(sid, info):
            print(f"kept session {sid}")
            return 1
        cleared = store.delete_session(sid)
    print(f"deleted session {sid}")
    if not cleared:
        print("note: another program is reading the database; SQLite clears its log of the "
              "deleted data when that reader closes", file=sys.stderr)  # fmt: skip
    return 0


def _run_sessions_close(args):
    from .paths import session_db_path
    from .store import Store

    with Store.open(session_db_path(args.db), create=False) as store:
        sid = store.resolve(args.session)
        store.close_session(sid)
    print(f"closed session {sid} (incomplete)")
    return 0


def _confirmed(sid, info):
    from datetime import datetime

    if not sys.stdin.isatty():
        raise HipdropError(f"not deleting session {sid} without confirmation: add --yes")
    when = datetime.fromtimestamp(info.started_at).strftime("%Y-%m-%d %H:%M")
    who = info.athlete or "no athlete"
    answer = input(f"delete session {sid} ({who}, {when}) and all its data for good? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def _add_export(commands):
    p = commands.add_parser(
        "export",
        help="write a session's samples, steps and minutes as CSV or Parquet",
        description="Write SESSION's samples to OUT (CSV interchange format: time_s,acc_x,acc_y,"
        "acc_z,gyr_x,gyr_y,gyr_z in s on the session clock, m/s² and deg/s, sensor axes as worn) "
        "and its steps and per-minute table beside it (run.csv → run.steps.csv, "
        "run.minutes.csv). A session not analysed yet is analysed first.",
    )
    _add_session_argument(p)
    p.add_argument("--out", required=True, metavar="PATH", help="samples file")
    p.add_argument(
        "--format",
        choices=["csv", "parquet"],
        help="default: parquet for a .parquet PATH, else csv (parquet needs pip install "
        "'hipdrop[parquet]')",
    )
    _add_db_option(p)
    p.set_defaults(run=_run_export)


def _run_export(args):
    from .engine.warmup import warm_up
    from .paths import session_db_path
    from .store import Store
    from .store.export import export

    _check_target(args.out, "--out")
    path = session_db_path(args.db)
    fmt = args.format or ("parquet" if args.out.lower().endswith(".parquet") else "csv")
    with Store.open(path, readonly=True) as store:
        sid = store.resolve(args.session)
        samples = store.samples(sid)
        results = store.results(sid)
    if results is None:
        warm_up()
        with Store.open(path, create=False) as store:
            store.analyse(sid, samples)
            results = store.results(sid)
    progress = _progress if sys.stderr.isatty() else None
    with _writing(args.out):
        written = export(samples, results, args.out, fmt, progress)
    print(f"wrote {', '.join(map(str, written))}: {len(samples):,} samples, "
          f"{len(results['steps']):,} steps, {len(results['minutes'])} minutes")  # fmt: skip
    return 0


def _progress(done, total):
    print(f"\rexporting samples: {100 * done / total:3.0f}%", end="", file=sys.stderr)
    if done >= total:
        print(file=sys.stderr)


def _add_device(commands):
    from .device.layout import BOARDS

    p = commands.add_parser(
        "device",
        help="put the firmware on a board over USB (flash), list serial ports",
        description="Deploy the sensor's firmware over a USB serial cable (docs/firmware.md, "
        "'From unboxing to first stream'). Needs the 'device' extra: "
        "pip install 'hipdrop[device]'.",
    )
    actions = p.add_subparsers(title="actions", metavar="ACTION", required=True)
    f = actions.add_parser(
        "flash",
        help="copy the firmware and a board profile onto a board running MicroPython",
        description="Copy the firmware and the board profile onto a board running MicroPython "
        "(mpremote), after installing MicroPython from FILE.bin if given (esptool). An update "
        "keeps the calibration, the boot counter and the logs; it refuses while the board "
        "holds logs not yet synced.",
    )
    f.add_argument("--board", required=True, choices=BOARDS, help="the board profile")
    f.add_argument(
        "--port",
        help="serial port, e.g. /dev/ttyUSB0, /dev/cu.usbserial-0001, COM3 "
        "(default: the only USB serial port)",
    )
    f.add_argument(
        "--firmware-image",
        metavar="FILE.bin",
        help="install MicroPython from this image first (ESP32_GENERIC-SPIRAM-*.bin from "
        "micropython.org, downloaded by you); erases the whole flash",
    )
    f.add_argument(
        "--mpy",
        action="store_true",
        help="compile the firmware with mpy-cross (-march=xtensawin): faster boot, less RAM",
    )
    f.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    f.add_argument("--force", action="store_true", help="flash although logs are unsynced")
    f.set_defaults(run=_run_device_flash)
    ports = actions.add_parser(
        "list-ports", help="list the serial ports", description="List the serial ports."
    )
    ports.set_defaults(run=_run_device_list_ports)


def _run_device_flash(args):
    from pathlib import Path

    from .device.flash import Request, flash

    image = Path(args.firmware_image) if args.firmware_image else None
    return flash(Request(args.board, args.port, image, args.mpy, args.dry_run, args.force))


def _run_device_list_ports(args):
    from .device.ports import print_ports

    return print_ports()


if __name__ == "__main__":
    sys.exit(main())
