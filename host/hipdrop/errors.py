"""Errors that carry a message for the user; the command line prints them without a traceback."""


class HipdropError(Exception):
    """Bad input or an unusable device: the message says what is wrong and what to do."""


class StoreError(HipdropError):
    """The session database cannot be used as asked: not ours, too new, read-only, no such
    session. The message names the file or session and what to do."""
