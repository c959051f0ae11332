"""The step plan: when each foot lands, on which side, and how the pelvis behaves in that stance."""

from dataclasses import dataclass

import numpy as np

from .activities import STEPPING, Bout, Gait, Session

LEFT, RIGHT = 1, -1
"""Stance-side signs: a drop of the swing side is +roll for a left stance, -roll for a right."""


@dataclass(frozen=True)
class StepPlan:
    """Per-step arrays (seconds, degrees, g), in time order."""

    t_ic_s: np.ndarray
    side: np.ndarray
    step_s: np.ndarray
    stance_s: np.ndarray
    drop_deg: np.ndarray
    impact_g: np.ndarray
    bout: np.ndarray

    def __len__(self):
        return len(self.t_ic_s)


def bout_starts_s(session: Session):
    durations = [b.duration_s for b in session.bouts]
    return np.concatenate([[0.0], np.cumsum(durations)[:-1]])


def plan_steps(session: Session, rng: np.random.Generator) -> StepPlan:
    """Draw every step of every stepping bout, with stride-to-stride variability and fatigue."""
    rows = []
    for index, (bout, start) in enumerate(zip(session.bouts, bout_starts_s(session))):
        if bout.activity in STEPPING:
            rows.extend(_bout_steps(bout, index, start, session, rng))
    columns = np.array(rows, dtype=float).reshape(-1, 7).T
    t_ic, side, step, stance, drop, impact, bout_index = columns
    return StepPlan(t_ic, side.astype(int), step, stance, drop, impact, bout_index.astype(int))


def _bout_steps(bout: Bout, index, start_s, session, rng):
    gait = bout.gait
    end_s = start_s + bout.duration_s
    side = LEFT if bout.side == "L" else RIGHT
    t = start_s + 0.5
    while True:
        step, stance, drop, impact = _draw_step(gait, side, session.fatigue, t, rng)
        if t + max(step, stance) > end_s - 0.5:
            return
        yield t, side, step, stance, drop, impact, index
        t += step
        side = -side


def _draw_step(gait: Gait, side, fatigue, t_s, rng):
    level = fatigue.level(t_s) if fatigue else 0.0
    side_index = 0 if side == LEFT else 1
    cadence = gait.cadence_spm + (fatigue.cadence_change_spm * level if fatigue else 0.0)
    step = 60.0 / cadence * (1.0 + gait.cadence_cv * rng.standard_normal())
    stance = gait.contact_time_s * (1.0 + gait.contact_cv * rng.standard_normal())
    if gait.impact_g > 0:  # running: stance must leave a flight phase
        stance = min(stance, 0.85 * step)
    drop = gait.drop_deg[side_index] + gait.drop_sd_deg * rng.standard_normal()
    impact = gait.impact_g
    if fatigue:
        drop += fatigue.drop_increase_deg[side_index] * level
        impact += fatigue.impact_change_g * level
    return step, stance, drop, impact
