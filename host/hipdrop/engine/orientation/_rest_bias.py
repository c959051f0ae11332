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
  roll axis on simulated standing). A mean over a few seconds still holds the sway's net turn
  over them (0.1–0.15 °/s on simulated stops of 8 s), so each block's turn across up, which
  gravity shows (the block's mean specific force against its neighbours'), is taken out of it.

The rest under way lives in slots of the filter's state array (from ``at``), which these
helpers read and write in place: only while still, and once as the rest ends, so the filter's
moving samples do not carry it.
"""

from .._jit import kernel
from .._vec import cross, get3, plus_scaled, put, toward, unit, weight

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
_BLOCK_F = 10  # 3 slots: the specific force's integral over it (m/s)
_BLOCK_S = 13  # its length so far
_KEPT = 14  # 3 slots: the gyro's integral over the last whole block
_KEPT_F = 17  # 3 slots: the mean specific force over it
_KEPT_S = 20  # its length; −1 until the first block (left out) is over
_EARLIER_F = 21  # 3 slots: the mean specific force over the block before the kept one
SLOTS = 24


@kernel(inline="always")
def step(state, at, bias, gyr, acc, dt, begins):
    """One more still sample (``gyr`` rad/s, ``acc`` m/s²); ``bias`` is the filter's before it,
    and the rest ``begins`` with it or has been under way."""
    if begins:
        _begin(state, at, bias)
    put(state, at + _BLOCK, plus_scaled(get3(state, at + _BLOCK), gyr, dt))
    put(state, at + _BLOCK_F, plus_scaled(get3(state, at + _BLOCK_F), acc, dt))
    state[at + _BLOCK_S] += dt
    if state[at + _BLOCK_S] >= BLOCK_S:
        _next_block(state, at)


@kernel(inline="always")
def _begin(state, at, bias):
    put(state, at + _BEFORE, bias)
    put(state, at + _MEAN, _ZERO)
    _clear_block(state, at)
    state[at + _MEAN_S], state[at + _KEPT_S] = 0.0, -1.0


@kernel(inline="always")
def _clear_block(state, at):
    put(state, at + _BLOCK, _ZERO)
    put(state, at + _BLOCK_F, _ZERO)
    state[at + _BLOCK_S] = 0.0


@kernel(inline="always")
def _next_block(state, at):
    """A block is whole: the one kept before it is now well inside the rest and joins the mean
    (the first block is left out, its force kept for the next); this one is kept."""
    length = state[at + _BLOCK_S]
    force = plus_scaled(_ZERO, get3(state, at + _BLOCK_F), 1.0 / length)
    kept_s = state[at + _KEPT_S]
    if kept_s > 0.0:
        _take_kept(state, at, force)
        put(state, at + _EARLIER_F, get3(state, at + _KEPT_F))
    if kept_s < 0.0:
        put(state, at + _EARLIER_F, force)
        state[at + _KEPT_S] = 0.0
    else:
        put(state, at + _KEPT, get3(state, at + _BLOCK))
        put(state, at + _KEPT_F, force)
        state[at + _KEPT_S] = length
    _clear_block(state, at)


@kernel(inline="always")
def _take_kept(state, at, later_force):
    """The kept block's gyro mean joins the mean, less the turn that gravity shows over the
    block: up in the sensor frame (the mean force's direction) moved by ``Δu`` from the middle
    of the block before to the middle of the block after, half of it within this block, and a
    turn ``θ`` moves up by ``−θ × u``, so its part across up is ``Δu × u``. (The turn about up
    itself does not show; standing hardly turns about it, and a bias about it barely tilts.)"""
    kept_s = state[at + _KEPT_S]
    u = unit(get3(state, at + _KEPT_F))
    moved = plus_scaled(unit(later_force), unit(get3(state, at + _EARLIER_F)), -1.0)
    turned = cross(moved, u)
    rate = plus_scaled(get3(state, at + _KEPT), turned, -0.5)
    mean_s = min(state[at + _MEAN_S] + kept_s, MEAN_MAX_S)
    mean = toward(get3(state, at + _MEAN), plus_scaled(_ZERO, rate, 1.0 / kept_s), kept_s / mean_s)
    put(state, at + _MEAN, mean)
    state[at + _MEAN_S] = mean_s


@kernel(inline="always")
def bias_after(state, at):
    """The bias (rad/s) to carry into the movement if the rest ends now."""
    before, mean_s = get3(state, at + _BEFORE), state[at + _MEAN_S]
    if mean_s <= 0.0:
        return before
    return toward(before, get3(state, at + _MEAN), weight(mean_s, TRUST_S))
