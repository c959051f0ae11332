"""Stance side of each step with a probability (Numba kernel).

Evidence per step, from the pelvis-frame gyro around the contact (signs from the mechanics and
checked on the shared real recordings):

* **running**: in early stance ([contact, +80 ms]) the swing side drops and the pelvis turns
  toward the stance side: roll rate and yaw rate are positive for a left stance;
* **walking** (a lower-back sensor): over the 200 ms before contact, the late swing of the leg
  that lands, the trunk rotates and rolls with it: yaw rate and roll rate are negative for a
  left stance (in all three walkers of the shared lab recordings).

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

from numba import njit

SLIP_P = 0.03
EVIDENCE_GAIN = 1.5
FEATURE_TAU_STEPS = 30.0

# state slots
P_LEFT = 0
"""Posterior probability that the last step was a left stance."""
_MEAN = 1  # 2 features
_SCALE = 3  # 2 features
_COUNT = 5
_LAST_T = 6  # contact time of the last labelled step
STATE_SIZE = 7


@njit(cache=True)
def reset(state):
    """Forget the alternation (after a stop or a gap); keep the feature statistics."""
    state[P_LEFT] = 0.5


@njit(cache=True)
def side_step(state, t_ic, usual_s, roll_rate, yaw_rate, sign, next_t, next_roll, next_yaw):
    """Update with one step (contact ``t_ic``, the usual step time ``usual_s`` or 0 if unknown),
    its mean rates (deg/s) and the activity's sign (+1 run, −1 walk); ``next_*`` are the next
    step's contact and rates when already known (``next_t`` nan otherwise).

    Returns the probability that this step is a left stance.
    """
    n = state[_COUNT]
    if n == 0:
        state[P_LEFT] = 0.5
    moves = _moves(t_ic - state[_LAST_T], usual_s) if n > 0 else 1.0
    state[_LAST_T] = t_ic
    llr = EVIDENCE_GAIN * sign * _score(state, roll_rate, yaw_rate)
    _learn(state, roll_rate, yaw_rate)
    state[P_LEFT] = _posterior(_prior_left(state[P_LEFT], moves), llr)
    if math.isnan(next_t):
        return state[P_LEFT]
    next_llr = EVIDENCE_GAIN * sign * _score(state, next_roll, next_yaw)
    return _smoothed(state[P_LEFT], _moves(next_t - t_ic, usual_s), next_llr)


@njit(cache=True)
def _moves(interval_s, usual_s):
    """Steps taken in ``interval_s`` (1 when the usual step time is unknown)."""
    return round(interval_s / usual_s) if usual_s > 0 else 1.0


@njit(cache=True)
def _score(state, roll_rate, yaw_rate):
    """A step's evidence: its rates centred on the earlier steps' mean and scaled by the mean
    deviation this step brings it to (0 for the first step)."""
    n = state[_COUNT]
    a = 1.0 / min(n + 1.0, FEATURE_TAU_STEPS)
    score = 0.0
    for i, value in ((0, roll_rate), (1, yaw_rate)):
        centred = value - state[_MEAN + i]
        scale = state[_SCALE + i] + a * (abs(centred) - state[_SCALE + i])
        if n > 0 and scale > 1e-6:
            score += centred / scale
    return score


@njit(cache=True)
def _learn(state, roll_rate, yaw_rate):
    a = 1.0 / min(state[_COUNT] + 1.0, FEATURE_TAU_STEPS)
    for i, value in ((0, roll_rate), (1, yaw_rate)):
        centred = value - state[_MEAN + i]
        state[_MEAN + i] += a * centred
        state[_SCALE + i] += a * (abs(centred) - state[_SCALE + i])
    state[_COUNT] += 1.0


@njit(cache=True)
def _same_side_p(moves):
    """Probability that a step ``moves`` steps later is on the same side."""
    return SLIP_P if moves % 2 == 1 else 1.0 - SLIP_P


@njit(cache=True)
def _prior_left(p_left_before, moves):
    same = _same_side_p(moves)
    return same * p_left_before + (1.0 - same) * (1.0 - p_left_before)


@njit(cache=True)
def _posterior(prior_left, llr):
    odds = prior_left / (1.0 - prior_left) * math.exp(max(min(llr, 30.0), -30.0))
    return min(max(odds / (1.0 + odds), 1e-9), 1.0 - 1e-9)


@njit(cache=True)
def _smoothed(p_left, moves, next_llr):
    """``p_left`` given also the next step's evidence (log likelihood ratio, left vs right)."""
    same = _same_side_p(moves)
    ratio = math.exp(max(min(next_llr, 30.0), -30.0))
    if_left = same * ratio + (1.0 - same)
    if_right = (1.0 - same) * ratio + same
    return _posterior(p_left, math.log(if_left / if_right))
