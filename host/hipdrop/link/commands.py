"""``hipdrop scan``, ``record`` and ``sync``: argument parsing and what they print.

Everything heavy (bleak, Bumble, the store, the engine) is imported when a command runs.
"""

from __future__ import annotations

import sys

from ..argtypes import above_zero


def add_link_commands(commands, add_db_option) -> None:
    _add_scan(commands)
    _add_record(commands, add_db_option)
    _add_sync(commands, add_db_option)


def _add_sim_options(p, faults=True) -> None:
    p.add_argument(
        "--sim", metavar="SCENARIO",
        help="use the virtual sensor playing SCENARIO over a virtual BLE link instead of a radio "
        "(`hipdrop simulate --list`)",
    )  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="simulated scenario seed (with --sim)")
    p.add_argument(
        "--realtime", action="store_true",
        help="with --sim: run at the wall clock's pace (default: simulated time, fast)",
    )  # fmt: skip
    if faults:
        p.add_argument(
            "--faults", default="", metavar="LIST",
            help="with --sim: 'disconnect@60:30' (walk out of range for 30 s), 'reboot@90', "
            "'corrupt@120:20' (damaged notifications for 20 s); comma-separated",
        )  # fmt: skip


def _add_scan(commands) -> None:
    p = commands.add_parser(
        "scan", help="list the hipdrop sensors in range",
        description="Scan for hipdrop sensors (matched on the hipdrop service UUID, not the name) "
        "and list name, address, signal strength, battery and firmware version.",
    )  # fmt: skip
    p.add_argument(
        "--seconds",
        type=above_zero("seconds"),
        default=5.0,
        help="scan time (default: %(default)s)",
    )
    p.add_argument("--json", action="store_true", help="print the sensors as JSON")
    _add_sim_options(p, faults=False)
    p.set_defaults(run=_run_scan)


def _run_scan(args) -> int:
    import json

    from .find import scan
    from .radio import open_radio, run_link

    async def main():
        async with open_radio(args.sim, args.seed, realtime=args.realtime) as radio:
            return await scan(radio.backends, args.seconds)

    found = run_link(main, args.sim, args.realtime)
    rows = [_sighting_row(s) for s in found]
    if args.json:
        print(json.dumps(rows))
    elif not rows:
        print(f"no hipdrop sensor heard in {args.seconds:g} s (is it on and charged?)")
    for row in [] if args.json else rows:
        battery = "?" if row["battery_pct"] is None else f"{row['battery_pct']} %"
        print(f"{row['name']:14s} {row['address']:18s} RSSI {row['rssi']} dBm  "
              f"battery {battery:5s} firmware {row['firmware']}")  # fmt: skip
    return 0


def _sighting_row(s) -> dict:
    return {
        "name": s.name, "address": s.address, "rssi": s.rssi, "battery_pct": s.battery_pct,
        "firmware": s.firmware, "protocol_version": s.protocol_version,
    }  # fmt: skip


def _add_record(commands, add_db_option) -> None:
    p = commands.add_parser(
        "record", help="record a session from a sensor into the session store",
        description="Connect to a sensor (retrying with back-off), pair on first use, and "
        "record until Ctrl-C or --minutes. Disconnects are survived: the recorder reconnects "
        "and backfills what it missed from the sensor's memory, and reports what it could not. "
        "The session is analysed when it ends.",
    )  # fmt: skip
    p.add_argument("--device", metavar="ID", help="address, macOS UUID or advertised name "
                   "(default: the strongest sensor in range)")  # fmt: skip
    p.add_argument(
        "--minutes", type=above_zero("minutes"), help="stop after this long (default: Ctrl-C)"
    )
    p.add_argument("--athlete", metavar="NAME", help="whose session this is")
    p.add_argument("--notes", help="free text stored with the session")
    p.add_argument("--tag", action="append", default=[], help="a tag (repeatable)")
    p.add_argument("--no-analysis", action="store_true", help="do not analyse at the end")
    p.add_argument("--resume", metavar="SESSION",
                   help="continue an interrupted session (an id, or 'latest') instead of "
                   "starting a new one")  # fmt: skip
    add_db_option(p)
    _add_sim_options(p)
    p.set_defaults(run=_run_record)


def _run_record(args) -> int:
    from ..paths import session_db_path
    from ..store import Store
    from .radio import run_link
    from .recording import record

    with Store.open(session_db_path(args.db)) as store:
        recorder = run_link(lambda: record(store, args, _Printer()), args.sim, args.realtime)
        _finish(store, recorder.session_id, args.no_analysis or not recorder.kept)
    return 0


def _finish(store, session_id: int, no_analysis: bool) -> None:
    from ..engine.summary import summary_text
    from ..engine.warmup import warm_up
    from ..errors import HipdropError

    if no_analysis:
        return
    warm_up()
    print("analysing the session …", file=sys.stderr)
    try:
        print(summary_text(store.analyse(session_id)))
    except HipdropError as error:
        print(f"not analysed: {error}")


class _Printer:
    """Status line (rewritten in place on a terminal, every 30 s of session otherwise)."""

    def __init__(self, stream=sys.stderr, every_s: float = 30.0):
        self.stream = stream
        self.tty = stream.isatty()
        self.every_s = every_s
        self._next_s = 0.0

    def state(self, state) -> None:
        from .status_line import status_line

        if self.tty:
            print("\r" + status_line(state), end="", file=self.stream, flush=True)
        elif state.elapsed_s >= self._next_s:
            print(status_line(state), file=self.stream)
            self._next_s = state.elapsed_s + self.every_s

    def event(self, kind: str, text: str) -> None:
        print(("\n" if self.tty else "") + f"{kind}: {text}", file=self.stream)


def _add_sync(commands, add_db_option) -> None:
    p = commands.add_parser(
        "sync", help="download the sensor's flash logs into sessions",
        description="Download the logs the sensor recorded without a host (progress shown; an "
        "interrupted download resumes), verify each by checksum, store it as a session — or "
        "merge it into the live session whose disconnect it covers — and then erase it from "
        "the sensor (unless --keep).",
    )  # fmt: skip
    p.add_argument("--device", metavar="ID", help="address, macOS UUID or advertised name")
    p.add_argument("--athlete", metavar="NAME", help="athlete for new sessions")
    p.add_argument("--keep", action="store_true", help="leave the logs on the sensor")
    p.add_argument("--no-analysis", action="store_true", help="do not analyse the sessions")
    add_db_option(p)
    _add_sim_options(p)
    p.set_defaults(run=_run_sync)


def _run_sync(args) -> int:
    from ..paths import session_db_path
    from ..store import Store
    from .radio import run_link
    from .sync import sync

    with Store.open(session_db_path(args.db)) as store:
        sessions = run_link(lambda: sync(store, args), args.sim, args.realtime)
        for session_id in sessions:
            _finish(store, session_id, args.no_analysis)
    return 0
