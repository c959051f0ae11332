"""The engine's Numba decorator: every kernel compiled the same way.

``kernel`` is ``numba.njit`` with ``cache=True`` and one floating-point licence, ``contract``:
LLVM may fuse a multiplication and the addition that uses it into one instruction (FMA),
rounding once instead of twice. The per-sample chain (the quaternion update, the rotations,
the averages) is mostly such pairs; fused, the whole-file feed runs ≈ 8 % faster
(docs/benchmarks.md). No other licence is given: NaN and infinity keep their meaning (the
kernels test for them), and the order of operations stays as written, so results differ from
unfused arithmetic in the last bits only, and a machine without FMA gives those last bits
unfused. Feeding the same samples in any chunks still gives the same steps to the last bit.
The CSV parser keeps plain ``njit``: parsing must round each number exactly once.
"""

from numba import njit

FASTMATH = frozenset({"contract"})


def kernel(function=None, **options):
    """``@kernel`` or ``@kernel(inline="always")``: ``njit`` with ``cache=True`` and
    ``FASTMATH``, plus any other Numba option."""
    options = {"cache": True, "fastmath": set(FASTMATH), **options}
    return njit(**options) if function is None else njit(**options)(function)
