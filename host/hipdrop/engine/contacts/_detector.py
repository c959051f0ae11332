"""Initial contacts from the world-vertical (and forward) specific force (Numba kernel).

**Running.** Between steps the runner is airborne and the vertical specific force is near zero.
After at least ``FLIGHT_MIN_S`` of flight (below ``FLIGHT_G``), the first rise through
``RISE_G`` marks a landing; the contact time is where that rising edge left the flight's own
level (``ONSET_G``; a threshold alone would be 10–20 ms late, the steeper the later). Stance
ends where the falling edge, extrapolated along its tangent, meets the flight level again.

**Walking** (moving, no flight for ``RUN_HOLD_S``): see ``_walking.py``. While running, the
walking detector is not fed (running's vertical force would only inflate its thresholds); it
starts afresh when a run ends.

Latency: a running contact is known one sample after the rise through ``RISE_G`` (≈ 30 ms after
the landing); a walking contact about 100 ms after it.
"""

import math

from .._jit import kernel
from . import _walking as walking

G_MS2 = 9.80665
FLIGHT_G = 0.35
FLIGHT_MIN_S = 0.03
RISE_G = 0.6
EDGE_REACH_S = 0.04
"""The falling edge's tangent reaches ahead at most four samples and at most this far (below
100 Hz the tangent through two samples of an edge that had already slowed reached past the
flight: at 40–50 Hz, contacts up to 52–61 ms early, when landings were read so too), and a
landing's crossing is read at most this far before the sample after it (``_onset_time``)."""
ONSET_G = 0.05
"""A landing's contact is where its rising edge crossed this far above the flight's lowest
level: the lower of its mean and the last four samples (``HISTORY``). On a smooth edge (the
real run's sacral force comes from markers low-passed at 20 Hz, and dips below its flight mean
just before the landing) the tangent at ``RISE_G`` met the flight's mean level 14 ms after the
force plate's contact, where the swing side had already begun to drop: with the roll read at
the contact itself (``_measure``), its drops from contact read 0.51° low (0.58° RMS). Now the
contacts are 2.4 ms late (``score_real``'s bias; 14.2 ms before), and the drops 0.24° low
(0.33° RMS). Other levels, with the contact's mean offset from its nearest force-plate contact
(1.9 ms now, 13.7 ms before): above the flight's mean instead of its lowest level, 9.5 ms (at
0.1 g), 0.46°; 0.1 / 0.2 g above the lowest level, 5.7 / 12.1 ms; 0.02 g, 1.0 ms early, near a
real clip's noise in flight. On the simulator's sharper edges the contacts moved 3 ms earlier,
to within 0.3 ms of the truth at 200 Hz."""
HISTORY = 4
RUN_HOLD_S = 1.0
MIN_STEP_S = 0.2
MIN_WALK_STEP_S = 0.3
WALK_GATE = 0.45
"""A walking contact sooner than this share of the recent step time after the last is a
half-step bump, not a step."""

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
_STARTED = 8
PREV_STANCE_END_T = 9
"""Stance end of the step before the latest contact (nan if unknown)."""
STEP_S = 10
"""Running mean of recent walking step times (0 until the first)."""
_LAST_KIND = 11
"""RUN or WALK: the kind of the latest contact."""
_HISTORY = 12
"""``HISTORY`` (time, vertical force) pairs: the samples before this one, newest first."""
WALK_STATE = _HISTORY + 2 * HISTORY
"""The walking detector's state starts here."""
STATE_SIZE = WALK_STATE + walking.STATE_SIZE


@kernel(inline="always")
def running(state, t):
    """A flight phase ended less than ``RUN_HOLD_S`` ago."""
    return state[_STARTED] > 0.5 and t - state[LAST_FLIGHT_T] < RUN_HOLD_S


@kernel(inline="always")
def contact_step(state, t, fv, forward, left, moving):
    """Feed one sample (vertical, and level forward and left specific force, m/s²); return
    (contact time or nan, RUN/WALK/0) for a contact found now."""
    if state[_STARTED] < 0.5:
        state[LAST_FLIGHT_T] = -1e9
        state[LAST_IC_T] = -1e9
        for _ in range(HISTORY):
            _remember(state, t, fv)
        state[_STARTED] = 1.0
        return math.nan, 0
    found, kind = _running_contact(state, t, fv), RUN
    if running(state, t):  # the walking detector rests, and starts afresh when the run ends
        state[WALK_STATE + walking.STARTED] = 0.0
    else:
        dt = t - _earlier(state, 1)[0]
        walked = walking.walking_step(state[WALK_STATE:], t, dt, fv, forward, left)
        if math.isnan(found) and moving:
            found, kind = _walking_gate(state, walked), WALK
    _remember(state, t, fv)
    if math.isnan(found):
        return found, 0
    state[LAST_IC_T], state[_LAST_KIND] = found, kind
    return found, kind


@kernel(inline="always")
def _running_contact(state, t, fv):
    dt = t - _earlier(state, 1)[0]
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
            return _onset_time(state, t, fv, state[_BASE])
    elif fv >= RISE_G * G_MS2:
        _reset_flight(state)
    return math.nan


@kernel(inline="always")
def _reset_flight(state):
    state[_FLIGHT_S] = 0.0
    state[_FLIGHT_SUM] = 0.0
    state[_FLIGHT_N] = 0.0


@kernel(inline="always")
def _remember(state, t, fv):
    """Push this sample onto ``_HISTORY``, the oldest falling off."""
    for i in range(_HISTORY + 2 * HISTORY - 1, _HISTORY + 1, -1):
        state[i] = state[i - 2]
    state[_HISTORY], state[_HISTORY + 1] = t, fv


@kernel(inline="always")
def _earlier(state, back):
    """(time, vertical force) of the sample ``back`` samples before this one (1: the previous;
    the recording's first stands in for those before it)."""
    i = _HISTORY + 2 * (back - 1)
    return state[i], state[i + 1]


@kernel(inline="always")
def _onset_time(state, t, fv, base):
    """Where the rising edge that reached ``fv`` at ``t`` crossed ``ONSET_G`` above the lowest of
    the flight's mean ``base`` and the last ``HISTORY`` samples: between the last of them at or
    below that level and the sample after it; the earliest of them if the edge stood above the
    level all that way. Across a hole in the data (lost samples) the crossing is read at most
    ``EDGE_REACH_S`` before the sample after the hole: read between the two, it came at the
    hole's start, 10–16 ms early on average next to 70-ms holes in simulated runs (now −1 to
    +5 ms), and a few contacts fell outside 50 ms."""
    low = base
    for back in range(1, HISTORY + 1):
        low = min(low, _earlier(state, back)[1])
    level = low + ONSET_G * G_MS2
    t_after, f_after = t, fv
    for back in range(1, HISTORY + 1):
        t_before, f_before = _earlier(state, back)
        if f_before <= level:
            crossed = t_before + (t_after - t_before) * (level - f_before) / (f_after - f_before)
            return max(crossed, t_after - EDGE_REACH_S)
        t_after, f_after = t_before, f_before
    return t_after


@kernel(inline="always")
def _edge_time(state, t, fv, base):
    """Where the line through the previous and this sample reaches ``base`` (clamped to
    ``EDGE_REACH_S`` or four samples either way, the nearer)."""
    t_prev, f_prev = _earlier(state, 1)
    dt = t - t_prev
    slope = (fv - f_prev) / dt
    if slope == 0.0:
        return t
    at = t - (fv - base) / slope
    reach = min(4 * dt, EDGE_REACH_S)
    return min(max(at, t - reach), t + reach)


@kernel
def _walking_gate(state, found):
    """Reject walking contacts that come too soon after the last one. Only an interval from a
    walking contact tells the walking step time: one from a run's last contact spans the change
    of gait (1.3 s in a simulated run-to-walk, which then made every other step look too soon)."""
    if math.isnan(found):
        return found
    interval = found - state[LAST_IC_T]
    usual = state[STEP_S] if state[STEP_S] > 0 else MIN_WALK_STEP_S
    if interval < max(MIN_WALK_STEP_S, WALK_GATE * usual):
        return math.nan
    if interval < 1.5 and state[_LAST_KIND] == WALK:
        state[STEP_S] += 0.2 * (interval - usual) if state[STEP_S] > 0 else interval
    return found
