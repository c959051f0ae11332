"""Per-user folders (data, cache), chosen without importing anything heavy."""

import hashlib
import os
import sys
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


def engine_key() -> str:
    """A short digest of the engine's source files (names, sizes, modification times)."""
    engine = Path(__file__).parent / "engine"
    digest = hashlib.sha1()
    for source in sorted(engine.rglob("*.py")):
        stat = source.stat()
        digest.update(f"{source.relative_to(engine)}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()[:12]
