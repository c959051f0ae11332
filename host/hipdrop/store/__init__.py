"""The session store: every session's raw packets and results in one SQLite database.

``Store.open(path)`` (default path: ``hipdrop.paths.session_db_path()``); docs/store.md.
"""

from ..errors import StoreError
from .packets import row_from_packet
from .replay import SessionSamples
from .sessions import SessionInfo
from .store import Store

__all__ = ["SessionInfo", "SessionSamples", "Store", "StoreError", "row_from_packet"]
