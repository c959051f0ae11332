"""Errors that carry a message for the user; the command line prints them without a traceback."""


class HipdropError(Exception):
    """Bad input or an unusable device: the message says what is wrong and what to do."""
