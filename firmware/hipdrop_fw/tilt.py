"""On-device tilt: roll and pitch of the board relative to its calibrated neutral.

The same filter as the host's running-proof one (host/hipdrop/engine/orientation/_filter.py),
written for MicroPython: the gyro turns a quaternion; the accelerometer is never trusted
sample by sample (≈0 g in flight, 2–3 g in stance). Each block's mean specific force is
rotated into the world frame and averaged there over ``FORCE_TAU_S`` (about two strides); the
estimate is turned slowly (``TILT_GAIN``) until that average points up, and the same error
drives a slow integral estimate of the gyro bias. Corrections pause while the runner turns
(mean rate about the vertical above ``TURN_DPS``). While the board is still, the bias is read
directly and the tilt converges fast.

Output (docs/protocol.md §3): ``roll_cdeg``/``pitch_cdeg``, int centidegrees about the board's
nominal axes (x forward, y left, z up), relative to the neutral; roll > 0 = left side up,
pitch > 0 = anterior tilt. "Relative to neutral" means: the board is treated as if it had
been mounted level at calibration (the neutral rotation N = Ry(pitch0)·Rx(roll0) levels the
neutral up-vector), and the ZYX roll and pitch of that levelled board are reported, so a 5°
pelvic roll reads 5° whatever the clip's own pitch. Without a calibration the neutral is 0, 0.
Until the filter has settled (``SETTLE_S`` after a start or calibration, and the averaged
force within ``SETTLE_DEG`` of the estimate's vertical) both fields are ``TILT_UNAVAILABLE``
and ``flags`` is ``FLAG_TILT_UNSETTLED``; once settled it stays settled until ``reset`` or a
new calibration.

Data requirements: raw int16 counts in the board's nominal axes at ``rate_hz`` (100–208 Hz),
full scales as in the packet's ``fs_code``.

Cost budget at 200 Hz on the ESP32 (240 MHz; an estimate, nothing here can time an ESP32 —
``firmware/bench_tilt.py`` measures it on the board; docs/firmware.md has the arithmetic):

* per sample, ``update`` does only small-int work (6 additions, a counter, a compare):
  ≈ 25 bytecodes ≈ 15–20 µs with the call; it allocates nothing (checked under
  ``micropython.heap_lock`` on the WebAssembly port).
* every ``block`` samples (default 4: 20 ms at 200 Hz) ``_step`` does the float work. Floats
  are boxed heap objects on the ESP32 port (object representation A), so every float result
  is one 16-byte heap block: the WebAssembly port measures 4.76 KB allocated per step, i.e.
  ≈ 300 float results (``bench_tilt.py`` prints it). At ≈ 5 µs per boxed float result on a
  240 MHz ESP32 (pyboard float loops run ≈ 6 µs per result at 168 MHz; the ESP32 at 240 MHz
  runs interpreter benchmarks ≈ 1.25× faster than a pyboard) a step costs ≈ 1.5 ms.
* per sample: 1.5 ms / 4 + 0.02 ms ≈ 0.4 ms, ≈ 8 % of the 5 ms period (block 1 would be
  ≈ 30 %); allocation ≈ 1.2 KB per sample, ≈ 240 KB/s, which the GC reclaims — its pauses
  are absorbed by the IMU's FIFO.

Notes
-----
Deviations from the host filter: the gyro and the specific force are summed as integers over
a block and the quaternion is advanced once per block (the coning error of a 20 ms step at
sacral rates is < 0.01 deg/s and the bias loop absorbs it); tilt fields between steps repeat
the last estimate (≤ 20 ms old); the still detector works on block means; arithmetic is
single precision on the ESP32. The bias read while still is the last second's average of the
still blocks, as the host's filter read it until it took, as a rest ends, the mean over the
rest's inside less the turn gravity shows (host/hipdrop/engine/orientation/_rest_bias.py): here,
after a stop, the tilt can read ≈ 1° off for 10–20 s. The host never uses this tilt (it
recomputes orientation from the raw samples), so the device keeps the simpler reading.
"""

import math

from hipdrop_fw import protocol as p
from hipdrop_fw.compat import const

FORCE_TAU_S = 1.5
TILT_GAIN = 0.3
"""1/s: tilt correction rate while moving."""
STILL_TILT_GAIN = 2.0
"""1/s: while still and during the first ``SETTLE_S``."""
BIAS_GAIN = 0.02
"""1/s²: integral gain of the gyro bias from the tilt error."""
STILL_BIAS_TAU_S = 1.0
TURN_DPS = 30.0
TURN_TAU_S = 1.0
SETTLE_S = 3.0
SETTLE_DEG = 2.0
STILL_GYR_DPS = 3.0
"""Block-mean rate magnitude below which the board may be still."""
STILL_ACC_G = 0.1
"""Block-mean |f| within this of 1 g, and within this of the previous block's mean."""
STILL_HOLD_S = 0.6
BLOCK = const(4)
G_MS2 = 9.80665

_DEG = math.pi / 180.0
_CDEG = 18000.0 / math.pi
_SETTLE_SIN = math.sin(SETTLE_DEG * _DEG)


def _cdeg(x):
    """Radians → int centidegrees."""
    return int(x * _CDEG + (0.5 if x >= 0 else -0.5))


class Tilt:
    """Tilt filter for one board: ``update`` per sample, output on attributes.

    ``rate_hz`` sample rate; ``acc_fs_g``/``gyr_fs_dps`` full scales; ``block`` samples per
    filter step (1 = every sample).
    """

    def __init__(self, rate_hz, acc_fs_g, gyr_fs_dps, block=BLOCK):
        self.block = block
        self._cal = (0, 0, 0, 0, 0)
        self.set_scale(rate_hz, acc_fs_g, gyr_fs_dps)
        self.set_calibration(0, 0, 0, 0, 0)

    def set_scale(self, rate_hz, acc_fs_g, gyr_fs_dps):
        """New rate or full scales (SET_RATE): restarts the filter."""
        self._dt = 1.0 / rate_hz
        self._acc_ms2 = acc_fs_g * G_MS2 / 32768.0
        self._gyr_dps = gyr_fs_dps / 32768.0
        self.reset()

    def set_calibration(self, bias_x_cdps, bias_y_cdps, bias_z_cdps, roll0_cdeg, pitch0_cdeg):
        """Gyro bias (0.01 deg/s) and neutral (centidegrees), as in the CALIBRATE response."""
        self._cal = (bias_x_cdps, bias_y_cdps, bias_z_cdps, roll0_cdeg, pitch0_cdeg)
        r, q = roll0_cdeg / _CDEG, pitch0_cdeg / _CDEG
        cr, sr, cq, sq = math.cos(r), math.sin(r), math.cos(q), math.sin(q)
        # N = Ry(pitch0) · Rx(roll0): takes the neutral up-vector to z.
        self._n = (cq, sq * sr, sq * cr, 0.0, cr, -sr, -sq, cq * sr, cq * cr)
        self.reset()

    def calibration(self):
        """(bias x, y, z in 0.01 deg/s, neutral roll, pitch in centidegrees)."""
        return self._cal

    def reset(self):
        """Forget the estimate; the next block starts it from the accelerometer."""
        k = 0.01 * _DEG
        self._bx, self._by, self._bz = self._cal[0] * k, self._cal[1] * k, self._cal[2] * k
        self._qw, self._qx, self._qy, self._qz = 1.0, 0.0, 0.0, 0.0
        self._fx, self._fy, self._fz = 0.0, 0.0, G_MS2
        self._yaw_dps = 0.0
        self._age_s = -1.0  # < 0: not started
        self._quiet_s = 0.0
        self._prev_g = 1.0
        self.still = False
        self.settled = False
        self.flags = p.FLAG_TILT_UNSETTLED
        self.roll_cdeg = p.TILT_UNAVAILABLE
        self.pitch_cdeg = p.TILT_UNAVAILABLE
        self._clear_sums()

    def _clear_sums(self):
        self._k = 0
        self._ax = self._ay = self._az = 0
        self._gx = self._gy = self._gz = 0

    def update(self, ax, ay, az, gx, gy, gz):
        """Feed one sample (int16 counts); allocates nothing except in a filter step."""
        self._ax += ax
        self._ay += ay
        self._az += az
        self._gx += gx
        self._gy += gy
        self._gz += gz
        k = self._k + 1
        if k < self.block:
            self._k = k
            return
        self._step(k)
        self._clear_sums()

    def _step(self, n):
        """One filter step over the block's sums of ``n`` samples."""
        t = n * self._dt
        ka, kg = self._acc_ms2 / n, self._gyr_dps / n
        ax, ay, az = self._ax * ka, self._ay * ka, self._az * ka
        gx, gy, gz = self._gx * kg, self._gy * kg, self._gz * kg  # mean deg/s
        if self._age_s < 0.0:
            self._start(ax, ay, az)
        self._age_s += t
        still = self._detect_still(ax, ay, az, gx, gy, gz, t)
        self._turn_right((gx * _DEG - self._bx) * t, (gy * _DEG - self._by) * t,
                         (gz * _DEG - self._bz) * t)  # fmt: skip
        yaw_dps = self._average_force(ax, ay, az, gx, gy, gz, t)
        if still or abs(yaw_dps) <= TURN_DPS:
            moving_start = self._age_s < SETTLE_S
            gain = STILL_TILT_GAIN if (still or moving_start) else TILT_GAIN
            self._correct(gain * t, not still)
        self._output()

    def _start(self, ax, ay, az):
        """Level the estimate on the specific force (zero heading)."""
        n = math.sqrt(ax * ax + ay * ay + az * az)
        if n < 1e-6:
            self._age_s = 0.0
            return
        ux, uy, uz = ax / n, ay / n, az / n
        s = math.sqrt(ux * ux + uy * uy)
        self._age_s = 0.0
        if s < 1e-9:
            if uz < 0.0:
                self._qw, self._qx = 0.0, 1.0
            return
        angle = math.atan2(s, uz)
        self._turn_left(uy / s * angle, -ux / s * angle)

    def _detect_still(self, ax, ay, az, gx, gy, gz, t):
        """Still once block means stayed quiet for ``STILL_HOLD_S``; then read the bias."""
        g = math.sqrt(ax * ax + ay * ay + az * az) / G_MS2
        quiet = (
            gx * gx + gy * gy + gz * gz < STILL_GYR_DPS * STILL_GYR_DPS
            and abs(g - 1.0) < STILL_ACC_G
            and abs(g - self._prev_g) < STILL_ACC_G
        )
        self._prev_g = g
        self._quiet_s = self._quiet_s + t if quiet else 0.0
        still = self._quiet_s >= STILL_HOLD_S
        self.still = still
        if still:
            a = min(t / STILL_BIAS_TAU_S, 1.0)
            self._bx += a * (gx * _DEG - self._bx)
            self._by += a * (gy * _DEG - self._by)
            self._bz += a * (gz * _DEG - self._bz)
        return still

    def _average_force(self, ax, ay, az, gx, gy, gz, t):
        """Rotate the specific force into the world frame and average it; return yaw rate."""
        w, x, y, z = self._qw, self._qx, self._qy, self._qz
        tx = 2.0 * (y * az - z * ay)
        ty = 2.0 * (z * ax - x * az)
        tz = 2.0 * (x * ay - y * ax)
        a = min(t / FORCE_TAU_S, 1.0)
        self._fx += a * (ax + w * tx + (y * tz - z * ty) - self._fx)
        self._fy += a * (ay + w * ty + (z * tx - x * tz) - self._fy)
        self._fz += a * (az + w * tz + (x * ty - y * tx) - self._fz)
        ux, uy, uz = 2.0 * (x * z - w * y), 2.0 * (y * z + w * x), 1.0 - 2.0 * (x * x + y * y)
        yaw = self._yaw_dps
        yaw += min(t / TURN_TAU_S, 1.0) * (gx * ux + gy * uy + gz * uz - yaw)
        self._yaw_dps = yaw
        return yaw

    def _correct(self, step, learn_bias):
        """Turn the estimate (and the average with it) so the average force points up."""
        fx, fy, fz = self._fx, self._fy, self._fz
        n = math.sqrt(fx * fx + fy * fy + fz * fz)
        if n < 0.5 * G_MS2:
            return  # no usable reference (a long free fall)
        ex, ey = fy / n, -fx / n
        rx, ry = ex * step, ey * step
        self._turn_left(rx, ry)
        self._fx = fx + ry * fz
        self._fy = fy - rx * fz
        self._fz = fz + rx * fy - ry * fx
        if not self.settled and self._age_s >= SETTLE_S and ex * ex + ey * ey < _SETTLE_SIN**2:
            self.settled = True
            self.flags = 0
        if learn_bias:
            # world error (ex, ey, 0) seen in the sensor frame: q* ⊗ e ⊗ q
            w, x, y, z = self._qw, -self._qx, -self._qy, -self._qz
            tx, ty, tz = -2.0 * z * ey, 2.0 * z * ex, 2.0 * (x * ey - y * ex)
            k = BIAS_GAIN / TILT_GAIN * step
            self._bx -= k * (ex + w * tx + (y * tz - z * ty))
            self._by -= k * (ey + w * ty + (z * tx - x * tz))
            self._bz -= k * (w * tz + (x * ty - y * tx))

    def _turn_right(self, rx, ry, rz):
        """q ← q ⊗ δ(r): a rotation vector [rad] in the sensor frame."""
        a2 = rx * rx + ry * ry + rz * rz
        if a2 < 1e-24:
            return
        dw, s = _half_angle(a2)
        dx, dy, dz = rx * s, ry * s, rz * s
        w, x, y, z = self._qw, self._qx, self._qy, self._qz
        self._set_q(
            w * dw - x * dx - y * dy - z * dz,
            w * dx + x * dw + y * dz - z * dy,
            w * dy - x * dz + y * dw + z * dx,
            w * dz + x * dy - y * dx + z * dw,
        )

    def _turn_left(self, rx, ry):
        """q ← δ(r) ⊗ q: a rotation vector (rx, ry, 0) [rad] in the world frame."""
        a2 = rx * rx + ry * ry
        if a2 < 1e-24:
            return
        dw, s = _half_angle(a2)
        dx, dy = rx * s, ry * s
        w, x, y, z = self._qw, self._qx, self._qy, self._qz
        self._set_q(
            dw * w - dx * x - dy * y,
            dw * x + dx * w + dy * z,
            dw * y - dx * z + dy * w,
            dw * z + dx * y - dy * x,
        )

    def _set_q(self, w, x, y, z):
        n = 1.0 / math.sqrt(w * w + x * x + y * y + z * z)
        self._qw, self._qx, self._qy, self._qz = w * n, x * n, y * n, z * n

    def _output(self):
        """Roll and pitch of the levelled board from the estimate's up-vector."""
        if not self.settled:
            return
        w, x, y, z = self._qw, self._qx, self._qy, self._qz
        ux, uy, uz = 2.0 * (x * z - w * y), 2.0 * (y * z + w * x), 1.0 - 2.0 * (x * x + y * y)
        m = self._n
        bx = m[0] * ux + m[1] * uy + m[2] * uz
        by = m[4] * uy + m[5] * uz
        bz = m[6] * ux + m[7] * uy + m[8] * uz
        self.roll_cdeg = _cdeg(math.atan2(by, bz))
        self.pitch_cdeg = _cdeg(math.atan2(-bx, math.sqrt(by * by + bz * bz)))


def _half_angle(a2):
    """cos(θ/2) and sin(θ/2)/θ for a rotation of θ² = ``a2``."""
    angle = math.sqrt(a2)
    return math.cos(0.5 * angle), math.sin(0.5 * angle) / angle


CAL_GYR_P2P_DPS = 4.0
"""Calibration fails (NOT_STILL) if any gyro axis spans more than this, peak to peak."""
CAL_ACC_P2P_G = 0.1
CAL_G_TOLERANCE = 0.1
"""The mean |f| must be within 10 % of 1 g."""


class Calibrator:
    """Stand-still calibration (CALIBRATE, protocol §5): gyro bias and neutral tilt.

    ``start(n)``, then ``add`` every sample (int counts; allocates nothing) until it returns
    True, then ``finish(tilt)`` → ``RESULT_OK`` (the tilt filter now uses the new bias and
    neutral: ``tilt.calibration()`` is the response payload) or ``RESULT_NOT_STILL``.
    """

    def __init__(self, acc_fs_g, gyr_fs_dps):
        self._acc_g = acc_fs_g / 32768.0
        self._gyr_dps = gyr_fs_dps / 32768.0
        self._gyr_p2p = int(CAL_GYR_P2P_DPS / self._gyr_dps)
        self._acc_p2p = int(CAL_ACC_P2P_G / self._acc_g)
        self._lo = [0] * 6
        self._hi = [0] * 6
        self._sum = [0] * 6
        self.start(0)

    def start(self, n_samples):
        """Begin averaging ``n_samples`` samples (seconds × rate)."""
        self._want = n_samples
        self._n = 0
        for i in range(6):
            self._lo[i], self._hi[i], self._sum[i] = 32767, -32768, 0

    def add(self, ax, ay, az, gx, gy, gz):
        """Feed one sample; True once ``n_samples`` have been seen."""
        self._acc(0, ax)
        self._acc(1, ay)
        self._acc(2, az)
        self._acc(3, gx)
        self._acc(4, gy)
        self._acc(5, gz)
        self._n += 1
        return self._n >= self._want

    def _acc(self, i, v):
        self._sum[i] += v
        if v < self._lo[i]:
            self._lo[i] = v
        if v > self._hi[i]:
            self._hi[i] = v

    def is_still(self):
        """True if the samples so far were still enough to calibrate on."""
        if not self._n:
            return False
        span = [self._hi[i] - self._lo[i] for i in range(6)]
        if max(span[:3]) > self._acc_p2p or max(span[3:]) > self._gyr_p2p:
            return False
        g = math.sqrt(sum((s / self._n * self._acc_g) ** 2 for s in self._sum[:3]))
        return abs(g - 1.0) <= CAL_G_TOLERANCE

    def finish(self, tilt):
        """Apply the calibration to ``tilt`` if still; return the protocol result code."""
        if not self.is_still():
            return p.RESULT_NOT_STILL
        n = self._n
        ax, ay, az = self._sum[0] / n, self._sum[1] / n, self._sum[2] / n
        bias = [int(round(s / n * self._gyr_dps * 100.0)) for s in self._sum[3:]]
        roll = math.atan2(ay, az)
        pitch = math.atan2(-ax, math.sqrt(ay * ay + az * az))
        tilt.set_calibration(bias[0], bias[1], bias[2], _cdeg(roll), _cdeg(pitch))
        return p.RESULT_OK
