"""Fast path for reading the interchange CSV's numbers (Numba kernel).

NumPy's ``loadtxt`` reads about 0.8 M rows/s here, most of a 100-minute analysis. This parser
reads plain decimal fields (``-12.345``, ``1e-3``; optional spaces) about three times faster,
and an empty field (a missing value, as pandas writes one) as NaN. It accepts nothing else:
anything unusual (blank lines, quotes, ``nan``, text, a short row) makes it give up, and the
caller falls back to ``loadtxt``, which reads or reports it properly.
"""

import math

import numpy as np
from numba import njit

_POW10 = 10.0 ** np.arange(0, 40)


@njit(cache=True)
def parse_numbers(buf, start, n_cols, max_rows, out):
    """Parse rows of ``n_cols`` comma-separated numbers from ``buf[start:]`` into ``out``.

    Returns the number of rows read, or −1 when the text is not plain numbers.
    """
    pos, n, rows = start, len(buf), 0
    while pos < n and rows < max_rows:
        for col in range(n_cols):
            value, pos = _number(buf, pos, n)
            if pos < 0:
                return -1
            out[rows, col] = value
            end = n_cols - 1
            if col < end:
                if pos >= n or buf[pos] != 44:  # ','
                    return -1
                pos += 1
        if pos < n and buf[pos] == 13:  # '\r'
            pos += 1
        if pos < n:
            if buf[pos] != 10:  # '\n'
                return -1
            pos += 1
        rows += 1
    return rows


@njit(cache=True)
def _number(buf, pos, n):
    """(value, position after it) of the decimal number at ``pos`` (NaN for an empty field);
    position −1 if none."""
    while pos < n and buf[pos] == 32:
        pos += 1
    if pos >= n or buf[pos] == 44 or buf[pos] == 10 or buf[pos] == 13:  # ',' '\n' '\r'
        return math.nan, pos
    sign = 1.0
    if pos < n and (buf[pos] == 45 or buf[pos] == 43):  # '-' '+'
        sign = -1.0 if buf[pos] == 45 else 1.0
        pos += 1
    mantissa, digits, decimals = 0, 0, 0
    while pos < n and 48 <= buf[pos] <= 57:
        mantissa = mantissa * 10 + (buf[pos] - 48)
        digits += 1
        pos += 1
    if pos < n and buf[pos] == 46:  # '.'
        pos += 1
        while pos < n and 48 <= buf[pos] <= 57:
            mantissa = mantissa * 10 + (buf[pos] - 48)
            digits += 1
            decimals += 1
            pos += 1
    if digits == 0 or digits > 17:
        return 0.0, -1
    exponent = 0
    if pos < n and (buf[pos] == 101 or buf[pos] == 69):  # 'e' 'E'
        exponent, pos = _exponent(buf, pos + 1, n)
        if pos < 0:
            return 0.0, -1
    while pos < n and buf[pos] == 32:
        pos += 1
    power = exponent - decimals
    if power < -39 or power > 39:
        return 0.0, -1
    value = mantissa * _POW10[power] if power >= 0 else mantissa / _POW10[-power]
    return sign * value, pos


@njit(cache=True)
def _exponent(buf, pos, n):
    sign = 1
    if pos < n and (buf[pos] == 45 or buf[pos] == 43):
        sign = -1 if buf[pos] == 45 else 1
        pos += 1
    value, digits = 0, 0
    while pos < n and 48 <= buf[pos] <= 57 and digits < 4:
        value = value * 10 + (buf[pos] - 48)
        digits += 1
        pos += 1
    if digits == 0:
        return 0, -1
    return sign * value, pos


def read_numbers(path, n_cols, max_rows=None):
    """All rows after the header as an (n, n_cols) array, or None if not plain numbers."""
    buf = np.fromfile(path, dtype=np.uint8)
    newline = np.flatnonzero(buf[: 1 << 16] == 10)
    if not len(newline):
        return None
    start = int(newline[0]) + 1
    limit = int(np.count_nonzero(buf[start:] == 10)) + 1 if max_rows is None else max_rows
    out = np.empty((limit, n_cols))
    rows = parse_numbers(buf, start, n_cols, limit, out)
    return out[:rows] if rows > 0 else None
