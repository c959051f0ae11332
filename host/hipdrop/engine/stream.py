"""``GaitStream``: the engine as one small object — feed samples, take the steps, finish.

The live link, the dashboard and ``hipdrop analyze`` all use it. It is causal: a step is
reported at the sample where the next initial contact becomes known (≈ 30 ms after that
contact when running, ≈ 100 ms when walking) — or, for a walking step whose next contact does
not come, two usual step times after its own — and feeding the same samples in any chunks gives
the same steps as one whole-file call.
"""

from dataclasses import dataclass

import numpy as np

from . import _pipeline as pipeline
from .calibration import _mounting as mount
from .orientation import _filter as orientation

STEP_COLUMNS = (
    "t_ic",
    "side",
    "side_confidence",
    "activity",
    "pelvic_drop_deg",
    "drop_from_contact_deg",
    "contact_time_s",
    "step_time_s",
    "roll_at_ic_deg",
    "obliquity_range_deg",
    "impact_g",
    "turn_dps",
    "t_verdict",
)
"""Columns of the step records: ``side`` is +1 (left stance) or −1, ``activity`` 1 run, 2 walk;
angles in degrees, times in seconds on the input's clock, nan where unknown."""


class GaitStream:
    """Causal gait analysis of a sacral IMU.

    ``feed(time_s, acc_ms2, gyr_dps)`` takes the next samples (sensor frame, m/s², deg/s, any
    chunk size) and returns the steps completed by them as an (n, 13) array with
    :data:`STEP_COLUMNS`; ``events`` accumulates (time, code) pairs. With ``angles=True``,
    ``angles`` holds the per-sample pelvis roll and pitch (deg) of the last chunk (else it stays
    empty: 16 bytes a sample nobody reads, and a pitch per sample, cost a tenth of the feed).
    ``finish()`` ends the recording and returns its last step, (1, 13), when that step's stance
    is in the data (a running step whose flight has begun, a walking step one usual step time
    long), else (0, 13): a contact in the last moments of a recording cannot be measured. A gap
    in the data (more than 0.25 s) closes the pending step the same way; ``feed`` returns it.

    For a second reading of the same recording, ``nominal`` (cos, sin) starts the forward axis
    there instead of along the board's x, and ``neutral`` (up in sensor axes) with
    ``gyro_bias`` (rad/s) makes the neutral and the gyro's bias known from the start: what a
    first reading learned (``learned_forward``, ``first_neutral``, ``first_gyro_bias``).
    """

    def __init__(self, angles=False, nominal=None, neutral=None, gyro_bias=None):
        self._state = pipeline.new_state()
        mount.seed(self._state[2], nominal, neutral)
        if gyro_bias is not None:
            self._state[1][orientation.BIAS : orientation.BIAS + 3] = gyro_bias
        self._keep_angles = angles
        self.events = []
        self.angles = np.zeros((0, 2))

    def feed(self, time_s, acc_ms2, gyr_dps):
        t = np.ascontiguousarray(time_s, dtype=np.float64)
        acc = np.ascontiguousarray(acc_ms2, dtype=np.float64)
        gyr = np.ascontiguousarray(gyr_dps, dtype=np.float64)
        self.angles = np.zeros((len(t) if self._keep_angles else 0, 2))
        steps, taken = self._process(t, acc, gyr, self.angles)
        found = [steps]
        while taken < len(t):  # more steps or events than the buffers held: carry on
            rest = slice(taken, None)
            angles = self.angles[rest] if self._keep_angles else self.angles
            steps, more = self._process(t[rest], acc[rest], gyr[rest], angles)
            found.append(steps)
            taken += more
        return found[0] if len(found) == 1 else np.concatenate(found)

    def _process(self, t, acc, gyr, angles):
        """Run the kernel on these samples; (the steps it found, how many samples it took)."""
        steps = np.zeros((len(t) // 20 + 4, pipeline.STEP_FIELDS))  # a step per 0.1 s at 200 Hz
        events = np.zeros((len(t) // 20 + 4, 2))
        n_steps, n_events, taken = pipeline.process(
            *self._state, t, acc, gyr, angles, steps, events
        )
        self.events.extend((float(e_t), int(code)) for e_t, code in events[:n_events])
        return steps[:n_steps], taken

    def finish(self):
        steps = np.zeros((1, pipeline.STEP_FIELDS))
        mount_st, con_st, side_st, loop, ring = self._state[2:]
        return steps[: pipeline.finish(mount_st, con_st, side_st, loop, ring, steps)]

    @property
    def learned_forward(self):
        """(cos, sin) of the forward learned from the motion (``_mounting.LEARNED_FORWARD``), in
        the level basis whose first axis is the board's x; None while none is."""
        c1, c2 = self._state[2][mount.LEARNED_FORWARD : mount.LEARNED_FORWARD + 2]
        return None if c1 == 0.0 and c2 == 0.0 else (float(c1), float(c2))

    @property
    def first_neutral(self):
        """The first neutral taken (up in sensor axes, a 3-tuple); None while none is."""
        up = self._state[2][mount.FIRST_NEUTRAL : mount.FIRST_NEUTRAL + 3]
        return tuple(float(x) for x in up) if up.any() else None

    @property
    def first_gyro_bias(self):
        """The gyro bias (rad/s, sensor axes) as the first neutral was taken; None before."""
        if self.first_neutral is None:
            return None
        loop = self._state[5]
        return tuple(
            float(x) for x in loop[pipeline.FIRST_GYRO_BIAS : pipeline.FIRST_GYRO_BIAS + 3]
        )

    @property
    def mounting(self):
        """Where the pelvis axes sit in the sensor frame now (unit vectors, sensor axes)."""
        m = self._state[2]
        return Mounting(
            up=tuple(m[mount.UP : mount.UP + 3]),
            forward=tuple(m[mount.FORWARD : mount.FORWARD + 3]),
            has_neutral=bool(m[mount.HAS_NEUTRAL] > 0.5),
        )


@dataclass(frozen=True)
class Mounting:
    up: tuple
    forward: tuple
    has_neutral: bool

    @property
    def upside_down(self):
        return self.up[2] < -0.5

    @property
    def on_its_side(self):
        """Up lies nearer the board's x-y plane than its ±z axis (30° or less from the plane)."""
        return abs(self.up[2]) <= 0.5

    @property
    def back_to_front(self):
        """Forward lies nearer the board's −x axis than its ±y."""
        return self.forward[0] < -abs(self.forward[1])

    @property
    def sideways(self):
        """Forward lies nearer the board's ±y axis than its ±x (turned on the waistband)."""
        return abs(self.forward[0]) < abs(self.forward[1])
