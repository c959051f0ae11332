"""Walking contacts from the world-vertical specific force (Numba kernel).

Each heel strike drives a rise of the vertical force from its trough in late single support to
a peak some 40–80 ms after the contact. The force is smoothed (two cascaded first-order stages
of ``SMOOTH_S``: a steady delay of about ``2 × SMOOTH_S``) and its swing measured as a running
mean absolute deviation; extremes are confirmed with a hysteresis of ``HYSTERESIS`` swings, so
the thresholds follow a soft or a heavy walker alike. A rise of at least ``RISE_MIN`` swings is
a step; its contact is the steepest point of the rise, less the smoothing delay.

No step is reported in the first ``SETTLE_S`` after the detector starts (or restarts after a
gap): until then the swing is not yet the walker's own.

Latency: known when the peak is confirmed, about 100 ms after the contact.
"""

from numba import njit

G_MS2 = 9.80665
SMOOTH_S = 0.015
SWING_TAU_S = 2.0
HYSTERESIS = 0.8
RISE_MIN = 2.5
SWING_FLOOR_G = 0.01
DELAY_S = 2 * SMOOTH_S
SETTLE_S = SWING_TAU_S

# state slots (a view of the contact detector's state)
_S1, _S2, _MEAN, _SWING, _RISING, _EXT, _TROUGH, _STEEP, _STEEP_T, _STARTED, _AGE_S = range(11)
STATE_SIZE = 11


@njit(cache=True)
def walking_step(state, t, dt, fv):
    """Feed one sample; return the contact time of a step confirmed now, else nan."""
    if state[_STARTED] < 0.5:
        state[_S1] = state[_S2] = state[_MEAN] = state[_EXT] = state[_TROUGH] = fv
        state[_STARTED] = 1.0
    previous = state[_S2]
    state[_AGE_S] += dt
    a = min(dt / SMOOTH_S, 1.0)
    state[_S1] += a * (fv - state[_S1])
    state[_S2] += a * (state[_S1] - state[_S2])
    f = state[_S2]
    b = min(dt / SWING_TAU_S, 1.0)
    state[_MEAN] += b * (f - state[_MEAN])
    state[_SWING] += b * (abs(f - state[_MEAN]) - state[_SWING])
    hysteresis = HYSTERESIS * max(state[_SWING], SWING_FLOOR_G * G_MS2)
    if state[_RISING] > 0.5:
        return _rising(state, t, dt, f, (f - previous) / dt, hysteresis)
    if f < state[_EXT]:
        state[_EXT] = f
    elif f > state[_EXT] + hysteresis:  # the trough is behind us: a rise begins
        state[_RISING], state[_TROUGH], state[_EXT], state[_STEEP] = 1.0, state[_EXT], f, 0.0
    return float("nan")


@njit(cache=True)
def _rising(state, t, dt, f, slope, hysteresis):
    if slope > state[_STEEP]:
        state[_STEEP], state[_STEEP_T] = slope, t - 0.5 * dt
    if f > state[_EXT]:
        state[_EXT] = f
        return float("nan")
    if f > state[_EXT] - hysteresis:
        return float("nan")
    rise = state[_EXT] - state[_TROUGH]
    state[_RISING], state[_EXT] = 0.0, f  # the peak is behind us: now look for the trough
    if rise < RISE_MIN * max(state[_SWING], SWING_FLOOR_G * G_MS2) or state[_AGE_S] < SETTLE_S:
        return float("nan")
    return state[_STEEP_T] - DELAY_S
