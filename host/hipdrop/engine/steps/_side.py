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
def side_step(state, t_ic, usual_s, roll_rate, yaw_rate, sign):
    """Update with one step (contact ``t_ic``, the usual step time ``usual_s`` or 0 if unknown),
    its mean rates (deg/s) and the activity's sign (+1 run, −1 walk).

    Returns the probability that this step is a left stance.
    """
    n = state[_COUNT]
    if n == 0:
        state[P_LEFT] = 0.5
    steps = round((t_ic - state[_LAST_T]) / usual_s) if usual_s > 0 and n > 0 else 1.0
    state[_LAST_T] = t_ic
    a = 1.0 / min(n + 1.0, FEATURE_TAU_STEPS)
    score = 0.0
    for i, value in ((0, roll_rate), (1, yaw_rate)):
        centred = value - state[_MEAN + i]
        state[_MEAN + i] += a * (value - state[_MEAN + i])
        state[_SCALE + i] += a * (abs(centred) - state[_SCALE + i])
        if n > 0 and state[_SCALE + i] > 1e-6:
            score += centred / state[_SCALE + i]
    state[_COUNT] = n + 1.0
    llr = EVIDENCE_GAIN * sign * score
    was_left = state[P_LEFT] if steps % 2 == 1 else 1.0 - state[P_LEFT]
    prior = (1 - SLIP_P) * (1 - was_left) + SLIP_P * was_left
    odds = prior / (1 - prior) * math.exp(max(min(llr, 30.0), -30.0))
    p = odds / (1 + odds)
    state[P_LEFT] = min(max(p, 1e-9), 1 - 1e-9)
    return state[P_LEFT]
