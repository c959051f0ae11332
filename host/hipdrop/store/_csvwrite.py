"""Fast fixed-point CSV text: NumPy builds the characters, no per-value Python formatting.

``np.savetxt`` formats each value in Python (≈ 2.6 s for a 90-minute, 200 Hz session here);
this writes the same digits as ``'%.{d}f'`` in ≈ 0.5 s: every column becomes a block of
characters (sign, integer digits, point, decimals, separator) and a mask drops the unused
leading zeros and plus signs. A value that rounds to zero is written without a minus sign.
"""

import numpy as np

_ZERO, _MINUS, _POINT = ord("0"), ord("-"), ord(".")


def format_rows(table: np.ndarray, decimals: tuple[int, ...]) -> bytes:
    """Rows of ``table`` (n, m) as CSV lines; column j with ``decimals[j]`` decimals.
    Values must be finite."""
    if not np.isfinite(table).all():
        raise ValueError("format_rows writes finite numbers only")
    last = table.shape[1] - 1
    blocks = [
        _column(table[:, j], decimals[j], b"\n" if j == last else b",") for j in range(last + 1)
    ]
    chars = np.hstack([chars for chars, _ in blocks])
    keep = np.hstack([keep for _, keep in blocks])
    return chars[keep].tobytes()


def _column(values, decimals, end):
    """(characters, keep mask), each (n, width), of one column."""
    scaled = np.rint(np.abs(values) * 10.0**decimals).astype(np.int64)
    whole = scaled // 10**decimals
    n_int = len(str(int(whole.max(initial=0))))
    width = n_int + decimals + 3  # sign, integer digits, point, decimals, separator
    chars = np.empty((len(values), width), np.uint8)
    keep = np.ones((len(values), width), bool)
    chars[:, 0] = _MINUS
    keep[:, 0] = (values < 0) & (scaled > 0)
    digits = [c for c in range(1, width - 1) if c != n_int + 1]
    rest = scaled
    for c in reversed(digits):
        rest, digit = np.divmod(rest, 10)
        chars[:, c] = digit + _ZERO
    chars[:, n_int + 1] = _POINT
    for c in range(1, n_int):  # leading zeros of the integer part
        keep[:, c] = whole >= 10 ** (n_int - c)
    chars[:, -1] = end[0]
    return chars, keep
