"""Run the simulation: session + sensor → samples and their ground truth."""

from dataclasses import dataclass

import numpy as np

from .activities import Session
from .kinematics import pelvis_motion
from .sensor import SensorOutput, SensorSpec, measure, sample_times_s
from .steps import plan_steps
from .truth import Truth, activity_segments, step_truth


@dataclass(frozen=True)
class Recording:
    """A simulated recording: the IMU's samples in the sensor frame plus what really happened."""

    name: str
    seed: int
    spec: SensorSpec
    time_s: np.ndarray
    sensor: SensorOutput
    pelvis_euler_deg: np.ndarray
    """(n, 3) true yaw, pitch, roll of the pelvis."""
    truth: Truth

    @property
    def acc_ms2(self):
        return self.sensor.acc_ms2

    @property
    def gyr_dps(self):
        return self.sensor.gyr_dps

    def __len__(self):
        return len(self.time_s)


def simulate(session: Session, spec: SensorSpec, seed=0, name="custom") -> Recording:
    """Generate a reproducible recording (same seed, same bytes)."""
    rng = np.random.default_rng(seed)
    plan = plan_steps(session, rng)
    t_s = sample_times_s(session.duration_s, spec)
    motion = pelvis_motion(session, plan, t_s, spec.rate_hz, rng)
    output = measure(motion, plan, t_s, spec, rng)
    truth = Truth(
        steps=step_truth(plan, session, t_s, motion.euler_deg[:, 2]),
        activities=activity_segments(session),
        fatigue_onset_s=session.fatigue.onset_s if session.fatigue else None,
        clip_events_s=[e.t_s for e in spec.clip_events],
    )
    return Recording(name, seed, spec, t_s, output, motion.euler_deg, truth)
