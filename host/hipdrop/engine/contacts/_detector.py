"""Initial contacts from the world-vertical specific force (Numba kernel), running and walking.

**Running.** Between steps the runner is airborne and the vertical specific force is near zero.
After at least ``FLIGHT_MIN_S`` of flight (below ``FLIGHT_G``), the first rise through
``RISE_G`` marks a landing; the contact time is where the tangent of that rising edge meets the
flight's own level (Notes: a threshold alone would be 10–20 ms late, the steeper the later).
Stance ends where the falling edge, extrapolated the same way, meets the flight level again.

**Walking** (moving, no flight for ``RUN_HOLD_S``): each heel strike drives a sharp rise of the
vertical force to a peak about 60 ms later. A peak at least ``WALK_PEAK_G`` above g and
``WALK_RISE_G`` above the preceding trough, confirmed once the force has fallen
``WALK_CONFIRM_G`` below it, is a step; its contact is the steepest point of the rise, less
``WALK_LAG_S``.

Latency: a running contact is known one sample after the rise through ``RISE_G`` (≈ 30 ms after
the landing); a walking contact once its peak is confirmed (≈ 80–100 ms).
"""

import math

from numba import njit

G_MS2 = 9.80665
FLIGHT_G = 0.35
FLIGHT_MIN_S = 0.03
RISE_G = 0.6
RUN_HOLD_S = 1.0
MIN_STEP_S = 0.2
WALK_PEAK_G = 0.05
WALK_RISE_G = 0.1
WALK_CONFIRM_G = 0.03
WALK_LAG_S = 0.02
WALK_SMOOTH_S = 0.03

RUN, WALK = 1, 2

# state slots
_FLIGHT_S = 0
_FLIGHT_SUM = 1
_FLIGHT_N = 2
_BASE = 3  # level of the last flight
LAST_FLIGHT_T = 4
_IN_STANCE = 5
LAST_IC_T = 6
STANCE_END_T = 7
_PREV_T = 8
_PREV_F = 9
_SMOOTH = 10
_TROUGH = 11
_PEAK = 12
_PEAK_T = 13
_STEEP = 14
_STEEP_T = 15
_RISING = 16
_STARTED = 17
PREV_STANCE_END_T = 18
"""Stance end of the step before the latest contact (nan if unknown)."""
STATE_SIZE = 19


@njit(cache=True)
def running(state, t):
    return t - state[LAST_FLIGHT_T] < RUN_HOLD_S


@njit(cache=True)
def contact_step(state, t, fv, moving):
    """Feed one sample; return (contact time or nan, RUN/WALK/0) for a contact found now."""
    if state[_STARTED] < 0.5:
        state[LAST_FLIGHT_T] = -1e9
        state[LAST_IC_T] = -1e9
        state[_SMOOTH] = fv
        state[_TROUGH] = fv
        state[_STARTED] = 1.0
    found, kind = _running_contact(state, t, fv), RUN
    if math.isnan(found) and moving and not running(state, t):
        found, kind = _walking_contact(state, t, fv), WALK
    else:
        _walking_contact(state, t, fv)  # keep its smoothing and extrema current
    state[_PREV_T] = t
    state[_PREV_F] = fv
    if math.isnan(found):
        return found, 0
    state[LAST_IC_T] = found
    return found, kind


@njit(cache=True)
def _running_contact(state, t, fv):
    dt = t - state[_PREV_T]
    if fv < FLIGHT_G * G_MS2:
        if state[_IN_STANCE] > 0.5:
            state[STANCE_END_T] = _edge_time(state, t, fv, state[_BASE])
            state[_IN_STANCE] = 0.0
        state[_FLIGHT_S] += dt
        state[_FLIGHT_SUM] += fv
        state[_FLIGHT_N] += 1.0
        return math.nan
    if state[_FLIGHT_S] >= FLIGHT_MIN_S and fv >= RISE_G * G_MS2:
        state[_BASE] = state[_FLIGHT_SUM] / state[_FLIGHT_N]
        state[LAST_FLIGHT_T] = t
        _reset_flight(state)
        if t - state[LAST_IC_T] >= MIN_STEP_S:
            state[_IN_STANCE] = 1.0
            state[PREV_STANCE_END_T] = state[STANCE_END_T]
            state[STANCE_END_T] = math.nan
            return _edge_time(state, t, fv, state[_BASE])
    elif fv >= RISE_G * G_MS2:
        _reset_flight(state)
    return math.nan


@njit(cache=True)
def _reset_flight(state):
    state[_FLIGHT_S] = 0.0
    state[_FLIGHT_SUM] = 0.0
    state[_FLIGHT_N] = 0.0


@njit(cache=True)
def _edge_time(state, t, fv, base):
    """Where the line through the previous and this sample reaches ``base`` (clamped)."""
    dt = t - state[_PREV_T]
    slope = (fv - state[_PREV_F]) / dt
    if slope == 0.0:
        return t
    at = t - (fv - base) / slope
    return min(max(at, t - 4 * dt), t + 4 * dt)


@njit(cache=True)
def _walking_contact(state, t, fv):
    dt = t - state[_PREV_T]
    prev = state[_SMOOTH]
    state[_SMOOTH] += min(dt / WALK_SMOOTH_S, 1.0) * (fv - prev)
    f = state[_SMOOTH]
    slope = (f - prev) / dt if dt > 0 else 0.0
    if slope > 0:
        if state[_RISING] < 0.5:
            state[_RISING], state[_TROUGH], state[_STEEP] = 1.0, prev, 0.0
        if slope > state[_STEEP]:
            state[_STEEP], state[_STEEP_T] = slope, t - 0.5 * dt
        if f > state[_PEAK] or state[_PEAK_T] < state[_STEEP_T]:
            state[_PEAK], state[_PEAK_T] = f, t
        return math.nan
    state[_RISING] = 0.0
    if state[_PEAK_T] < state[_STEEP_T] or f > state[_PEAK] - WALK_CONFIRM_G * G_MS2:
        return math.nan
    peak, trough, steep_t = state[_PEAK], state[_TROUGH], state[_STEEP_T]
    state[_PEAK] = -1e9
    state[_PEAK_T] = -1e9
    if peak < (1 + WALK_PEAK_G) * G_MS2 or peak - trough < WALK_RISE_G * G_MS2:
        return math.nan
    contact = steep_t - WALK_LAG_S
    if contact - state[LAST_IC_T] < MIN_STEP_S:
        return math.nan
    return contact
