"""hipdrop: an open sacral IMU and the host toolkit that measures pelvic drop stride by stride."""

import os as _os
import sys as _sys

from .paths import numba_cache_dir as _numba_cache_dir

__version__ = "0.1.0"

# Numba writes its compiled-kernel cache beside the sources by default, which fails on a
# read-only install; point it at the user's cache before anything imports numba. Numba checks
# only the calling kernel's own file for changes, not the kernels it calls from other files,
# so the folder is keyed on the engine's sources: any change to any kernel starts afresh.
if "NUMBA_CACHE_DIR" not in _os.environ:
    _os.environ["NUMBA_CACHE_DIR"] = str(_numba_cache_dir())
if "numba" in _sys.modules and not _sys.modules["numba"].config.CACHE_DIR:
    # numba came first and read an environment without it (a script, the benchmarks): the
    # engine's kernels, decorated only when their modules load, still take the keyed folder
    _sys.modules["numba"].config.CACHE_DIR = _os.environ["NUMBA_CACHE_DIR"]
