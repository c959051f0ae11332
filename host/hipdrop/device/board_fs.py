"""The mpremote boundary: every conversation with the board is one ``python -m mpremote`` run.

Why the command line and not mpremote's Python classes: the command line is mpremote's
documented, stable interface (its ``SerialTransport`` says "the API is going to change
significantly"); a subprocess can be killed on a timeout when a board stops answering (on a
pty mpremote would wait forever); and every step is a command a user can type and read.
Several steps chain with ``+`` into one run: one connection, one soft reset.

``runner(args, timeout_s)`` runs a command and returns a ``subprocess.CompletedProcess``
(stdout and stderr as text); tests pass the real one against a fake board on a pty.
"""

import ast
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

from ..errors import HipdropError
from . import layout
from .plan import BoardState

PROBE_MARK = "HIPDROP-PROBE "
HOLD_CODE = (
    f"with open({layout.HOLD_FILE!r}, 'w') as f:\n"
    " f.write('hipdrop device flash is updating this board; run it again to finish')\n"
)
_HINTS = {
    "failed to access": "is the port right, and no other program (a serial monitor) using it?",
    "could not enter raw repl": "is MicroPython installed? (--firmware-image installs it)",
    "no device found": "is the board plugged in with a data cable?",
}


def run_subprocess(args: list[str], timeout_s: float) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout_s, check=False)


class BoardFs:
    """The board on ``port``, through mpremote."""

    def __init__(self, port: str, runner=run_subprocess, timeout_s: float = 30.0,
                 bytes_per_s: float = 1500.0):  # fmt: skip
        self.port = port
        self.runner = runner
        self.timeout_s = timeout_s
        self.bytes_per_s = bytes_per_s  # raw-paste at 115200 baud, repr'd bytes, hashing

    def mpremote(self, commands: list[list[str]], doing: str, n_bytes: int = 0) -> str:
        """Run the ``commands`` chained in one connection; stdout, or HipdropError."""
        args = [sys.executable, "-m", "mpremote", "connect", self.port]
        for i, command in enumerate(commands):
            args += (["+"] if i else []) + command
        timeout_s = self.timeout_s + n_bytes / self.bytes_per_s
        try:
            result = self.runner(args, timeout_s)
        except subprocess.TimeoutExpired:
            raise HipdropError(
                f"no answer from the board on {self.port} within {timeout_s:.0f} s while "
                f"{doing}: is MicroPython installed and running there?"
            ) from None
        if result.returncode != 0:
            raise HipdropError(_failure(self.port, doing, result))
        return result.stdout

    def probe(self) -> BoardState:
        """The board's code, log and kept files, its MicroPython version and .mpy format."""
        walk = (layout.PACKAGE_DIR, layout.LOG_DIR)
        call = f"\nprobe({walk!r}, {layout.RESTORED!r})\n"
        script = resources.files(__package__).joinpath("board_probe.py").read_text() + call
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "probe.py"
            path.write_text(script)
            out = self.mpremote([["run", str(path)]], "listing its files")
        return parse_probe(out)

    def hold(self) -> None:
        """Write hold.txt and reset: the board comes back without the app or its watchdog."""
        self.mpremote([["exec", HOLD_CODE], ["reset"]], "holding the app")


def parse_probe(stdout: str) -> BoardState:
    for line in stdout.splitlines():
        if line.startswith(PROBE_MARK):
            version, mpy, files, small = ast.literal_eval(line[len(PROBE_MARK) :])
            return BoardState(dict(files), small, tuple(version), mpy)
    raise HipdropError(f"the board's answer to the probe was not understood: {stdout[-300:]!r}")


def _failure(port: str, doing: str, result) -> str:
    lines = (result.stderr or result.stdout or "").strip().splitlines()
    last = lines[-1] if lines else f"exit status {result.returncode}"
    hint = next((h for key, h in _HINTS.items() if key in last.lower()), "")
    return f"mpremote failed on {port} while {doing}: {last}" + (f" ({hint})" if hint else "")
