"""Per-user folders (data, cache), chosen without importing anything heavy."""

import hashlib
import os
import sys
import tempfile
from pathlib import Path


def user_cache_dir() -> Path:
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "hipdrop"


def user_data_dir() -> Path:
    if sys.platform == "win32":
        base = os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "hipdrop"


DB_ENV = "HIPDROP_DB"
"""Environment variable naming the session database (``--db`` overrides it)."""


def default_db_path() -> Path:
    """The session database in the user's data folder, e.g. ~/.local/share/hipdrop/sessions.db."""
    return user_data_dir() / "sessions.db"


def session_db_path(option=None) -> Path:
    """The session database to use: ``--db`` if given, else ``$HIPDROP_DB``, else the default."""
    chosen = option or os.environ.get(DB_ENV)
    return Path(chosen).expanduser() if chosen else default_db_path()


def engine_key() -> str:
    """A short digest of the engine's source files (names, sizes, modification times)."""
    engine = Path(__file__).parent / "engine"
    digest = hashlib.sha1()
    for source in sorted(engine.rglob("*.py")):
        stat = source.stat()
        digest.update(f"{source.relative_to(engine)}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()[:12]


def numba_cache_dir() -> Path:
    """Where the engine's compiled kernels are kept: the user's cache folder, keyed on the
    engine's sources (see ``hipdrop/__init__.py``). Where that cannot be written (a read-only
    home), a keyed folder in the temporary directory: Numba would otherwise fall back, silently,
    to a cache beside the sources, which is not keyed."""
    key = engine_key()
    keyed = user_cache_dir() / "numba" / key
    if _can_write(keyed):
        return keyed
    user = getattr(os, "getuid", lambda: "user")()
    return Path(tempfile.gettempdir()) / f"hipdrop-{user}" / "numba" / key


def _can_write(path: Path) -> bool:
    """Whether ``path`` is a writable folder, or could be made in its nearest existing one."""
    for folder in (path, *path.parents):
        if folder.exists():
            return folder.is_dir() and os.access(folder, os.W_OK)
    return False
