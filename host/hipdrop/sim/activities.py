"""What a scenario is made of: activity bouts, the runner's gait parameters, fatigue and turns."""

from dataclasses import dataclass, field

STEPPING = ("walk", "run", "band_walk", "step_up")
"""Activities made of alternating steps; the others are holds (``stand``, ``single_leg``,
``side_plank``)."""

ACTIVITIES = STEPPING + ("stand", "single_leg", "side_plank")


@dataclass(frozen=True)
class Gait:
    """Step-to-step parameters of one stepping bout (means; variability is added per step)."""

    cadence_spm: float = 170.0
    contact_time_s: float = 0.25
    drop_deg: tuple[float, float] = (4.0, 4.0)
    """Contralateral pelvic drop in (left stance, right stance), degrees above neutral."""
    speed_mps: float = 3.0
    impact_g: float = 1.0
    cadence_cv: float = 0.012
    contact_cv: float = 0.03
    drop_sd_deg: float = 0.4
    anterior_tilt_deg: float = 5.0
    """Mean anterior tilt while stepping, relative to standing."""
    tilt_range_deg: float = 6.0
    rotation_range_deg: float = 12.0


WALK = Gait(
    cadence_spm=110.0,
    contact_time_s=0.66,
    drop_deg=(3.0, 3.0),
    speed_mps=1.3,
    impact_g=0.0,
    anterior_tilt_deg=2.0,
    tilt_range_deg=3.0,
    rotation_range_deg=8.0,
)
RUN = Gait()
BAND_WALK = Gait(
    cadence_spm=50.0,
    contact_time_s=1.5,
    drop_deg=(2.0, 2.0),
    speed_mps=0.25,
    impact_g=0.0,
    anterior_tilt_deg=15.0,
    tilt_range_deg=2.0,
    rotation_range_deg=3.0,
)
STEP_UP = Gait(
    cadence_spm=30.0,
    contact_time_s=1.8,
    drop_deg=(3.0, 3.0),
    speed_mps=0.0,
    impact_g=0.0,
    anterior_tilt_deg=12.0,
    tilt_range_deg=8.0,
    rotation_range_deg=4.0,
)


@dataclass(frozen=True)
class Bout:
    """One stretch of a single activity.

    ``side`` selects the stance leg of a hold (``single_leg``: the standing leg; ``side_plank``:
    the side facing the floor) and the leading leg of a ``band_walk`` or ``step_up``.
    ``hold_drop_deg`` is the sag held during ``single_leg`` / ``side_plank``.
    """

    activity: str
    duration_s: float
    gait: Gait = RUN
    side: str = "L"
    hold_drop_deg: float = 0.0

    def __post_init__(self):
        if self.activity not in ACTIVITIES:
            raise ValueError(f"unknown activity {self.activity!r}; expected one of {ACTIVITIES}")
        if self.duration_s <= 0:
            raise ValueError("a bout needs a positive duration")


@dataclass(frozen=True)
class Fatigue:
    """From ``onset_s``, over ``ramp_s``, the gait drifts by these amounts (linearly)."""

    onset_s: float
    ramp_s: float = 600.0
    drop_increase_deg: tuple[float, float] = (3.0, 1.0)
    cadence_change_spm: float = -4.0
    impact_change_g: float = 0.4

    def level(self, t_s):
        """Fraction of the full drift reached at time ``t_s`` (0 before onset, 1 after the ramp)."""
        return min(max((t_s - self.onset_s) / self.ramp_s, 0.0), 1.0)


@dataclass(frozen=True)
class Turn:
    """A change of heading by ``angle_deg`` (> 0 = to the left) over ``duration_s``."""

    start_s: float
    duration_s: float
    angle_deg: float


@dataclass(frozen=True)
class Session:
    """Everything the runner does, in order, plus what happens to them on the way."""

    bouts: tuple[Bout, ...]
    fatigue: Fatigue | None = None
    turns: tuple[Turn, ...] = field(default_factory=tuple)

    @property
    def duration_s(self):
        return sum(b.duration_s for b in self.bouts)
