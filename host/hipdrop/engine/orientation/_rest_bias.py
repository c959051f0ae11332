"""The gyro bias read at rest (Numba helpers of the orientation filter).

At rest the gyro reads its bias plus the sway of standing. While still, the filter follows the
gyro (``_filter.STILL_BIAS_TAU_S``), which keeps its tilt level through the rest. The bias it
carries into the movement after the rest is instead the plain mean of the gyro over whole
blocks of ``BLOCK_S`` from inside the rest:

* The last whole block before the movement is left out, with the one under way. The still
  detector reports the end of a rest late, as its variances rise only with the movement, and an
  average that follows the gyro takes the first fraction of a second of movement for bias: a
  lean forward before the first stride gave 0.4 °/s on simulated runs, ≈ 1° of pitch for the
  next 20 s. The first block is left out too (the settling after a stop).
* A mean over the rest, not the last second's average: standing sway turns the pelvis back and
  forth by a fraction of a degree, which a one-second average follows (±0.2–0.3 °/s about the
  roll axis on simulated standing). Over a few seconds it averages out.

The rest under way lives in slots of the filter's state array (from ``at``), which these
helpers read and write in place: only while still, and once as the rest ends, so the filter's
moving samples do not carry it.
"""

from numba import njit

from .._vec import get3, put, toward, weight

BLOCK_S = 0.5
MEAN_MAX_S = 10.0
"""The mean spans at most this long; a longer rest is averaged over its last seconds (the
bias drifts as the die warms)."""
TRUST_S = 1.0
"""A mean over this long replaces the bias carried into the rest; a shorter one moves it part
of the way (τ 1 s)."""
_ZERO = (0.0, 0.0, 0.0)

# state slots, from the filter's first rest slot
_BEFORE = 0  # 3 slots: the bias as the rest began (rad/s)
_MEAN = 3  # 3 slots: the mean of the blocks taken so far (rad/s)
_MEAN_S = 6  # the time those blocks span
_BLOCK = 7  # 3 slots: the gyro's integral over the block under way (rad)
_BLOCK_S = 10  # its length so far
_KEPT = 11  # 3 slots: the integral over the last whole block
_KEPT_S = 14  # its length; −1 until the first block (left out) is over
SLOTS = 15


@njit(cache=True, inline="always")
def step(state, at, bias, gyr, dt, begins):
    """One more still sample (``gyr`` rad/s); ``bias`` is the filter's before it, and the rest
    ``begins`` with it or has been under way."""
    if begins:
        _begin(state, at, bias)
    block = get3(state, at + _BLOCK)
    put(
        state, at + _BLOCK, (block[0] + gyr[0] * dt, block[1] + gyr[1] * dt, block[2] + gyr[2] * dt)
    )
    state[at + _BLOCK_S] += dt
    if state[at + _BLOCK_S] >= BLOCK_S:
        _next_block(state, at)


@njit(cache=True, inline="always")
def _begin(state, at, bias):
    put(state, at + _BEFORE, bias)
    put(state, at + _MEAN, _ZERO)
    put(state, at + _BLOCK, _ZERO)
    state[at + _MEAN_S], state[at + _BLOCK_S], state[at + _KEPT_S] = 0.0, 0.0, -1.0


@njit(cache=True, inline="always")
def _next_block(state, at):
    """A block is whole: the one kept before it is now well inside the rest and joins the mean
    (the first block is left out); this one is kept."""
    kept_s = state[at + _KEPT_S]
    if kept_s > 0.0:
        mean_s = min(state[at + _MEAN_S] + kept_s, MEAN_MAX_S)
        kept, s = get3(state, at + _KEPT), 1.0 / kept_s
        mean = toward(
            get3(state, at + _MEAN), (kept[0] * s, kept[1] * s, kept[2] * s), kept_s / mean_s
        )
        put(state, at + _MEAN, mean)
        state[at + _MEAN_S] = mean_s
    first = kept_s < 0.0
    put(state, at + _KEPT, _ZERO if first else get3(state, at + _BLOCK))
    state[at + _KEPT_S] = 0.0 if first else state[at + _BLOCK_S]
    put(state, at + _BLOCK, _ZERO)
    state[at + _BLOCK_S] = 0.0


@njit(cache=True, inline="always")
def bias_after(state, at):
    """The bias (rad/s) to carry into the movement if the rest ends now."""
    before, mean_s = get3(state, at + _BEFORE), state[at + _MEAN_S]
    if mean_s <= 0.0:
        return before
    return toward(before, get3(state, at + _MEAN), weight(mean_s, TRUST_S))
