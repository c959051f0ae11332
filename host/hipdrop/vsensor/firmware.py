"""Find the firmware tree and import its modules: the one place the host runs firmware code.

An installed wheel carries the firmware as ``hipdrop/firmware``; a source checkout keeps it at
the repository's top level.
"""

import importlib
import sys
from pathlib import Path

from ..errors import HipdropError

_PACKAGE = Path(__file__).resolve().parents[1]


def firmware_dir() -> Path:
    for candidate in (_PACKAGE / "firmware", _PACKAGE.parents[1] / "firmware"):
        if (candidate / "hipdrop_fw" / "__init__.py").is_file():
            return candidate
    raise HipdropError(f"the firmware tree is missing from {_PACKAGE}: reinstall hipdrop")


def firmware_module(name: str):
    """Import ``hipdrop_fw.<name>`` from the firmware tree (its modules import each other so)."""
    root = str(firmware_dir())
    if root not in sys.path:
        sys.path.append(root)
    return importlib.import_module(f"hipdrop_fw.{name}")
