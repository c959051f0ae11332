"""Ground truth of a simulated recording, on the sensor's sample clock."""

from dataclasses import asdict, dataclass

import numpy as np

from .activities import Session
from .steps import LEFT, StepPlan, bout_starts_s


@dataclass(frozen=True)
class StepTruth:
    t_ic_s: float
    side: str
    t_stance_end_s: float
    activity: str
    pelvic_drop_deg: float
    """Peak drop of the swing side below neutral (level pelvis) during the stance."""
    drop_from_contact_deg: float
    """The same peak measured from the roll at initial contact."""


@dataclass(frozen=True)
class Truth:
    steps: list[StepTruth]
    activities: list[dict]
    fatigue_onset_s: float | None
    clip_events_s: list[float]

    def to_dict(self):
        return {
            "steps": [asdict(s) for s in self.steps],
            "activities": self.activities,
            "fatigue_onset_s": self.fatigue_onset_s,
            "clip_events_s": self.clip_events_s,
        }


def step_truth(plan: StepPlan, session: Session, t_s, roll_deg) -> list[StepTruth]:
    """Per-step CPD from the true roll sampled on the sensor clock (neutral = level = 0°)."""
    starts = np.searchsorted(t_s, plan.t_ic_s)
    ends = np.searchsorted(t_s, plan.t_ic_s + plan.stance_s, "right")
    roll_at_ic = np.interp(plan.t_ic_s, t_s, roll_deg)
    steps = []
    for k in range(len(plan)):
        signed = plan.side[k] * roll_deg[starts[k] : ends[k]]
        steps.append(
            StepTruth(
                t_ic_s=float(plan.t_ic_s[k]),
                side="L" if plan.side[k] == LEFT else "R",
                t_stance_end_s=float(plan.t_ic_s[k] + plan.stance_s[k]),
                activity=session.bouts[plan.bout[k]].activity,
                pelvic_drop_deg=float(signed.max()),
                drop_from_contact_deg=float((signed - plan.side[k] * roll_at_ic[k]).max()),
            )
        )
    return steps


def activity_segments(session: Session):
    return [
        {
            "start_s": float(start),
            "end_s": float(start + b.duration_s),
            "activity": b.activity,
            "side": b.side,
        }
        for b, start in zip(session.bouts, bout_starts_s(session))
    ]
