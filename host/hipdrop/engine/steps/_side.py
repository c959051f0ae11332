"""Stance side of each step with a probability (Numba kernel).

Evidence per step, from the pelvis-frame gyro around the contact (signs from the mechanics and
checked on the shared real recordings):

* **running**: in early stance ([contact, +80 ms]) the swing side drops and the pelvis turns
  toward the stance side: roll rate and yaw rate are positive for a left stance (the yaw rate
  less the runner's own turn, ``stride_turn``);
* **walking** (a lower-back sensor): over the 200 ms before contact, the late swing of the leg
  that lands, the trunk rotates and rolls with it: yaw rate and roll rate are negative for a
  left stance (in all three walkers of the shared lab recordings). The trunk also falls toward
  the side that lands, away from the foot it stands on (an inverted pendulum medial to its
  foot): the level force toward the right is negative before a left contact. Alone it told the
  sides apart for 87–92 % of the contacts of each of the three walkers, against 58–68 % for the
  roll rate and 57–78 % for the yaw rate; with it, left/right stays 0.98–0.99 with the sensor
  turned by up to 30° on the waistband (0.90–0.97 without). It counts only while the walker
  walks forward: sideways steps (a band walk, a step-up) move the trunk sideways anyway.

A feature the activity does not measure is nan (the force in running) and counts for nothing.
Each feature is centred on its running mean over steps (steps alternate, so the mean is the
gyro's residual bias) and scaled by its running mean magnitude. Steps alternate left and right,
so a two-state forward filter (a hidden Markov model whose only move is "alternate", with
``SLIP_P`` for a missed or extra contact) accumulates the evidence of all earlier steps; the
posterior of the chosen side is the confidence. When the time since the last labelled step is
nearer an even number of usual step times (a contact was missed in between), the move is
"same side" instead.

**Look-ahead** (walking): a step's verdict is due when the next contact is confirmed, and by
then the next step's evidence — the swing before it lands — is already in. The side of a step
is therefore the one-step fixed-lag smoothed posterior: the filter's belief times the
likelihood of the next step's evidence under each side. The filter itself carries on with the
unsmoothed belief, so every step's evidence counts once.
"""

import math

from .._jit import kernel

SLIP_P = 0.03
BRIDGE_STEPS = 3
"""The alternation carries over at most this many usual step times (two missed contacts); after
a longer pause (a stop, a stand) it says nothing, and the step's own evidence decides."""
EVIDENCE_GAIN = 1.5
FEATURE_TAU_STEPS = 30.0
SETTLED_STEPS = 4.0
"""A feature's evidence counts in full once this many steps have measured it, and in proportion
before. Centred and scaled on one step's value, any second step scored ±2 scales per feature:
near-certain whichever its side. Of the steps named at ≥ 0.99 confidence in twenty simulated runs
and walks worn at random and the real walks (2,670), the 9 wrong were all among a recording's
first three (a run worn turned, read before the heading is learned); now none is wrong, and
those steps come out at 0.5–0.9."""
TURN_DEADBAND_DPS = 10.0
"""A runner's turn (``stride_turn``) counts beyond this. Straight running leaves a few °/s in a
stride's mean (up to 6 in its first strides); read less that, two early sides of the simulated
treadmill runs changed, one to wrong at 0.87 confidence."""

# state slots
P_LEFT = 0
"""Posterior probability that the last step was a left stance."""
FEATURES = 3
_MEAN = 1  # per feature
_SCALE = _MEAN + FEATURES
_COUNT = _SCALE + FEATURES  # per feature: the steps that measured it
_LAST_T = _COUNT + FEATURES  # contact time of the last labelled step
_LAST_STEP = _LAST_T + 1
"""3 slots: the last measured step's end (its next contact; nan when it was none) and its mean
yaw rate and samples (``stride_turn``)."""
STATE_SIZE = _LAST_STEP + 3


@kernel
def has_evidence(state):
    """Earlier steps have measured the rates, so a step's own rates can be judged against them."""
    return state[_COUNT] > 0


@kernel
def stride_turn(state, t_ic, t_next, measures, at):
    """The walker's or runner's turn (deg/s, positive to the left) at a step from ``t_ic`` to
    ``t_next`` (nan when it had no next contact): the mean yaw rate over the stride from the
    step before's contact to this step's end (``measures[at]``: this step's mean yaw rate,
    ``measures[at + 1]`` its samples; the step before's kept here), where the pelvis's own
    rotation, alternating step by step, cancels. nan without the step before."""
    last_end, last_yaw, last_n = state[_LAST_STEP], state[_LAST_STEP + 1], state[_LAST_STEP + 2]
    yaw, n = measures[at], measures[at + 1]
    state[_LAST_STEP], state[_LAST_STEP + 1], state[_LAST_STEP + 2] = t_next, yaw, n
    if last_end != t_ic or last_n == 0 or n == 0:
        return math.nan
    return (yaw * n + last_yaw * last_n) / (n + last_n)


@kernel(inline="always")
def turn_beyond_dead_band(turn):
    """The part of a running step's ``stride_turn`` (nan: 0) beyond ±``TURN_DEADBAND_DPS``,
    which its side evidence is read less. In a turn the early-stance yaw rate carries the turn
    (up to 100 °/s in an about-turn), which outvoted the alternation."""
    if math.isnan(turn):
        return 0.0
    return turn - min(max(turn, -TURN_DEADBAND_DPS), TURN_DEADBAND_DPS)


@kernel
def forget_axes(state):
    """Forget what was learned of the roll rate and the sideways force: the pelvis axes they
    are read about have just turned (walking turned forward). Read about the old axes they had
    another mean, and centred on it they named the sides wrongly for a dozen steps (a walk worn
    turned 86°: 12 steps in a row, at confidences up to 1.0). The yaw rate, about the vertical,
    stands."""
    for i in (0, 2):
        state[_MEAN + i] = state[_SCALE + i] = state[_COUNT + i] = 0.0


@kernel
def reset(state):
    """Forget the alternation (after a stop or a gap); keep the feature statistics."""
    state[P_LEFT] = 0.5


@kernel
def carry_over(state, lag_s, stride_s, t_after):
    """Carry the alternation over a gap that ends at ``t_after``, bridged from the strides
    ``lag_s`` back (``_bridge.bridged_up``: whole strides, so the same leg stood then as now):
    the last labelled step is moved on by them, and then by whole strides of ``stride_s``, into
    the last stride before ``t_after``; the steps after the gap then count from there."""
    moved = state[_LAST_T] + lag_s
    state[_LAST_T] = moved + math.floor((t_after - moved) / stride_s) * stride_s


@kernel
def side_step(state, t_ic, usual_s, features, sign, next_t, next_features):
    """Update with one step (contact ``t_ic``, the usual step time ``usual_s`` or 0 if unknown),
    its ``features`` (roll rate and yaw rate, deg/s, and the level force toward the right, m/s²,
    or nan) and the activity's sign (+1 run, −1 walk); ``next_t`` and ``next_features`` are the
    next step's when already known (``next_t`` nan otherwise).

    Returns the probability that this step is a left stance.
    """
    first = state[_COUNT] == 0
    if first:
        state[P_LEFT] = 0.5
    moves = 1.0 if first else _moves(t_ic - state[_LAST_T], usual_s)
    state[_LAST_T] = t_ic
    llr = EVIDENCE_GAIN * sign * _score(state, features)
    _learn(state, features)
    state[P_LEFT] = _posterior(_prior_left(state[P_LEFT], moves), llr)
    if math.isnan(next_t):
        return state[P_LEFT]
    next_llr = EVIDENCE_GAIN * sign * _score(state, next_features)
    return _smoothed(state[P_LEFT], _moves(next_t - t_ic, usual_s), next_llr)


@kernel
def _moves(interval_s, usual_s):
    """Steps taken in ``interval_s`` (1 when the usual step time is unknown; 0, unknown, under
    half a usual step — an extra contact — and after more than ``BRIDGE_STEPS``: a pause)."""
    if usual_s <= 0:
        return 1.0
    moves = round(interval_s / usual_s)
    return moves if moves <= BRIDGE_STEPS else 0.0


@kernel
def _score(state, features):
    """A step's evidence: each measured feature centred on the earlier steps' mean and scaled by
    the mean deviation this step brings it to, weighed by ``SETTLED_STEPS`` (0 for a feature's
    first step)."""
    score = 0.0
    for i in range(FEATURES):
        n = state[_COUNT + i]
        if math.isnan(features[i]) or n == 0:
            continue
        centred = features[i] - state[_MEAN + i]
        scale = state[_SCALE + i] + (abs(centred) - state[_SCALE + i]) / min(
            n + 1.0, FEATURE_TAU_STEPS
        )
        if scale > 1e-6:
            score += centred / scale * min(n / SETTLED_STEPS, 1.0)
    return score


@kernel
def _learn(state, features):
    for i in range(FEATURES):
        if math.isnan(features[i]):
            continue
        a = 1.0 / min(state[_COUNT + i] + 1.0, FEATURE_TAU_STEPS)
        centred = features[i] - state[_MEAN + i]
        state[_MEAN + i] += a * centred
        state[_SCALE + i] += a * (abs(centred) - state[_SCALE + i])
        state[_COUNT + i] += 1.0


@kernel
def _same_side_p(moves):
    """Probability that a step ``moves`` steps later is on the same side (0: unknown)."""
    if moves == 0:
        return 0.5
    return SLIP_P if moves % 2 == 1 else 1.0 - SLIP_P


@kernel
def _prior_left(p_left_before, moves):
    same = _same_side_p(moves)
    return same * p_left_before + (1.0 - same) * (1.0 - p_left_before)


@kernel
def _posterior(prior_left, llr):
    odds = prior_left / (1.0 - prior_left) * math.exp(max(min(llr, 30.0), -30.0))
    return min(max(odds / (1.0 + odds), 1e-9), 1.0 - 1e-9)


@kernel
def _smoothed(p_left, moves, next_llr):
    """``p_left`` given also the next step's evidence (log likelihood ratio, left vs right)."""
    same = _same_side_p(moves)
    ratio = math.exp(max(min(next_llr, 30.0), -30.0))
    if_left = same * ratio + (1.0 - same)
    if_right = (1.0 - same) * ratio + same
    return _posterior(p_left, math.log(if_left / if_right))
