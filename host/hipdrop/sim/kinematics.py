"""True pelvis motion, sample by sample: ZYX Euler angles and the trunk's specific force.

Angles follow the body-frame conventions (x forward, y left, z up; roll > 0 = left hemipelvis
up; pitch > 0 = anterior tilt). The specific force is expressed in the world frame (z up).
"""

from dataclasses import dataclass

import numpy as np

from .activities import STEPPING, Session
from .steps import StepPlan, bout_starts_s

G_MS2 = 9.80665
IMPACT_DELAY_S = 0.015
IMPACT_WIDTH_S = 0.005
WALK_ROTATION_LAG = 0.28
"""Walking: the pelvis turns furthest toward the stance side ≈ 150 ms after heel strike."""
PEAK_DROP_AT = 0.45
"""Fraction of stance at which the swing side reaches its lowest point (running)."""
WALK_PEAK_DROP_AT = 0.7
"""Walking: the swing side sinks through single support, lowest shortly before its own heel
strike (the roll rate of lower-back recordings stays negative until then for a left strike)."""


@dataclass(frozen=True)
class PelvisMotion:
    euler_deg: np.ndarray
    """(n, 3): yaw, pitch, roll of the pelvis in the world frame."""
    force_world_ms2: np.ndarray
    """(n, 3): specific force of the trunk, world frame."""


def drop_shape(u, peak_at=PEAK_DROP_AT):
    """Swing-side drop over stance (u = 0 at contact, 1 at toe-off): 0 → 1 at ``peak_at`` → 0."""
    inside = (u >= 0) & (u <= 1)
    uc = np.clip(u, 0.0, 1.0)
    exponent = np.log(0.5) / np.log(peak_at)
    return np.where(inside, np.sin(np.pi * uc**exponent) ** 2, 0.0)


def moving_average(x, width):
    """Centred moving average over ``width`` samples (edges use the available samples)."""
    if width < 2:
        return np.asarray(x, dtype=float)
    kernel = np.ones(width) / width
    padded = np.pad(x, (width // 2, width - 1 - width // 2), mode="edge")
    return np.convolve(padded, kernel, mode="valid")


class _Timeline:
    """Per-sample lookups into the step plan and the bouts."""

    def __init__(self, session: Session, plan: StepPlan, t_s):
        self.t = t_s
        self.plan = _with_sentinel(plan)
        self.bouts = session.bouts
        self.bout = np.clip(np.searchsorted(bout_starts_s(session), t_s, "right") - 1, 0, None)
        self.step = np.searchsorted(plan.t_ic_s, t_s, "right") - 1

    def per_bout(self, values):
        return np.asarray(values, dtype=float)[self.bout]

    def stance_u(self, lag):
        """Stance fraction of the step ``lag`` steps back (nan where there is none)."""
        k = self.step - lag
        ok = k >= 0
        kk = np.where(ok, k, 0)
        u = (self.t - self.plan.t_ic_s[kk]) / self.plan.stance_s[kk]
        return np.where(ok, u, np.nan), kk

    def step_phase(self):
        """Fraction of the current step (0 at its contact, 1 at the next) and a validity mask."""
        k = np.where(self.step >= 0, self.step, 0)
        phase = (self.t - self.plan.t_ic_s[k]) / self.plan.step_s[k]
        same_bout = self.plan.bout[k] == self.bout
        valid = (self.step >= 0) & (phase < 1) & same_bout
        return np.where(valid, phase, 0.0), valid, k

    def envelope(self, rate_hz):
        """Oscillation amplitude: 1 while stepping, ramped linearly over 1 s at bout edges."""
        _, valid, _ = self.step_phase()
        share = moving_average(valid.astype(float), 2 * int(rate_hz))
        return np.clip(2 * share - 1, 0, 1) * valid


def _with_sentinel(plan: StepPlan) -> StepPlan:
    """The plan plus a never-reached step, so per-sample lookups work when there are no steps."""
    extra = (np.inf, 1, 1.0, 1.0, 0.0, 0.0, -1)
    return StepPlan(
        *(
            np.append(col, value)
            for col, value in zip(
                (
                    plan.t_ic_s,
                    plan.side,
                    plan.step_s,
                    plan.stance_s,
                    plan.drop_deg,
                    plan.impact_g,
                    plan.bout,
                ),
                extra,
            )
        )
    )


def pelvis_motion(session: Session, plan: StepPlan, t_s, rate_hz, rng) -> PelvisMotion:
    line = _Timeline(session, plan, t_s)
    smooth = int(rate_hz)
    heading_deg, yaw_rate_rps = _heading(session, t_s)
    speed = moving_average(line.per_bout([_speed(b) for b in session.bouts]), smooth)
    lateral = speed * yaw_rate_rps
    roll = _roll(line, smooth) + _sway(t_s, rng) - np.degrees(np.arctan2(lateral, G_MS2))
    pitch, yaw_osc = _pitch_and_rotation(line, rate_hz)
    euler = np.stack([heading_deg + yaw_osc, pitch, roll], axis=1)
    force = _force_path_frame(line)
    force[:, 1] += lateral
    return PelvisMotion(euler, _rotate_z(force, heading_deg))


def _speed(bout):
    return bout.gait.speed_mps if bout.activity in ("walk", "run") else 0.0


def _roll(line: _Timeline, smooth):
    plan = line.plan
    roll = np.zeros_like(line.t)
    walking = np.array([b.activity == "walk" for b in line.bouts] + [False])
    for lag in (0, 1):
        u, k = line.stance_u(lag)
        peak_at = np.where(walking[plan.bout[k]], WALK_PEAK_DROP_AT, PEAK_DROP_AT)
        roll += plan.side[k] * plan.drop_deg[k] * drop_shape(np.nan_to_num(u, nan=-1.0), peak_at)
    holds = [_hold_roll(b) for b in line.bouts]
    return roll + moving_average(line.per_bout(holds), smooth)


def _hold_roll(bout):
    sign = 1.0 if bout.side == "L" else -1.0
    if bout.activity == "single_leg":
        return sign * bout.hold_drop_deg
    if bout.activity == "side_plank":  # lying on `side`: that side faces the floor
        return -sign * (90.0 + bout.hold_drop_deg)
    return 0.0


def _sway(t_s, rng, amplitude_deg=0.25):
    """Slow postural sway: a few incommensurate sines with random phases."""
    freqs = np.array([0.11, 0.23, 0.37, 0.61])
    phases = rng.uniform(0, 2 * np.pi, len(freqs))
    return amplitude_deg / 2 * np.sin(2 * np.pi * np.outer(t_s, freqs) + phases).sum(axis=1)


def _pitch_and_rotation(line: _Timeline, rate_hz):
    phase, _, k = line.step_phase()
    env = line.envelope(rate_hz)
    gaits = [b.gait for b in line.bouts]
    tilt = moving_average(line.per_bout([_tilt(b) for b in line.bouts]), int(rate_hz))
    tilt_range = line.per_bout([g.tilt_range_deg for g in gaits])
    rotation_range = line.per_bout([g.rotation_range_deg for g in gaits])
    pitch = tilt + env * tilt_range / 2 * np.sin(2 * np.pi * phase)
    stride_phase = np.pi * phase + np.where(line.plan.side[k] > 0, 0.0, np.pi)
    walking = np.array([b.activity == "walk" for b in line.bouts])[line.bout]
    lag = np.where(walking, WALK_ROTATION_LAG * np.pi, 0.0)
    yaw = -env * rotation_range / 2 * np.cos(stride_phase - lag)
    return pitch, yaw


def _tilt(bout):
    """Anterior tilt relative to standing (standing still defines the neutral, level pelvis)."""
    return bout.gait.anterior_tilt_deg if bout.activity in STEPPING else 0.0


def _force_path_frame(line: _Timeline):
    force = np.zeros((len(line.t), 3))
    force[:, 2] = G_MS2
    phase, valid, k = line.step_phase()
    activity = np.array([b.activity for b in line.bouts])[line.bout]
    side = line.plan.side[k]
    running = valid & (activity == "run")
    force[running] = _running_force(line, k[running], line.t[running])
    for name, pattern in _PERIODIC.items():
        mask = valid & (activity == name)
        force[mask] = pattern(phase[mask], side[mask])
    return force


def _running_force(line, k, t):
    """Half-sine stance loading (mean g over the step), impact, braking/propulsion, ML push."""
    plan = line.plan
    tau = t - plan.t_ic_s[k]
    stance = plan.stance_s[k]
    u = tau / stance
    in_stance = u <= 1
    impact_area = plan.impact_g[k] * G_MS2 * IMPACT_WIDTH_S * np.sqrt(2 * np.pi)
    peak = (G_MS2 * plan.step_s[k] - impact_area) * np.pi / (2 * stance)
    impact = (
        plan.impact_g[k] * G_MS2 * np.exp(-0.5 * ((tau - IMPACT_DELAY_S) / IMPACT_WIDTH_S) ** 2)
    )
    loading = np.sin(np.pi * np.clip(u, 0, 1))
    fx = -0.55 * G_MS2 * np.sin(2 * np.pi * np.clip(u, 0, 1))
    fy = -plan.side[k] * 0.15 * G_MS2 * loading
    fz = peak * loading + impact
    return np.where(in_stance[:, None], np.stack([fx, fy, fz], axis=1), 0.0)


WALK_PEAK_AT = 0.11
"""Walking: the vertical force peaks ≈ 60 ms after heel strike (lower-back recordings)."""
WALK_PEAK_WIDTH = 0.08
_PHASES = np.linspace(0.0, 1.0, 1000, endpoint=False)


def _heel_strike_bump(phase):
    """A periodic bump peaking WALK_PEAK_AT into the step, zero mean over a step."""

    def bump(p):
        wrapped = (p - WALK_PEAK_AT + 0.5) % 1.0 - 0.5
        return np.exp(-0.5 * (wrapped / WALK_PEAK_WIDTH) ** 2)

    return bump(phase) - bump(_PHASES).mean()


def _walking(phase, side):
    """Loading right after heel strike (mean g), forward force falling into braking after it,
    a mediolateral sway per stride."""
    return np.stack(
        [
            0.2 * G_MS2 * np.cos(2 * np.pi * (phase + 0.03)),
            -side * 0.1 * G_MS2 * np.sin(np.pi * phase),
            G_MS2 * (1 + 0.35 * _heel_strike_bump(phase)),
        ],
        axis=1,
    )


def _band_walk(phase, side):
    """Side-stepping toward the leading leg (the first step's side)."""
    lead = np.where(side > 0, 1.0, -1.0)
    return np.stack(
        [
            np.zeros_like(phase),
            lead * 0.08 * G_MS2 * np.sin(2 * np.pi * phase),
            G_MS2 * (1 + 0.08 * np.cos(2 * np.pi * phase)),
        ],
        axis=1,
    )


def _step_up(phase, side):
    return np.stack(
        [
            0.05 * G_MS2 * np.sin(2 * np.pi * phase),
            np.zeros_like(phase),
            G_MS2 * (1 + 0.3 * np.sin(2 * np.pi * phase)),
        ],
        axis=1,
    )


_PERIODIC = {"walk": _walking, "band_walk": _band_walk, "step_up": _step_up}


def _heading(session: Session, t_s):
    """Path heading (deg) and its rate (rad/s) from the session's turns (smoothstep ramps)."""
    heading = np.zeros_like(t_s)
    rate = np.zeros_like(t_s)
    for turn in session.turns:
        x = np.clip((t_s - turn.start_s) / turn.duration_s, 0, 1)
        heading += turn.angle_deg * x * x * (3 - 2 * x)
        rate += np.radians(turn.angle_deg) * 6 * x * (1 - x) / turn.duration_s
    return heading, rate


def _rotate_z(v, angle_deg):
    a = np.radians(angle_deg)
    c, s = np.cos(a), np.sin(a)
    return np.stack([c * v[:, 0] - s * v[:, 1], s * v[:, 0] + c * v[:, 1], v[:, 2]], axis=1)
