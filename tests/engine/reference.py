"""Pure-Python reference implementations of the gait engine's Numba kernels.

Written from the kernels' docstrings, not from their code: plain floats and small tuples, one
class per kernel with named attributes instead of state slots, so that a test can drive a
kernel and its reference side by side and compare them sample by sample. Slow (≈ 20 µs per
sample and stage); use short stretches of data.

Conventions as in the engine: quaternions (w, x, y, z) map sensor vectors into the world,
specific force in m/s², angular rate in deg/s (the orientation filter's bias in rad/s).
"""

import math
from collections import deque

G_MS2 = 9.80665


# -- 3-vectors and quaternions as tuples ------------------------------------------------------


def dot(a, b):
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def cross(a, b):
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def add(a, b, scale=1.0):
    """a + scale · b."""
    return tuple(x + scale * y for x, y in zip(a, b))


def unit(v):
    n = math.sqrt(sum(x * x for x in v))
    return tuple(x / n for x in v)


def mean2(pairs):
    """The mean of a list of 2-tuples."""
    return sum(p[0] for p in pairs) / len(pairs), sum(p[1] for p in pairs) / len(pairs)


def ema(mean, value, a):
    """Exponential moving average step for tuples (or floats) with weight ``a``."""
    if isinstance(mean, tuple):
        return tuple(m + a * (v - m) for m, v in zip(mean, value))
    return mean + a * (value - mean)


def q_mul(a, b):
    """Hamilton product a ⊗ b."""
    aw, av = a[0], a[1:]
    bw, bv = b[0], b[1:]
    vector = add(add(tuple(aw * x for x in bv), tuple(bw * x for x in av)), cross(av, bv))
    return (aw * bw - dot(av, bv), *vector)


def q_conj(q):
    return (q[0], -q[1], -q[2], -q[3])


def q_rotate(q, v):
    """q ⊗ (0, v) ⊗ q*, the vector part."""
    return q_mul(q_mul(q, (0.0, *v)), q_conj(q))[1:]


def q_from_rotvec(r):
    angle = math.sqrt(dot(r, r))
    if angle == 0.0:
        return (1.0, 0.0, 0.0, 0.0)
    s = math.sin(angle / 2) / angle
    return (math.cos(angle / 2), r[0] * s, r[1] * s, r[2] * s)


def up_in_sensor(q):
    """World up seen in the sensor frame."""
    return q_rotate(q_conj(q), (0.0, 0.0, 1.0))


def level_from_gravity(f):
    """The smallest rotation carrying the direction of ``f`` onto world up (zero heading)."""
    u = unit(f)
    axis = cross(u, (0.0, 0.0, 1.0))
    s = math.sqrt(dot(axis, axis))
    if s < 1e-12:
        return (1.0, 0.0, 0.0, 0.0) if u[2] > 0 else (0.0, 1.0, 0.0, 0.0)
    angle = math.atan2(s, u[2])
    return q_from_rotvec(tuple(x / s * angle for x in axis))


# -- calibration/_still ------------------------------------------------------------------------


class Still:
    """Still detector: EMA (τ 0.4 s) mean and variance of gyro and |f|; still after 0.6 s quiet.

    The moving statistics start from the first sample (a zero start would make the variance
    of |f| ≈ g huge for seconds)."""

    WINDOW_S, HOLD_S = 0.4, 0.6
    GYR_STD_MAX_DPS, ACC_STD_MAX_MS2, G_TOLERANCE = 2.0, 0.12, 0.12

    def __init__(self):
        self.gyr_mean = self.gyr_sq = None  # None until the first sample
        self.norm_mean = self.norm_sq = None
        self.quiet_s = 0.0
        self.still = False

    def step(self, acc, gyr_dps, dt):
        a = min(dt / self.WINDOW_S, 1.0)
        norm = math.sqrt(dot(acc, acc))
        if self.gyr_mean is None:
            self.gyr_mean, self.gyr_sq = tuple(gyr_dps), tuple(g * g for g in gyr_dps)
            self.norm_mean, self.norm_sq = norm, norm * norm
        self.gyr_mean = ema(self.gyr_mean, gyr_dps, a)
        self.gyr_sq = ema(self.gyr_sq, tuple(g * g for g in gyr_dps), a)
        self.norm_mean = ema(self.norm_mean, norm, a)
        self.norm_sq = ema(self.norm_sq, norm * norm, a)
        gyr_var = sum(max(s - m * m, 0.0) for s, m in zip(self.gyr_sq, self.gyr_mean))
        acc_var = max(self.norm_sq - self.norm_mean**2, 0.0)
        quiet = (
            gyr_var < self.GYR_STD_MAX_DPS**2
            and acc_var < self.ACC_STD_MAX_MS2**2
            and abs(norm - G_MS2) < self.G_TOLERANCE * G_MS2
        )
        self.quiet_s = self.quiet_s + dt if quiet else 0.0
        self.still = self.quiet_s >= self.HOLD_S
        return self.still


# -- orientation/_filter -------------------------------------------------------------------------


class Orientation:
    """Gyro-driven tilt, corrected toward the world-frame average specific force.

    One rotation per sample: the gyro's rotation plus the correction computed at the previous
    sample (from the estimate before its rotation and the average up to the sample before it),
    composed on the sensor side. No correction while turning (mean rate about the vertical above
    20 °/s, as of the previous sample) and moving; as a turn ends, the average force starts again
    from the vertical. The rate about the vertical is the gyro along up as it stood before the
    sample's rotation.
    """

    FORCE_TAU_S, TILT_GAIN, STILL_TILT_GAIN, START_S = 1.5, 0.3, 2.0, 3.0
    BIAS_GAIN, STILL_BIAS_TAU_S, TURN_DPS, TURN_TAU_S = 0.02, 1.0, 20.0, 0.5
    FRESH_FLOOR_S = 0.2

    def __init__(self):
        self.q = None
        self.bias = (0.0, 0.0, 0.0)  # rad/s
        self.force = (0.0, 0.0, G_MS2)  # world frame, m/s²
        self.age_s = 0.0
        self.fresh_s = 0.0  # since the average force started afresh
        self.yaw_rate_dps = 0.0
        self.correction = (0.0, 0.0, 0.0)  # for the next sample
        self.rest = None  # the rest under way (RestBias), None while moving

    def step(self, acc, gyr_dps, dt, still, turn_dps=None):
        """``turn_dps``: the rate the estimate turns by over ``dt`` (and the turn rate is read
        from), when not the sample's own (a hole in the data, bridged)."""
        turn_dps = gyr_dps if turn_dps is None else turn_dps
        if self.q is None:
            self.q = level_from_gravity(acc)
        self.age_s += dt
        self.fresh_s += dt
        gyr = tuple(math.radians(g) for g in gyr_dps)
        if still:
            self.rest = self.rest or RestBias(self.bias)
            self.rest.add(gyr, acc, dt)
            self.bias = ema(self.bias, gyr, min(dt / self.STILL_BIAS_TAU_S, 1.0))
        elif self.rest is not None:
            self.bias, self.rest = self.rest.bias_after(), None
        turn = tuple(math.radians(g) for g in turn_dps)
        turned = add(tuple(r * dt for r in add(turn, self.bias, -1.0)), self.correction)
        self.correction = self._correction(dt, still)
        yaw_rate = dot(turn_dps, self.up)
        self.q = unit(q_mul(self.q, q_from_rotvec(turned)))
        was_turning = abs(self.yaw_rate_dps) > self.TURN_DPS
        self.yaw_rate_dps = ema(self.yaw_rate_dps, yaw_rate, min(dt / self.TURN_TAU_S, 1.0))
        if was_turning and abs(self.yaw_rate_dps) <= self.TURN_DPS:
            self.force = (0.0, 0.0, G_MS2)  # the turn's centripetal force is forgotten
        weight = min(dt / self.FORCE_TAU_S, 1.0)
        if self.fresh_s < self.FORCE_TAU_S:  # a plain mean since the start or a gap
            weight = max(weight, dt / max(self.fresh_s, self.FRESH_FLOOR_S))
        self.force = ema(self.force, q_rotate(self.q, acc), weight)

    def after_gap(self):
        """The tilt is corrected as at the start, and the average force starts afresh."""
        self.age_s = self.fresh_s = 0.0

    def after_bridged_gap(self, up_then):
        """Turned by the least rotation (about up_then × up, through the angle between them)
        that makes world up read ``up_then`` in the sensor frame; then corrected as at the
        start, the average force kept."""
        up_now = self.up
        axis = cross(up_then, up_now)
        sine = math.sqrt(dot(axis, axis))
        if sine > 1e-12:
            angle = math.atan2(sine, dot(up_then, up_now))
            self.q = unit(q_mul(self.q, q_from_rotvec(tuple(a / sine * angle for a in axis))))
        self.age_s = 0.0

    def _correction(self, dt, still):
        """The sensor-frame rotation vector toward the average force; turns the average and
        learns the bias from the same error."""
        turning = abs(self.yaw_rate_dps) > self.TURN_DPS and not still
        if turning or math.sqrt(dot(self.force, self.force)) < 0.5 * G_MS2:
            return (0.0, 0.0, 0.0)
        slow = not still and self.age_s >= self.START_S
        step = (self.TILT_GAIN if slow else self.STILL_TILT_GAIN) * dt
        # world frame; the average force is ≈ g, so |e| ≈ sin(tilt error)
        error = cross(tuple(f / G_MS2 for f in self.force), (0.0, 0.0, 1.0))
        r = tuple(e * step for e in error)
        self.force = add(self.force, cross(r, self.force))  # first order, like the kernel
        sensor_error = q_rotate(q_conj(self.q), error)
        if slow:  # not while the fast start's error settles
            self.bias = add(self.bias, sensor_error, -self.BIAS_GAIN / self.TILT_GAIN * step)
        return tuple(e * step for e in sensor_error)

    @property
    def up(self):
        return up_in_sensor(self.q)


class RestBias:
    """The bias a rest leaves: the mean, over the rest's whole blocks of 0.5 s but the first and
    the last (the one under way left out too), of each block's gyro rate less the turn gravity
    shows over it — up (the block's mean force, normalised) moved by half the change from the
    block before to the block after, and a turn θ moves up by −θ × u, so θ across up is Δu × u
    — blended with the bias before the rest by min(span / 1 s, 1). The mean spans at most 10 s:
    past that, each block moves it by its share of 10 s."""

    BLOCK_S, MEAN_MAX_S, TRUST_S = 0.5, 10.0, 1.0

    def __init__(self, bias):
        self.before = bias
        self.blocks = []  # whole blocks: (gyro integral rad, mean force m/s², length s)
        self.gyr_sum, self.force_sum, self.length = (0.0,) * 3, (0.0,) * 3, 0.0  # under way

    def add(self, gyr, acc, dt):
        self.gyr_sum = add(self.gyr_sum, gyr, dt)
        self.force_sum = add(self.force_sum, acc, dt)
        self.length += dt
        if self.length >= self.BLOCK_S:
            force = tuple(f / self.length for f in self.force_sum)
            self.blocks.append((self.gyr_sum, force, self.length))
            self.gyr_sum, self.force_sum, self.length = (0.0,) * 3, (0.0,) * 3, 0.0

    def bias_after(self):
        mean, span = (0.0, 0.0, 0.0), 0.0
        for k in range(1, len(self.blocks) - 1):
            turned_by, force, length = self.blocks[k]
            moved = add(unit(self.blocks[k + 1][1]), unit(self.blocks[k - 1][1]), -1.0)
            rate = tuple(x / length for x in add(turned_by, cross(moved, unit(force)), -0.5))
            span = min(span + length, self.MEAN_MAX_S)
            mean = ema(mean, rate, length / span)
        return ema(self.before, mean, min(span / self.TRUST_S, 1.0)) if span else self.before


# -- calibration/_mounting ------------------------------------------------------------------------


class Mounting:
    """Pelvis up (neutral from still periods), forward (the step-alternating rotation's axis) and
    clip moves (fast and slow averages of up parting by 3° about the pelvis's forward axis, or
    10° in all, for 8 s while running).

    Both averages start as plain means of the running samples (weight dt / elapsed until their τ
    has passed), and no move is flagged before 10 s of running (the filter settles first); a
    neutral starts them again, and the heading's twist watch waits 60 s of running. A clip
    move turns the axes but keeps the learned heading. The long-run average of up and the clip
    watch look at every AVERAGE_EVERY-th sample only (counting all samples), as if it stood for
    all the moving time since the last one they saw."""

    NEUTRAL_MIN_S, AVERAGE_TAU_S, HEADING_TAU_S = 2.0, 30.0, 20.0
    HEADING_MIN_S, SEEDED_HEADING_MIN_S = 0.15, 1.2  # step-to-step differences the axis waits for
    RING_N, SMOOTH_SAMPLES = 64, 2
    NEUTRAL_MAX_DEG = 30.0
    HEADING_EVERY, AVERAGE_EVERY, HEADING_SAMPLE_S = 32, 8, 0.02
    SIGN_EVIDENCE_MIN, EARLY_SIGN_S = 0.2, 0.5
    FAST_TAU_S, SLOW_TAU_S, CLIP_CONFIRM_S = 1.0, 30.0, 8.0
    CLIP_ROLL_DEG, CLIP_TILT_DEG = 3.0, 10.0
    TURN_SETTLE_S = 8.0
    WATCH_AFTER_S = 10.0
    WALK_TURN_STEPS, WALK_TURN_DEG, WALK_BRAKE_MS2 = 12, 60.0, 0.5
    HEADING_SETTLED_S, TWIST_DEG, SNAPSHOT_S, REANCHOR_S = 60.0, 10.0, 20.0, 60.0
    TWIST_JUMP_DEG = 60.0

    def __init__(self, nominal=None, neutral=None):
        """``nominal`` and ``neutral`` seed a second reading (``_mounting.seed``)."""
        self.up, self.avg_up = neutral, None
        self.forward = (1.0, 0.0, 0.0)
        self.nominal = nominal or (1.0, 0.0)  # cos, sin of the nominal forward in (e1, e2)
        self.axis_wait_s = self.SEEDED_HEADING_MIN_S if nominal else self.HEADING_MIN_S
        self.learned = None  # the forward learned from the motion, until the heading settled
        self.neutrals, self.first_neutral = 0, None  # still periods that gave a neutral; the first
        self.has_neutral = neutral is not None
        self.neutral_set = self.flipped = False
        self.still_s, self.neutral_n = 0.0, 0
        self.cov, self.evid = (0.0, 0.0, 0.0), (0.0, 0.0)  # of the rotation difference; braking
        self.turned = (0.0, 0.0, 0.0)  # the gyro's integral since the last heading sample
        self.rates = deque([(0.0, 0.0)] * self.RING_N, maxlen=self.RING_N)
        self.step_s = 0.0  # the running step time
        self.run_s, self.prev_fv, self.unsampled_s = 0.0, 0.0, 0.0
        self.apart_s, self.apart_since, self.clip_moved_at = 0.0, 0.0, math.nan
        self.watched_s = 0.0  # running time the clip watch has seen since the start or a neutral
        self.twist_watch_from_s = self.HEADING_SETTLED_S  # run_s from which the heading watches
        self.since_turn_s = 0.0  # the clip watch pauses in turns and TURN_SETTLE_S after
        self.count, self.heading = 0, (1.0, 0.0)
        self.unseen_s = 0.0  # moving time the averages have not seen yet
        self.snapshots, self.snap_t = [], math.nan  # (forward, slow up), older first
        self.watch_t, self.reanchor = 0.0, False
        self.up_before, self.p_after, self.after_s = None, (0.0, 0.0, 0.0), 0.0

    def note_step(self, interval):
        if 0.2 <= interval <= 1.0:
            self.step_s = ema(self.step_s, interval, 0.2) if self.step_s > 0 else interval

    def step(self, up, acc, gyr, t, dt, still, running, turning=False):
        up = tuple(up)
        self.since_turn_s = 0.0 if turning else self.since_turn_s + dt
        if self.avg_up is None:
            self.up = self.up or up
            self.avg_up = self.fast_up = self.slow_up = up
        self.neutral_set, self.clip_moved_at = False, math.nan
        if still:
            self._still(up, unit(tuple(acc)), dt)
        else:
            self.still_s, self.neutral_n = 0.0, 0
            self.unseen_s += dt
            if self.count % self.AVERAGE_EVERY == 0:
                span, self.unseen_s = self.unseen_s, 0.0
                self.avg_up = ema(self.avg_up, up, min(span / self.AVERAGE_TAU_S, 1.0))
                if not self.has_neutral:
                    self.up = unit(self.avg_up)
                if running:  # only running holds one posture
                    self._watch_clip(up, t, span)
        if running:
            self._learn_heading(up, acc, gyr, dt)
        self._set_forward()
        just_updated = self.count % self.HEADING_EVERY == 1
        if running and just_updated and self.run_s >= self.twist_watch_from_s:
            self._watch_heading(t)

    def _still(self, up, force_up, dt):
        """Average up over a still period of NEUTRAL_MIN_S or more, unless it is no standing:
        not the first, and up over NEUTRAL_MAX_DEG from the neutral and the moving average. The
        first neutral averages the force's direction, later ones the filter's up."""
        self.still_s += dt
        if self.still_s < self.NEUTRAL_MIN_S or self.neutral_n < 0:
            return
        if self.neutral_n == 0 and self.has_neutral:
            limit = math.cos(math.radians(self.NEUTRAL_MAX_DEG))
            if dot(up, self.up) <= limit and dot(up, unit(self.avg_up)) <= limit:
                self.neutral_n = -1  # this still period is no standing
                return
        self.neutral_n += 1
        self.neutral_set = self.neutral_n == 1
        if self.neutral_set:  # a new neutral: no re-anchoring, both watches start again
            self.reanchor, self.snap_t = False, math.nan
            self.watched_s, self.apart_s = 0.0, 0.0
            self.twist_watch_from_s = self.run_s + self.HEADING_SETTLED_S
            self.neutrals += 1
        sample = force_up if self.neutrals == 1 else tuple(up)
        self.up = unit(ema(self.up, sample, 1.0 / self.neutral_n))
        self.has_neutral = True
        if self.neutrals == 1:
            self.first_neutral = self.up

    def _watch_clip(self, up, t, dt):
        self.watched_s += dt

        def weight(tau):  # a plain mean until tau has passed, then an EMA
            return min(dt / min(tau, self.watched_s), 1.0)

        self.fast_up = unit(ema(self.fast_up, up, weight(self.FAST_TAU_S)))
        if self.apart_s == 0.0:  # the slow average holds still while a move is confirmed
            self.slow_up = unit(ema(self.slow_up, up, weight(self.SLOW_TAU_S)))
        left = cross(self.up, self.forward)
        rolled = abs(dot(self.fast_up, left) - dot(self.slow_up, left))
        together = rolled <= math.sin(math.radians(self.CLIP_ROLL_DEG)) and dot(
            self.fast_up, self.slow_up
        ) >= math.cos(math.radians(self.CLIP_TILT_DEG))
        settled = self.watched_s >= self.WATCH_AFTER_S and self.since_turn_s >= self.TURN_SETTLE_S
        if together or not settled:
            self.apart_s = 0.0
            return
        if self.apart_s == 0.0:
            self.apart_since = t
        self.apart_s += dt
        if self.apart_s < self.CLIP_CONFIRM_S:
            return
        if not self.reanchor:  # else the heading found this move already
            self.clip_moved_at = self.apart_since
        self._begin_reanchor()
        axis = cross(self.slow_up, self.fast_up)
        angle = math.atan2(math.sqrt(dot(axis, axis)), dot(self.slow_up, self.fast_up))
        move = q_from_rotvec(tuple(x * angle for x in unit(axis)))
        self.up, self.avg_up, self.forward = (
            q_rotate(move, v) for v in (self.up, self.avg_up, self.forward)
        )
        self.slow_up = self.fast_up  # the heading statistics carry over unchanged
        self.apart_s = 0.0

    def _watch_heading(self, t):
        """Every heading update while running once it has settled: snapshots of (forward, slow
        up) every SNAPSHOT_S, the last two kept; forward more than TWIST_DEG (but less than
        TWIST_JUMP_DEG) from the older snapshot's is a clip move; REANCHOR_S of running after a
        move, the neutral is carried by the rotation taking the older snapshot onto (mean fast
        up since the move, forward)."""
        span, self.watch_t = min(t - self.watch_t, 1.0), t
        if math.isnan(self.snap_t):
            self._snapshot(t, both=True)
        elif self.reanchor:
            self.p_after = add(self.p_after, self.fast_up, span)
            self.after_s += span
            if self.after_s >= self.REANCHOR_S:
                (f0, p0), p1 = self.snapshots[0], unit(self.p_after)
                self.up = triad_carry(self.up_before, (p0, f0), (p1, self.forward))
                self.reanchor = False
                self._snapshot(t, both=True)
        elif dot(self.forward, self.snapshots[0][0]) < math.cos(math.radians(self.TWIST_JUMP_DEG)):
            self._snapshot(t, both=True)  # a jump of the heading itself, not of the clip
        elif dot(self.forward, self.snapshots[0][0]) < math.cos(math.radians(self.TWIST_DEG)):
            self.clip_moved_at = t
            if not self._begin_reanchor():
                self._snapshot(t, both=True)
        elif t - self.snap_t >= self.SNAPSHOT_S:
            self._snapshot(t, both=False)

    def _snapshot(self, t, both):
        now = (self.forward, self.slow_up)
        self.snapshots = [now, now] if both else [self.snapshots[1], now]
        self.snap_t = t

    def _begin_reanchor(self):
        """Start waiting to re-anchor (needs a neutral and a snapshot, none pending)."""
        if self.reanchor or math.isnan(self.snap_t) or not self.has_neutral:
            return False
        self.up_before, self.p_after, self.after_s = self.up, (0.0, 0.0, 0.0), 0.0
        self.reanchor = True
        return True

    def basis(self):
        """e1 = sensor x made level (or y if x is vertical), e2 = up × e1."""
        for axis in ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)):
            level = add(axis, self.up, -dot(axis, self.up))
            if math.sqrt(dot(level, level)) >= 1e-6:
                break
        e1 = unit(level)
        return e1, cross(self.up, e1)

    def _learn_heading(self, up, acc, gyr, dt):
        """A heading sample once HEADING_SAMPLE_S of running (less half a sample) has passed
        since the last one stands for that time: the braking evidence with the vertical force's
        slope over it, and the moments of the horizontal rate averaged over it less the one a
        running step before (the step-alternating rotation, whose principal axis is forward)."""
        self.turned = add(self.turned, gyr, dt)
        self.unsampled_s += dt
        if self.unsampled_s < self.HEADING_SAMPLE_S - dt / 2:
            return
        span, self.unsampled_s = self.unsampled_s, 0.0
        e1, e2 = self.basis()
        rate = (dot(self.turned, e1) / span, dot(self.turned, e2) / span)
        self.turned = (0.0, 0.0, 0.0)
        fv = dot(acc, up)
        h = add(acc, up, -fv)
        h1, h2 = dot(h, e1), dot(h, e2)
        dfv = (fv - self.prev_fv) / span if self.run_s > 0 else 0.0
        self.prev_fv = fv
        self.run_s += span
        a = min(span / self.HEADING_TAU_S, 1.0)
        self.evid = ema(self.evid, (h1 * dfv, h2 * dfv), a)
        self.rates.append(rate)
        lag, m = int(self.step_s / span + 0.5), self.SMOOTH_SAMPLES
        if 0 < lag <= self.RING_N - m and self.run_s > self.step_s:
            rates = list(self.rates)  # each rate against a step before, both averaged over m
            now, then = mean2(rates[-m:]), mean2(rates[-m - lag : len(rates) - lag])
            d1, d2 = now[0] - then[0], now[1] - then[1]
            self.cov = ema(self.cov, (d1 * d1, d1 * d2, d2 * d2), a)

    def _set_forward(self):
        e1, e2 = self.basis()
        if self.count % self.HEADING_EVERY == 0:  # the angle is refreshed every few samples
            self.heading = self._heading()
        self.count += 1
        c1, c2 = self.heading
        self.forward = add(tuple(c1 * x for x in e1), e2, c2)
        self.flipped = c1 < -0.5

    def walking_direction(self, along, across, contacts):
        """Turn the nominal forward to walking's mean braking vector (along forward, left) when
        it is clear and far off; return the angle turned (rad, 0.0 if none)."""
        angle = math.atan2(across, along)
        if contacts < self.WALK_TURN_STEPS or self._axis_shown():
            return 0.0  # too soon, or running's own heading decides
        if abs(angle) < math.radians(self.WALK_TURN_DEG) or math.hypot(along, across) < 0.5:
            return 0.0
        c, s = math.cos(angle), math.sin(angle)
        n1, n2 = self.nominal
        self.nominal = (c * n1 - s * n2, s * n1 + c * n2)
        self._learned(self.nominal)
        self.count = 0  # refresh the heading at the next sample
        return angle

    def _learned(self, heading):
        if self.run_s <= self.HEADING_SETTLED_S:
            self.learned = heading

    def _heading(self):
        """The principal axis signed by the braking evidence; until its moments hold
        axis_wait_s of step-to-step differences (they start one step in) the nominal axis,
        turned round after EARLY_SIGN_S of running by evidence over 0.7 against it."""
        c1, c2 = self.nominal
        if self._axis_shown():
            s11, s12, s22 = self.cov
            angle = 0.5 * math.atan2(2 * s12, s11 - s22)
            c1, c2 = math.cos(angle), math.sin(angle)
            if self._braking_along(c1, c2) < -self.SIGN_EVIDENCE_MIN:  # the other way round
                c1, c2 = -c1, -c2
            self._learned((c1, c2))
        elif self.run_s >= self.EARLY_SIGN_S and self._braking_along(c1, c2) < -0.7:
            c1, c2 = -c1, -c2
        return c1, c2

    def _axis_shown(self):
        return self.step_s > 0 and self.run_s >= self.step_s + self.axis_wait_s

    def _braking_along(self, c1, c2):
        return -(c1 * self.evid[0] + c2 * self.evid[1]) / (math.hypot(*self.evid) + 1e-12)


def triad_carry(v, before, after):
    """``v`` turned by the rotation taking the pair ``before`` = (p, f) onto ``after``: p onto p
    exactly, f as near as that allows (TRIAD), as a matrix product."""

    def frame(p, f):
        b = unit(cross(p, f))
        return (p, b, cross(p, b))  # rows

    m0, m1 = frame(*before), frame(*after)
    coords = [dot(v, row) for row in m0]
    return unit(tuple(sum(coords[i] * m1[i][k] for i in range(3)) for k in range(3)))


# -- contacts/_detector and contacts/_walking ---------------------------------------------------


RUN, WALK = 1, 2


class Walk:
    """Walking step detector: the vertical force through two cascaded smoothing stages (τ
    SMOOTH_S each, weight ≈ 1 − exp(−dt / SMOOTH_S) per sample), its swing as a running mean
    absolute deviation (τ SWING_TAU_S), and its troughs and peaks confirmed with a hysteresis of
    HYSTERESIS swings. A rise of RISE_MIN swings or more is a candidate, contacting at the
    steepest point of the rise less DELAY_S. The swing never counts below
    SWING_FLOOR_G; the mean and the swing are plain means over the samples so far
    until they weigh less than dt / SWING_TAU_S each.

    A candidate is judged BRAKE_WINDOW_S after its contact (or at once, when a newer one comes
    first): its braking is the fall of the forward force (or, once the mean braking vector
    points clearly elsewhere, of the force along it) from its highest point in [contact −
    BRAKE_BEFORE_S, contact + BRAKE_PEAK_AFTER_S] to its lowest after that point, up to contact
    + BRAKE_WINDOW_S, over the last RING samples. It is a step unless the walker walks forward
    (the mean braking of the earlier candidates, a plain mean up to BRAKE_TAU_STEPS and then an
    EMA, is at least FORWARD_G) and it brakes less than BRAKE_G; a candidate whose window the
    kept samples no longer reach is a step and leaves the mean alone."""

    SMOOTH_S, SWING_TAU_S, HYSTERESIS, RISE_MIN, SWING_FLOOR_G = 0.0091, 2.0, 0.8, 2.5, 0.01
    DELAY_S, CLIMBING_AT_START_S = 0.03, 0.1
    BRAKE_BEFORE_S, BRAKE_PEAK_AFTER_S, BRAKE_WINDOW_S = 0.05, 0.03, 0.12
    BRAKE_G, FORWARD_G, BRAKE_TAU_STEPS, RING = 0.07, 0.05, 20, 1024
    BRAKE_AXIS_DEG = 35.0

    def __init__(self):
        self.fast = self.slow = None  # the two smoothing stages; None until the first sample
        self.mean = self.swing = 0.0
        self.rising = False
        self.extreme = self.trough = 0.0  # the lowest (falling) or highest (rising) point so far
        self.steep = self.steep_t = 0.0  # the steepest slope of the current rise, and when
        self.count = 0  # samples since the start
        self.kept = deque(maxlen=self.RING)  # (t, forward force, left force)
        self.candidate = None  # contact time awaiting its braking check
        self.brake_mean, self.brakes = 0.0, 0
        self.brake_vec = (0.0, 0.0)  # mean braking vector (along forward, left)

    def step(self, t, dt, fv, forward, left):
        """Return the contact time of a step confirmed by this sample, else nan."""
        if self.fast is None:
            self.fast = self.slow = self.mean = self.extreme = self.trough = fv
            self.start_t = t
        self.kept.append((t, forward, left))
        before = self.slow
        self.count += 1
        x = dt / self.SMOOTH_S  # 1 − exp(−x) by its (3, 3) Padé approximant, as the kernel
        a = x * (1 + x * x / 60) / (1 + x / 2 + x * x / 10 + x**3 / 120)
        self.fast = ema(self.fast, fv, a)
        self.slow = ema(self.slow, self.fast, a)
        f = self.slow
        b = max(dt / self.SWING_TAU_S, 1 / self.count)
        self.mean = ema(self.mean, f, b)
        self.swing = ema(self.swing, abs(f - self.mean), b)
        swing = max(self.swing, self.SWING_FLOOR_G * G_MS2)
        margin = self.HYSTERESIS * swing
        if not self.rising:  # falling: follow the trough until the force climbs clear of it
            if f < self.extreme:
                self.extreme = f
            elif f > self.extreme + margin:
                self.rising, self.trough, self.extreme, self.steep = True, self.extreme, f, 0.0
            return self._judge(t)
        slope = (f - before) / dt
        if slope > self.steep:
            self.steep, self.steep_t = slope, t - 0.5 * dt
        if f > self.extreme:
            self.extreme = f
            return self._judge(t)
        if f > self.extreme - margin:  # not yet clear of the peak
            return self._judge(t)
        rise = self.extreme - self.trough
        self.rising, self.extreme = False, f
        if rise < self.RISE_MIN * swing or self.steep_t < self.start_t + self.CLIMBING_AT_START_S:
            return self._judge(t)  # too small, or climbing since the start (no trough in the data)
        earlier = self._judge(t, now=True)
        self.candidate = self.steep_t - self.DELAY_S
        return earlier if not math.isnan(earlier) else self._judge(t)

    def _judge(self, t, now=False):
        contact = self.candidate
        if contact is None or (t < contact + self.BRAKE_WINDOW_S and not now):
            return math.nan
        self.candidate = None
        if self.kept[0][0] > contact - self.BRAKE_BEFORE_S and len(self.kept) == self.RING:
            return contact  # no longer covered: no evidence, no veto
        window = [
            row
            for row in self.kept
            if contact - self.BRAKE_BEFORE_S <= row[0] <= contact + self.BRAKE_WINDOW_S
        ]
        brake = self._fall(window, contact, self._braking_direction())
        forward_walk = self.walks_forward()
        self.brakes += 1
        weight = 1.0 / min(self.brakes, self.BRAKE_TAU_STEPS)
        self.brake_mean += weight * (brake - self.brake_mean)
        self.brake_vec = ema(self.brake_vec, self._braking_vector(window, contact), weight)
        return math.nan if forward_walk and brake < self.BRAKE_G * G_MS2 else contact

    def walks_forward(self):
        """The mean braking of the earlier candidates is at least FORWARD_G."""
        return self.brakes > 0 and self.brake_mean >= self.FORWARD_G * G_MS2

    def _braking_direction(self):
        """(cos, sin) from forward toward left: the mean braking vector's direction once it is
        clear (as walking's turn of forward needs: Mounting.WALK_TURN_STEPS candidates,
        WALK_BRAKE_MS2 long) and more than BRAKE_AXIS_DEG off forward, else forward."""
        along, across = self.brake_vec
        length = math.hypot(along, across)
        if self.brakes < Mounting.WALK_TURN_STEPS or length < Mounting.WALK_BRAKE_MS2:
            return 1.0, 0.0
        if along >= math.cos(math.radians(self.BRAKE_AXIS_DEG)) * length:
            return 1.0, 0.0
        return along / length, across / length

    def _fall(self, window, contact, direction):
        """Fall of the level force along ``direction`` from its first highest point up to
        PEAK_AFTER to the lowest after that point."""
        c, s = direction
        force = [(t, c * f + s * left) for t, f, left in window]
        head = [f for t, f in force if t <= contact + self.BRAKE_PEAK_AFTER_S]
        if not head:
            return 0.0
        at = head.index(max(head))
        return head[at] - min(f for _, f in force[at:])

    def _braking_vector(self, window, contact):
        """Mean (forward, left) force up to PEAK_AFTER less its mean after it (zeros if either
        part is empty)."""
        around = [(f, s) for t, f, s in window if t <= contact + self.BRAKE_PEAK_AFTER_S]
        after = [(f, s) for t, f, s in window if t > contact + self.BRAKE_PEAK_AFTER_S]
        if not around or not after:
            return (0.0, 0.0)
        return tuple(_mean(a) - _mean(b) for a, b in zip(zip(*around), zip(*after)))


class Contacts:
    """Initial contacts from the world-vertical specific force: flight → landing, or walk peaks.

    The first sample only starts the detector. A walking contact counts when it comes at least
    MIN_WALK_STEP_S and WALK_GATE × the usual step time after the last contact; the usual step
    time starts at the first such interval from a walking contact and then follows each one
    under 1.5 s with weight 0.2. The walking detector is not fed while running; a fresh one
    starts after."""

    FLIGHT_G, FLIGHT_MIN_S, RISE_G, RUN_HOLD_S, MIN_STEP_S = 0.35, 0.03, 0.6, 1.0, 0.2
    EDGE_REACH_S, ONSET_G = 0.04, 0.05
    MIN_WALK_STEP_S, WALK_GATE, STEP_TIME_MAX_S, STEP_TIME_WEIGHT = 0.3, 0.45, 1.5, 0.2

    def __init__(self):
        self.started = False
        self.earlier = deque(maxlen=4)  # the last four samples' (t, fv), newest last
        self.last_flight_t = self.last_ic_t = -1e9
        self.last_kind = 0
        self.flight_s = self.flight_sum = 0.0  # duration and summed force of the current flight
        self.flight_n = 0
        self.base = 0.0
        self.in_stance = False
        self.stance_end_t = 0.0
        self.prev_stance_end_t = 0.0
        self.walk = Walk()
        self.step_s = None  # usual walking step time, None until the first one

    def running(self, t):
        """A flight ended within RUN_HOLD_S; never before the first sample."""
        return self.started and t - self.last_flight_t < self.RUN_HOLD_S

    def step(self, t, fv, forward, left, moving):
        """Return (contact time or nan, RUN/WALK/0); ``forward`` and ``left`` (level forces) feed
        the walking detector."""
        if not self.started:
            self.started = True
            self.earlier.append((t, fv))
            return math.nan, 0
        found, kind = self._run(t, fv), RUN
        if self.running(t):
            self.walk = None  # not fed while running: a fresh one when the run ends
        else:
            self.walk = self.walk or Walk()
            walked = self.walk.step(t, t - self.earlier[-1][0], fv, forward, left)
            if math.isnan(found) and moving:
                found, kind = self._gate(walked), WALK
        self.earlier.append((t, fv))
        if math.isnan(found):
            return found, 0
        self.last_ic_t, self.last_kind = found, kind
        return found, kind

    def _gate(self, t_ic):
        """The walking contact at ``t_ic`` if it is a whole step after the last contact."""
        if math.isnan(t_ic):
            return t_ic
        interval = t_ic - self.last_ic_t
        usual = self.MIN_WALK_STEP_S if self.step_s is None else self.step_s
        if interval < max(self.MIN_WALK_STEP_S, self.WALK_GATE * usual):
            return math.nan
        if interval < self.STEP_TIME_MAX_S and self.last_kind == WALK:
            if self.step_s is None:
                self.step_s = interval
            else:
                self.step_s += self.STEP_TIME_WEIGHT * (interval - usual)
        return t_ic

    def _edge(self, t, fv):
        """Time the line through the last two samples crosses the flight level (±4 samples, at
        most ±EDGE_REACH_S)."""
        prev_t, prev_f = self.earlier[-1]
        dt = t - prev_t
        slope = (fv - prev_f) / dt
        if slope == 0.0:
            return t
        reach = min(4 * dt, self.EDGE_REACH_S)
        return min(max(t - (fv - self.base) / slope, t - reach), t + reach)

    def _run(self, t, fv):
        if fv < self.FLIGHT_G * G_MS2:
            if self.in_stance:
                self.stance_end_t, self.in_stance = self._edge(t, fv), False
            self.flight_s += t - self.earlier[-1][0]
            self.flight_sum += fv
            self.flight_n += 1
            return math.nan
        if fv < self.RISE_G * G_MS2:
            return math.nan
        landing = self.flight_s >= self.FLIGHT_MIN_S
        if landing:
            self.base = self.flight_sum / self.flight_n
            self.last_flight_t = t
        self.flight_s = self.flight_sum = 0.0
        self.flight_n = 0
        if not landing or t - self.last_ic_t < self.MIN_STEP_S:
            return math.nan
        self.in_stance = True
        self.prev_stance_end_t, self.stance_end_t = self.stance_end_t, math.nan
        return self._onset(t, fv)

    def _onset(self, t, fv):
        """Where the rising edge crossed ONSET_G g above the lowest of the flight's mean and the
        last four samples: between the latest of them at or below that level and the one after;
        the earliest of them if none was. Never more than EDGE_REACH_S before the sample after
        (across a hole)."""
        level = min([self.base] + [f for _, f in self.earlier]) + self.ONSET_G * G_MS2
        t1, f1 = t, fv
        for t0, f0 in reversed(self.earlier):
            if f0 <= level:
                return max(t0 + (t1 - t0) * (level - f0) / (f1 - f0), t1 - self.EDGE_REACH_S)
            t1, f1 = t0, f0
        return t1


# -- steps/_side ----------------------------------------------------------------------------------


class Side:
    """Two-state alternation HMM over centred, scaled evidence (roll rate, yaw rate, and the
    level force toward the right or nan; each feature with its own statistics, a nan feature
    ignored); the move is "same side" when the time since the last step rounds to an even number
    of usual steps, and says nothing after more than BRIDGE_STEPS of them (a pause). With the
    next step's evidence given, the answer is the one-step smoothed posterior."""

    SLIP_P, EVIDENCE_GAIN, FEATURE_TAU_STEPS, BRIDGE_STEPS, SETTLED_STEPS = 0.03, 1.5, 30.0, 3, 4

    def __init__(self):
        self.p_left = 0.0
        self.mean = [0.0, 0.0, 0.0]
        self.scale = [0.0, 0.0, 0.0]
        self.count = [0, 0, 0]
        self.last_t = 0.0
        self.last_step = None  # the last measured step: (its next contact, its yaw rates)

    def stride_turn(self, t_ic, t_next, yaw_rates):
        """The mean yaw rate over the stride from the step before's contact to this step's end
        (``t_next``; nan without a next contact); nan unless the step before ended here."""
        last, self.last_step = self.last_step, (t_next, yaw_rates)
        if last is None or last[0] != t_ic or not last[1] or not yaw_rates:
            return math.nan
        return _mean(last[1] + yaw_rates)

    def reset(self):
        self.p_left = 0.5

    def carry_over(self, lag_s, stride_s, t_after):
        """Over a gap bridged from ``lag_s`` (whole strides) back: the last step moved on by
        them, then by whole strides, into the last stride before ``t_after``."""
        moved = self.last_t + lag_s
        self.last_t = moved + math.floor((t_after - moved) / stride_s) * stride_s

    def forget_axes(self):
        """The roll rate and the sideways force start afresh (the axes they are read about
        turned); the yaw rate's statistics stand."""
        for i in (0, 2):
            self.mean[i] = self.scale[i] = 0.0
            self.count[i] = 0

    def llr(self, features, sign):
        """Log likelihood ratio (left vs right) of a step's features: each centred on the earlier
        steps' mean, scaled by the mean deviation including this step, and weighed by the steps
        behind its statistics up to SETTLED_STEPS."""
        score = 0.0
        for value, mean, scale, n in zip(features, self.mean, self.scale, self.count):
            if math.isnan(value) or n == 0:
                continue
            scale += (abs(value - mean) - scale) / min(n + 1, self.FEATURE_TAU_STEPS)
            if scale > 1e-6:  # worth less while the statistics rest on few steps
                score += (value - mean) / scale * min(n / self.SETTLED_STEPS, 1.0)
        return max(min(self.EVIDENCE_GAIN * sign * score, 30.0), -30.0)

    def p_same(self, interval, usual_s):
        """Probability that a step ``interval`` seconds later is on the same side."""
        moves = round(interval / usual_s) if usual_s > 0 else 1
        if moves > self.BRIDGE_STEPS or moves == 0:  # a pause, or an extra contact
            return 0.5
        return self.SLIP_P if moves % 2 == 1 else 1 - self.SLIP_P

    def step(self, t_ic, usual_s, features, sign, next_step=None):
        """``next_step``: (contact time, features) of the next step, if known."""
        if self.count[0] == 0:
            self.p_left, same = 0.5, self.SLIP_P
        else:
            same = self.p_same(t_ic - self.last_t, usual_s)
        self.last_t = t_ic
        llr = self.llr(features, sign)
        for i, value in enumerate(features):
            if math.isnan(value):
                continue
            a = 1.0 / min(self.count[i] + 1, self.FEATURE_TAU_STEPS)
            centred = value - self.mean[i]
            self.mean[i] += a * centred
            self.scale[i] += a * (abs(centred) - self.scale[i])
            self.count[i] += 1
        prior_left = same * self.p_left + (1 - same) * (1 - self.p_left)
        self.p_left = self.posterior(prior_left, math.exp(llr))
        if next_step is None:
            return self.p_left
        next_t, next_features = next_step
        same = self.p_same(next_t - t_ic, usual_s)
        ratio = math.exp(self.llr(next_features, sign))  # next step: left vs right
        if_left, if_right = same * ratio + 1 - same, (1 - same) * ratio + same
        return self.posterior(self.p_left, if_left / if_right)

    @staticmethod
    def posterior(prior_left, likelihood_ratio):
        odds = prior_left / (1 - prior_left) * likelihood_ratio
        return min(max(odds / (1 + odds), 1e-9), 1 - 1e-9)


# -- steps/_measure ----------------------------------------------------------------------------


def measure(rows, axes, t_ic, t_stance_end, t_next):
    """Measurements of one step from chronological rows (t, world up in sensor axes, angular
    rate, specific force, fv), read in the pelvis ``axes`` (forward, left, up) given.

    Returns a dict, or None when the rows do not reach back to ``t_ic − 0.2`` or a rate window
    is empty.
    """
    if not rows or rows[0][0] >= t_ic - 0.2:
        return None
    forward, left, pelvis_up = axes
    rows = [
        (
            t,
            math.degrees(math.atan2(dot(up, left), dot(up, pelvis_up))),
            dot(gyr, forward),
            dot(gyr, up),
            fv,
            dot(acc, cross(up, unit(add(forward, up, -dot(forward, up))))),  # level left force
        )
        for t, up, gyr, acc, fv in rows
        if t_ic - 0.2 <= t <= t_next
    ]
    step = [r for r in rows if r[0] >= t_ic]
    stance = [r[1] for r in step if r[0] <= t_stance_end]
    run = [r for r in step if r[0] <= t_ic + 0.08]
    walk = [r for r in rows if r[0] <= t_ic]
    if not run or not walk:
        return None
    rolls = [r[1] for r in step]
    return {
        "roll_ic": _roll_at(t_ic, [r for r in rows if r[0] < t_ic], step),
        "roll_max": max(stance, default=-math.inf),
        "roll_min": min(stance, default=math.inf),
        "roll_range": max(rolls) - min(rolls),
        "run_rates": (_mean(r[2] for r in run), _mean(r[3] for r in run)),
        "walk_rates": (
            _mean(r[2] for r in walk),
            _mean(r[3] for r in walk),
            _mean(r[5] for r in walk),
        ),
        "impact_g": max([0.0] + [r[4] / G_MS2 for r in step if r[0] <= t_ic + 0.1]),
        "step_yaw": [r[3] for r in step],  # the yaw rates over the step
    }


def turn_beyond_dead_band(turn):
    """The part of a stride's turn (nan: none) beyond ±10 °/s."""
    return 0.0 if math.isnan(turn) else turn - min(max(turn, -10.0), 10.0)


def walk_features(m, forward):
    """Roll rate, yaw rate and the level force toward the right (all negative for a left
    stance); the force only while walking ``forward`` (else nan)."""
    roll_rate, yaw_rate, left_force = m["walk_rates"]
    return roll_rate, yaw_rate, -left_force if forward else math.nan


def _roll_at(t_ic, before, step):
    """The roll at ``t_ic``, linearly between the rows either side of it (the row at or after
    it alone if it is the first)."""
    t1, roll1 = step[0][:2]
    if not before:
        return roll1
    t0, roll0 = before[-1][:2]
    return roll0 + (roll1 - roll0) * (t_ic - t0) / (t1 - t0)


def _mean(values):
    values = list(values)
    return sum(values) / len(values)


# -- _bridge -------------------------------------------------------------------------------------


BRIDGE_WINDOW, BRIDGE_SEARCH, BRIDGE_MATCH_MAX = 10, 0.1, 0.5


def bridged_rate(rows, gyr, span, stride_s):
    """The rate over a hole ``span`` s long before the sample with rate ``gyr`` (``rows``: the
    buffer, oldest first, its last row the sample before the hole): the rates one stride back
    where they best match the ones around the hole, less the mismatch at the hole's two ends;
    the mean of the two ends' rates without a stride or a continuous buffer."""
    n, lag = _bridge_match(rows, gyr, span, stride_s)
    if lag < 0:
        return tuple(0.5 * (a + b) for a, b in zip(gyr, rows[-1][2]))
    template = [rows[-1 - lag + m][2] for m in range(1, n + 1)]
    start, end = rows[-1 - lag][2], rows[-1 - lag + n][2]
    return tuple(
        sum(r[a] for r in template) / n + 0.5 * ((rows[-1][2][a] - start[a]) + (gyr[a] - end[a]))
        for a in range(3)
    )


def bridged_up(rows, gyr, span, stride_s):
    """(world up, lag s) at the sample after a gap ``span`` s long (rate ``gyr``): the up of the
    row at the same phase of the best-matching strides back and how far back they are, or nans
    without one."""
    n, lag = _bridge_match(rows, gyr, span, stride_s)
    if lag < 0:
        return (math.nan,) * 3, math.nan
    return rows[-1 - lag + n][1], rows[-1][0] - rows[-1 - lag][0]


def _bridge_match(rows, gyr, span, stride_s):
    """(the samples a loss ``span`` s long spans, the best lag or −1), the sample interval read
    over the last ``BRIDGE_WINDOW`` rows before the loss."""
    w = BRIDGE_WINDOW
    dt = (rows[-1][0] - rows[-1 - w][0]) / w
    n = int(span / dt + 0.5) if dt > 0 else 0
    return n, _bridge_lag(rows, gyr, n, dt, stride_s) if n > 0 else -1


def _bridge_lag(rows, gyr, n, dt, stride_s):
    """The row lag, its time lag within 10 % of k strides (k: the fewest whole strides, each
    taken 10 % short, that reach back past the n lost samples and the one after them), whose
    rows are continuous and best match the last ``BRIDGE_WINDOW`` rows and the
    sample after the loss, if its mismatch is within ``BRIDGE_MATCH_MAX`` of their squared
    rates; −1 if none."""
    w = BRIDGE_WINDOW

    def continuous(newest, count):  # rows[newest] and the ``count`` intervals before it
        return abs(rows[newest][0] - rows[newest - count][0] - count * dt) <= 3.0 * dt

    if stride_s <= 0 or not continuous(-1, w - 1):
        return -1
    strides = math.floor((n + 1) * dt / (stride_s * (1 - BRIDGE_SEARCH))) + 1
    shortest = strides * stride_s * (1 - BRIDGE_SEARCH)
    longest = strides * stride_s * (1 + BRIDGE_SEARCH)
    best, best_cost = -1, math.inf
    for lag in range(n + 1, min(int(longest / dt) + 2, len(rows) - w)):
        back = rows[-1][0] - rows[-1 - lag][0]
        if back < shortest:
            continue
        if back > longest:
            break
        if not continuous(-1 - lag + n, n + w - 1):
            continue
        cost = sum(
            sum((a - b) ** 2 for a, b in zip(rows[-1 - k][2], rows[-1 - k - lag][2]))
            for k in range(w)
        )
        cost += w * sum((a - b) ** 2 for a, b in zip(gyr, rows[-1 - lag + n][2]))
        if cost < best_cost:
            best, best_cost = lag, cost
    energy = w * sum(a * a for a in gyr) + sum(a * a for k in range(w) for a in rows[-1 - k][2])
    return best if best_cost <= BRIDGE_MATCH_MAX * energy else -1


# -- _pipeline -----------------------------------------------------------------------------------


class Pipeline:
    """still → orientation → mounting → contacts → steps, one sample at a time.

    ``steps`` collects one dict per finished step, ``events`` (time, code) pairs
    (1 neutral set, 2 gap, 3 clip moved, 4 forward turned by walking, 5 gap bridged).
    """

    GAP_S, MAX_STEP_S, RING_SAMPLES, OVERDUE_STEPS, HOLE_SAMPLES = 0.25, 2.0, 4096, 2.0, 1.5
    BRIDGE_GAP_S = 2.5

    def __init__(self):
        self.still, self.orientation = Still(), Orientation()
        self.mounting, self.contacts, self.side = Mounting(), Contacts(), Side()
        self.rows = deque(
            [(-math.inf, (0.0, 0.0, 1.0), (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), 0.0)]
            * self.RING_SAMPLES,
            maxlen=self.RING_SAMPLES,
        )  # unwritten rows: time −inf
        self.prev_t, self.typical_dt, self.first_interval = None, 0.005, True
        self.pending = (math.nan, 0)  # kind 0: closed (as overdue) or none
        self.due = math.inf  # when the pending walking step is overdue
        self.steps, self.events, self.angles = [], [], []

    def feed(self, t, acc, gyr):
        for sample in zip(t.tolist(), acc.tolist(), gyr.tolist()):
            self.sample(*sample)

    def _dt(self, t, gyr):
        if self.prev_t is None:
            self.prev_t = t
            return self.typical_dt
        t_before = self.prev_t
        dt, self.prev_t = t - t_before, t
        if -self.GAP_S <= dt <= 0:  # timestamp jitter: the typical interval stands in
            return self.typical_dt
        if dt > self.GAP_S or dt < 0:  # a gap: the contacts and the pending step start over
            stride_s, running = self._stride_s(t_before), self.contacts.running(t_before)
            self._close_pending(t_before, t)
            self.pending, self.due = (math.nan, 0), math.inf
            self.contacts = Contacts()
            bridged = self._after_gap(t, dt, gyr, stride_s, running)
            self.events.append((t, 5 if bridged else 2))
            return self.typical_dt
        if self.first_interval:  # it is the typical one so far
            self.typical_dt, self.first_interval = dt, False
        else:
            self.typical_dt += 0.01 * (dt - self.typical_dt)
        return dt

    def _stride_s(self, t):
        """The stride of the gait under way at ``t`` (s; 0 when unknown)."""
        running = self.contacts.running(t)
        return 2.0 * (self.mounting.step_s if running else (self.contacts.step_s or 0.0))

    def _after_gap(self, t_after, span, gyr, stride_s, running):
        """The tilt read from the strides before a gap up to ``BRIDGE_GAP_S`` where they match,
        and the sides' alternation carried over (walking, with its usual step time); otherwise
        the tilt corrected afresh and the alternation started over."""
        up_then, lag_s = (math.nan,) * 3, math.nan
        if 0 < span <= self.BRIDGE_GAP_S:
            up_then, lag_s = bridged_up(self.rows, gyr, span, stride_s)
        if math.isnan(lag_s):
            self.orientation.after_gap()
            self.side.reset()
            return False
        self.orientation.after_bridged_gap(up_then)
        self.side.carry_over(lag_s, stride_s, t_after)
        if not running:  # walking on: the usual step time holds across the gap
            self.contacts.step_s = 0.5 * stride_s
        return True

    def sample(self, t, acc, gyr):
        dt = self._dt(t, gyr)
        still = self.still.step(acc, gyr, dt)
        turn = gyr  # after a hole (samples lost), bridged from the stride before
        if dt > self.HOLE_SAMPLES * self.typical_dt:
            turn = bridged_rate(self.rows, gyr, dt, self._stride_s(t))
            self.orientation.age_s = 0.0  # as after a gap
        self.orientation.step(acc, gyr, dt, still, turn)
        up = self.orientation.up
        turning = abs(self.orientation.yaw_rate_dps) > self.orientation.TURN_DPS
        self.mounting.step(up, acc, turn, t, dt, still, self.contacts.running(t), turning)
        if self.mounting.neutral_set:
            self.events.append((t, 1))
        if not math.isnan(self.mounting.clip_moved_at):
            self.events.append((self.mounting.clip_moved_at, 3))
        roll, pitch = self.pelvis_angles(up)
        self.angles.append((roll, pitch))
        fv = dot(acc, up)
        self.rows.append((t, up, tuple(gyr), tuple(acc), fv))
        forward, left = self.level_forces(acc, up)
        t_ic, kind = self.contacts.step(t, fv, forward, left, not still)
        walk = self.contacts.walk
        angle = self.mounting.walking_direction(*walk.brake_vec, walk.brakes) if kind == WALK else 0
        if angle:
            c, s = math.cos(angle), math.sin(angle)  # the vector, read in the turned axes
            along, across = walk.brake_vec
            walk.brake_vec = (c * along + s * across, c * across - s * along)
            self.side.forget_axes()
            self.events.append((t, 4))
        if kind:
            if kind == RUN:
                self.mounting.note_step(t_ic - self.pending[0])
            self._finish(t_ic, kind, t)
            self.pending = (t_ic, kind)
            usual = self.contacts.step_s
            overdue = kind == WALK and usual is not None
            self.due = (
                t_ic + min(self.OVERDUE_STEPS * usual, self.MAX_STEP_S) if overdue else math.inf
            )
        elif t > self.due:  # no next contact in time: close the step over one usual step time
            self._close_pending(t, t)

    def finish(self):
        """Close the pending step if its stance is in the data (the recording ends)."""
        self._close_pending(self.prev_t, self.prev_t)

    def _close_pending(self, t_last, t_now):
        """Close the pending step without its next contact (overdue, or the data end at
        ``t_last``, noticed at ``t_now``) if its stance is in the data: a running step whose
        flight has begun, a walking step one usual step time long."""
        t_ic, kind = self.pending
        walk_end = t_ic + (self.contacts.step_s or 0.0)
        end = self.contacts.stance_end_t if kind == RUN else walk_end
        if kind and t_ic < end <= t_last:
            self._finish(end, 0, t_now)
        self.pending, self.due = (t_ic, 0), math.inf

    def level_forces(self, acc, up):
        """Force along the forward axis made level, and along up × that (left)."""
        level_forward = unit(add(self.mounting.forward, up, -dot(self.mounting.forward, up)))
        return dot(acc, level_forward), dot(acc, cross(up, level_forward))

    def axes(self):
        """Pelvis forward, left (= up × forward) and up, in sensor axes."""
        m = self.mounting
        return m.forward, cross(m.up, m.forward), m.up

    def pelvis_angles(self, up):
        m = self.mounting
        _, left, _ = self.axes()
        roll = math.degrees(math.atan2(dot(up, left), dot(up, m.up)))
        pitch = math.degrees(math.asin(max(min(-dot(up, m.forward), 1.0), -1.0)))
        return roll, pitch

    def _finish(self, t_next, next_kind, t_now):
        t_ic, kind = self.pending
        if math.isnan(t_ic):  # none pending: the start, or after a gap
            return
        if t_next - t_ic > self.MAX_STEP_S:
            self.side.reset()
            return
        if kind == 0:
            return
        end = self.contacts.prev_stance_end_t if kind == RUN and next_kind else t_next
        if math.isnan(end) or end <= t_ic:
            end = t_next
        rows, axes = list(self.rows), self.axes()  # one set of axes for the whole step
        m = measure(rows, axes, t_ic, end, t_next)
        if m is None:
            return
        turn = self.side.stride_turn(t_ic, t_next if next_kind else math.nan, m["step_yaw"])
        if kind == RUN or (next_kind == RUN and self.side.count[0] > 0):  # a run restarted
            roll_rate, yaw_rate = m["run_rates"]
            turned = turn_beyond_dead_band(turn) if kind == next_kind == RUN else 0.0
            features = (roll_rate, yaw_rate - turned, math.nan)
            p_left = self.side.step(t_ic, self.mounting.step_s, features, 1.0)
        else:
            ahead = measure(rows, axes, t_next, t_next, t_now) if next_kind == WALK else None
            walk = self.contacts.walk  # None while running: no forward walk
            forward = walk is not None and walk.walks_forward()
            next_step = None if ahead is None else (t_next, walk_features(ahead, forward))
            usual = self.contacts.step_s or 0.0
            p_left = self.side.step(t_ic, usual, walk_features(m, forward), -1.0, next_step)
        side = 1.0 if p_left >= 0.5 else -1.0
        peak = m["roll_max"] if side > 0 else -m["roll_min"]
        self.steps.append(
            {
                "t_ic": t_ic,
                "side": side,
                "side_confidence": max(p_left, 1 - p_left),
                "activity": 0 if kind == WALK and next_kind == RUN else kind,  # a run's start
                "pelvic_drop_deg": peak if self.mounting.has_neutral else math.nan,
                "drop_from_contact_deg": peak - side * m["roll_ic"],
                "contact_time_s": end - t_ic if kind == RUN else math.nan,
                "step_time_s": t_next - t_ic if next_kind else math.nan,
                "roll_at_ic_deg": m["roll_ic"],
                "obliquity_range_deg": m["roll_range"],
                "impact_g": m["impact_g"],
                "turn_dps": turn,
                "t_verdict": t_now,
            }
        )
