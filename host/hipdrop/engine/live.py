"""Live companions of ``GaitStream``: what the dashboard and the link watch during a run."""

import numpy as np

from . import _pipeline as pipeline
from .fatigue import FatigueResult, detect_fatigue
from .result import minute_table, step_columns


class LiveFatigue:
    """Fatigue watched while running.

    ``add(records, now_s, has_neutral)`` takes each batch of steps from ``GaitStream.feed``;
    whenever a minute has completed, the detector runs on the completed minutes only (so it
    is causal), and the first detection is kept in ``result`` with ``detected_at_s``. A later
    whole-recording analysis may place the onset differently (it sees the minutes after it).
    """

    def __init__(self):
        self._records = []
        self._checked_minute = 0
        self.result: FatigueResult | None = None
        self.detected_at_s: float | None = None

    def add(self, records, now_s, has_neutral):
        self._records.append(records)
        minute = int(now_s // 60)
        if self.result is not None or minute <= self._checked_minute:
            return self.result
        self._checked_minute = minute
        key = "pelvic_drop_deg" if has_neutral else "drop_from_contact_deg"
        steps = np.concatenate(self._records)
        self._records = [steps]
        done = steps[steps[:, pipeline.T_IC] < minute * 60]
        found = detect_fatigue(minute_table(step_columns(done), key), key)
        if found.onset_s is not None:
            self.result, self.detected_at_s = found, now_s
        return self.result
