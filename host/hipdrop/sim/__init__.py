"""Sacral IMU simulator: what a clipped-on IMU measures while its wearer runs, walks or trains.

Public entry points: :func:`scenario` (named, seeded runs), :func:`simulate` (your own
:class:`Session` and :class:`SensorSpec`) and :func:`write_csv`.
"""

from .activities import ACTIVITIES, RUN, WALK, Bout, Fatigue, Gait, Session, Turn
from .export import write_csv
from .recording import Recording, simulate
from .scenarios import SCENARIOS, scenario
from .sensor import REALISTIC, ClipEvent, SensorSpec

__all__ = [
    "ACTIVITIES",
    "RUN",
    "WALK",
    "Bout",
    "ClipEvent",
    "Fatigue",
    "Gait",
    "REALISTIC",
    "Recording",
    "SCENARIOS",
    "Session",
    "SensorSpec",
    "Turn",
    "scenario",
    "simulate",
    "write_csv",
]
