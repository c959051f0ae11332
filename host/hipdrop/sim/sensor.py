"""From true pelvis motion to what the clipped-on IMU reports: mounting, clip dynamics, errors."""

from dataclasses import dataclass, field

import numpy as np

from . import rotation
from .kinematics import G_MS2, PelvisMotion
from .steps import StepPlan

INT16_FULL_SCALE = 32768


@dataclass(frozen=True)
class ClipEvent:
    """At ``t_s`` the clip slips or is re-seated: the mounting becomes ``mount_deg`` in 0.2 s."""

    t_s: float
    mount_deg: tuple[float, float, float]


@dataclass(frozen=True)
class SensorSpec:
    """The IMU, its mounting and its flaws. Angles in degrees, (yaw, pitch, roll) ZYX."""

    rate_hz: float = 200.0
    rate_error: float = 0.0
    """Relative error of the IMU's sample clock: samples come at rate_hz × (1 + rate_error)."""
    clock_error: float = 0.0
    """Relative error of the device's microsecond clock against the host's."""
    mount_deg: tuple[float, float, float] = (0.0, 15.0, 0.0)
    clip_events: tuple[ClipEvent, ...] = field(default_factory=tuple)
    acc_range_g: int = 16
    gyr_range_dps: int = 1000
    acc_bias_ms2: tuple[float, float, float] = (0.0, 0.0, 0.0)
    gyr_bias_dps: tuple[float, float, float] = (0.0, 0.0, 0.0)
    gyr_tempco_dps_per_c: tuple[float, float, float] = (0.0, 0.0, 0.0)
    warm_up_c: float = 8.0
    """The die warms by this much above ambient over the first minutes (time constant 5 min)."""
    acc_scale_error: float = 0.0
    gyr_scale_error: float = 0.0
    acc_noise_ms2: float = 0.0
    gyr_noise_dps: float = 0.0
    ringing_deg: float = 0.0
    """Clip ringing after each impact: peak angle of a damped 28 Hz wobble per g of impact."""


REALISTIC = SensorSpec(
    acc_bias_ms2=(0.08, -0.05, 0.1),
    gyr_bias_dps=(0.6, -0.4, 0.3),
    gyr_tempco_dps_per_c=(0.03, 0.02, -0.025),
    acc_scale_error=0.01,
    gyr_scale_error=-0.008,
    acc_noise_ms2=0.03,
    gyr_noise_dps=0.08,
    ringing_deg=0.4,
    rate_error=0.004,
    clock_error=-0.0002,
)
"""An MPU6886-class part clipped to a waistband: biases, warm-up drift, noise, ringing."""


@dataclass(frozen=True)
class SensorOutput:
    acc_counts: np.ndarray
    gyr_counts: np.ndarray
    acc_ms2: np.ndarray
    gyr_dps: np.ndarray
    sensor_quat: np.ndarray
    """(n, 4) true orientation of the sensor in the world frame."""
    temperature_c: np.ndarray


def sample_times_s(duration_s, spec: SensorSpec):
    true_rate_hz = spec.rate_hz * (1.0 + spec.rate_error)
    return np.arange(int(duration_s * true_rate_hz)) / true_rate_hz


def mounting_quat(t_s, spec: SensorSpec, plan: StepPlan):
    """Sensor-in-pelvis orientation over time: clip events and post-impact ringing."""
    angles = np.tile(np.asarray(spec.mount_deg, float), (len(t_s), 1))
    for event in spec.clip_events:
        x = np.clip((t_s - event.t_s) / 0.2, 0, 1)[:, None]
        blend = x * x * (3 - 2 * x)
        angles = angles + blend * (np.asarray(event.mount_deg) - angles)
    q = rotation.from_euler_zyx_deg(angles[:, 0], angles[:, 1], angles[:, 2])
    if spec.ringing_deg:
        q = rotation.multiply(q, _ringing(t_s, spec.ringing_deg, plan))
    return q


def _ringing(t_s, peak_deg, plan: StepPlan):
    """A damped wobble of the clip about its pitch axis after each foot strike."""
    rotvec = np.zeros((len(t_s), 3))
    k = np.searchsorted(plan.t_ic_s, t_s, "right") - 1
    hit = k >= 0
    tau = t_s[hit] - plan.t_ic_s[k[hit]]
    angle = peak_deg * plan.impact_g[k[hit]] * np.exp(-tau / 0.03) * np.sin(2 * np.pi * 28.0 * tau)
    rotvec[hit, 1] = np.radians(angle)
    return rotation.from_rotvec(rotvec)


def measure(motion: PelvisMotion, plan: StepPlan, t_s, spec: SensorSpec, rng) -> SensorOutput:
    """What the IMU reports for the true motion, in its own axes, quantised to int16 counts."""
    pelvis = rotation.from_euler_zyx_deg(*motion.euler_deg.T)
    sensor = rotation.multiply(pelvis, mounting_quat(t_s, spec, plan))
    acc = rotation.rotate(rotation.conjugate(sensor), motion.force_world_ms2)
    gyr = np.degrees(rotation.body_rates(sensor, 1.0 / (spec.rate_hz * (1 + spec.rate_error))))
    temperature = 25.0 + spec.warm_up_c * (1 - np.exp(-t_s / 300.0))
    gyr_bias = np.asarray(spec.gyr_bias_dps) + np.outer(
        temperature - 25.0, spec.gyr_tempco_dps_per_c
    )
    acc = acc * (1 + spec.acc_scale_error) + spec.acc_bias_ms2
    acc += spec.acc_noise_ms2 * rng.standard_normal(acc.shape)
    gyr = gyr * (1 + spec.gyr_scale_error) + gyr_bias
    gyr += spec.gyr_noise_dps * rng.standard_normal(gyr.shape)
    acc_counts = quantise(acc, spec.acc_range_g * G_MS2)
    gyr_counts = quantise(gyr, spec.gyr_range_dps)
    return SensorOutput(
        acc_counts,
        gyr_counts,
        acc_counts * (spec.acc_range_g * G_MS2 / INT16_FULL_SCALE),
        gyr_counts * (spec.gyr_range_dps / INT16_FULL_SCALE),
        sensor,
        temperature,
    )


def quantise(values, full_scale):
    """int16 counts of ``values`` for a ±``full_scale`` range, saturating like the IMU does."""
    counts = np.round(np.asarray(values) / full_scale * INT16_FULL_SCALE)
    return np.clip(counts, -INT16_FULL_SCALE, INT16_FULL_SCALE - 1).astype(np.int16)
