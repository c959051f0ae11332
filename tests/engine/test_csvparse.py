"""The CSV fast path (``_csvparse``) against NumPy's parser, and what it leaves to NumPy."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hipdrop.engine._csvparse import read_numbers

HEADER = "time_s,acc_x,acc_y\n"
FLOATS = st.floats(min_value=-1e6, max_value=1e6).map(lambda v: round(v, 9))
"""An IMU's range and beyond, to a nanounit: the fast path takes exponents within ±39 only."""


def _write(tmp_path, text):
    path = tmp_path / "n.csv"
    path.write_text(text)
    return path


@settings(deadline=None)  # the first example loads the compiled parser
@given(st.lists(st.tuples(FLOATS, FLOATS, FLOATS), min_size=1, max_size=30), st.integers(0, 2))
def test_plain_numbers_read_as_numpy_reads_them(tmp_path_factory, rows, style):
    fmt = ("{:.6f}", "{:.9e}", " {!r} ")[style]
    text = HEADER + "".join(",".join(fmt.format(v) for v in row) + "\n" for row in rows)
    path = _write(tmp_path_factory.mktemp("csv"), text)
    expected = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    np.testing.assert_allclose(read_numbers(path, 3), expected, rtol=1e-15, atol=0)


def test_empty_fields_are_missing_values(tmp_path):
    """pandas writes a missing value as an empty field: read as NaN, in place."""
    path = _write(tmp_path, HEADER + "0.0,1.5,\r\n0.01,,2.5\r\n0.02, ,3\r\n")
    expected = [[0.0, 1.5, np.nan], [0.01, np.nan, 2.5], [0.02, np.nan, 3.0]]
    np.testing.assert_array_equal(read_numbers(path, 3), expected)


@pytest.mark.parametrize(
    "body",
    ["0,1,2\n\n0.1,1,2\n", '0,"1",2\n', "0,nan,2\n", "0,1\n", "0,1,2,3\n", "0,-,2\n", "0,1e,2\n"],
)
def test_anything_else_is_left_to_numpy(tmp_path, body):
    """A blank line, quotes, ``nan``, a short or long row, a lone sign, a bare exponent."""
    assert read_numbers(_write(tmp_path, HEADER + body), 3) is None
