"""What a flash does to the board: pure decisions from what is there and what is to be copied.

An update copies code only: ``main.py``, the ``hipdrop_fw`` package and ``board.txt``. It
never writes or deletes the boot counter, the calibration, the crash log or the log
directory; it removes the package's ``.py``/``.mpy`` files that the new version no longer
has (a stale ``app.py`` would even shadow a new ``app.mpy``), and nothing else. Installing
MicroPython first erases the whole flash: the boot counter and calibration are written back
afterwards; logs cannot be (too big for the serial REPL), so unsynced logs refuse the flash
unless ``--force``.
"""

from dataclasses import dataclass, field

from . import layout
from .sources import Source


@dataclass(frozen=True)
class BoardState:
    """The board's files as the probe found them (``layout``'s paths only)."""

    files: dict[str, int]  # path -> size in bytes; -1 for a directory
    small: dict[str, bytes] = field(default_factory=dict)  # layout.RESTORED contents
    version: tuple = ()
    mpy: int = 0  # sys.implementation._mpy

    def has(self, path: str) -> bool:
        return path in self.files

    def logs(self) -> list[str]:
        prefix = layout.LOG_DIR + "/"
        return sorted(
            p for p in self.files if p.startswith(prefix) and p.endswith(layout.LOG_SUFFIX)
        )

    def package_code(self) -> list[str]:
        prefix = layout.PACKAGE_DIR + "/"
        return sorted(
            p
            for p in self.files
            if p.startswith(prefix) and p.endswith(layout.CODE_SUFFIXES) and self.files[p] >= 0
        )


EMPTY = BoardState({})  # a freshly installed MicroPython


@dataclass(frozen=True)
class Plan:
    board: str
    port: str
    install: list[list[str]]  # esptool commands; empty: MicroPython stays
    image_size: int
    hold: bool  # the app may run: hold it (hold.txt + reset) before copying
    mkdirs: list[str]
    copies: list[Source]
    removals: list[str]
    kept: list[str]
    restored: dict[str, bytes]  # written back after the install
    logs: list[str]  # the board's logs: kept by an update, erased by an install

    @property
    def copy_bytes(self) -> int:
        return sum(s.size for s in self.copies)


def make_plan(sources, state, board, port, install=(), image_size=0, before=None) -> Plan:
    """The plan for copying ``sources`` onto a board whose files are ``state``.

    With ``install`` (esptool commands) the flash is erased first: ``state`` is then what
    MicroPython leaves (``EMPTY`` before it has run), ``before`` what the board held.
    """
    before = before if install else state
    logs = before.logs() if before else []
    wanted = {s.remote for s in sources}
    return Plan(
        board=board,
        port=port,
        install=[list(c) for c in install],
        image_size=image_size,
        hold=not install and state.has(layout.MAIN),
        mkdirs=_missing_dirs(sources, state),
        copies=list(sources),
        removals=[p for p in state.package_code() if p not in wanted],
        kept=[] if install else [p for p in (*layout.KEPT, layout.LOG_DIR) if state.has(p)],
        restored=dict(before.small) if install and before else {},
        logs=logs,
    )


def _missing_dirs(sources, state) -> list[str]:
    dirs = set()
    for s in sources:
        parts = s.remote.strip("/").split("/")[:-1]
        dirs.update("/" + "/".join(parts[: i + 1]) for i in range(len(parts)))
    return sorted(d for d in dirs if not state.has(d))


def unsynced_refusal(state, force: bool, installing: bool) -> str | None:
    """The refusal message while the board holds logs not yet synced, or None."""
    logs = state.logs() if state else []
    if not logs or force:
        return None
    fate = "erases them" if installing else "keeps them, but only a working firmware serves them"
    shown = ", ".join(logs[:3]) + (f" and {len(logs) - 3} more" if len(logs) > 3 else "")
    return (
        f"the board holds {len(logs)} unsynced log(s) ({shown}): run `hipdrop sync` first to "
        f"bring them to this computer, or add --force to flash anyway (this flash {fate})"
    )


def describe(plan: Plan) -> list[str]:
    """The plan as lines for the user (``--dry-run`` prints exactly these)."""
    lines = [f"flash board {plan.board} on {plan.port}"]
    lines += _install_lines(plan) if plan.install else _keep_lines(plan)
    if plan.hold:
        lines.append(
            f"hold the running app: write {layout.HOLD_FILE} and reset (its watchdog cannot "
            "be stopped; main.py does not start the app while that file exists)"
        )
    if plan.mkdirs:
        lines.append("make directories: " + " ".join(plan.mkdirs))
    lines.append(f"copy {len(plan.copies)} files ({plan.copy_bytes:,} B; unchanged ones skipped):")
    lines += [f"  {s.remote:<44} {s.size:>8,} B" for s in plan.copies]
    lines.append(f"write {layout.BOARD_FILE}: {plan.board}")
    if plan.removals:
        lines.append("remove stale firmware files: " + " ".join(plan.removals))
    lines.append(f"last: remove {layout.HOLD_FILE} and reset: the board starts hipdrop")
    return lines


def _install_lines(plan: Plan) -> list[str]:
    lines = [f"install MicroPython ({plan.image_size:,} B image; erases the whole flash):"]
    lines += ["  " + " ".join(cmd) for cmd in plan.install]
    if plan.restored:
        shown = ", ".join(f"{p} ({len(d)} B)" for p, d in sorted(plan.restored.items()))
        lines.append(f"write back after the install: {shown}")
    if plan.logs:
        lines.append(f"LOST: {len(plan.logs)} unsynced log(s), erased with the flash (--force)")
    return lines


def _keep_lines(plan: Plan) -> list[str]:
    if not plan.kept:
        return ["keep: nothing there yet (no calibration, boot counter or logs)"]
    shown = [f"{p} ({len(plan.logs)} logs)" if p == layout.LOG_DIR else p for p in plan.kept]
    return ["keep (never written): " + ", ".join(shown)]
