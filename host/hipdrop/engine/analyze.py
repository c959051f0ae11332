"""Whole-recording analysis: the streaming engine run over a file, plus the document."""

import math
from dataclasses import replace

import numpy as np

from . import _pipeline as pipeline
from .inputs import ImuData
from .result import build_document
from .stream import GaitStream

REREAD_DEG = 30.0
"""A forward learned this far from the board's x makes the whole-file analysis read the
recording again from the start with it."""
REREAD_CHUNK_S = 10.0
AGREE_STEPS = 10
AGREE_DEG = 0.01
"""Steps agree when their contacts and sides are the same and their drops within this: a seeded
neutral leaves the heading's slow averages a little apart for a minute or two (τ 20 s)."""
_DROP_COLUMNS = (pipeline.PELVIC_DROP, pipeline.DROP_FROM_CONTACT)


def analyze(data: ImuData) -> dict:
    """Analyse a recording: the same causal engine as live, fed in one piece, and read again
    from the start with what it learned where that changes the first steps (``_seeds``).

    Live, the engine takes the board's x as forward until the motion has shown it (about half
    a second of running, a dozen walking steps), and has no neutral until the wearer first
    stands still: with the clip turned on the waistband the first steps' drops are read about
    another axis, and before the first standing-still period they have no pelvic drop. A whole
    file need not wait. Otherwise the steps are the live engine's, to the last bit.
    """
    stream = GaitStream()
    records = np.concatenate(
        [stream.feed(data.time_s, data.acc_ms2, data.gyr_dps), stream.finish()]
    )
    events = stream.events
    nominal, neutral, bias, notes = _seeds(stream, records)
    if notes:
        records, events = _reread(
            data, GaitStream(nominal=nominal, neutral=neutral, gyro_bias=bias), records, events
        )
        data = replace(data, notes=data.notes + notes)
    return build_document(data, records, events, stream.mounting)


def _seeds(stream, records):
    """What a second reading starts with, and the notes that say so. It is made when the forward
    learned lies more than ``REREAD_DEG`` off the board's x, or when steps came before the first
    neutral (their pelvic drop is null in the first reading): then it starts with that neutral
    and the gyro bias measured with it (from a running start the filter learns the bias from
    the tilt error, over ≈ 30 s in which the drops were 1.4–2.5° RMS off on simulated runs).
    Either way it starts about the forward learned, so that its first seconds of running are
    not read about the board's x."""
    neutral, bias, notes = None, None, ()
    learned = stream.learned_forward
    if learned is not None and learned[0] < math.cos(math.radians(REREAD_DEG)):
        off_deg = math.degrees(math.atan2(learned[1], learned[0]))
        notes += (
            f"forward learned from the motion, {off_deg:+.0f}° from the board's x (toward its "
            "y): the recording was read again with it from the start",
        )
    if stream.first_neutral is not None and np.isnan(records[:, pipeline.PELVIC_DROP]).any():
        neutral, bias = stream.first_neutral, stream.first_gyro_bias
        taken_s = next(t for t, code in stream.events if code == pipeline.EV_NEUTRAL)
        notes += (
            f"steps before the first standing-still period (neutral taken at {taken_s:.1f} s) "
            "were read again with its neutral: their pelvic drop is measured from it",
        )
    return (learned if notes else None), neutral, bias, notes


def _reread(data, stream, first, first_events):
    """Read ``data`` again from the start through the seeded ``stream``, a chunk at a time, until
    ``AGREE_STEPS`` steps in a row come out as in the first reading (``first``: its step records
    and events): from there on the two readings agree, and the first one stands. Returns the
    spliced (step records, events)."""
    again, tail = [], np.zeros((0, pipeline.STEP_FIELDS))
    chunk = max(int(data.sample_rate_hz * REREAD_CHUNK_S), 1)
    for start in range(0, len(data.time_s), chunk):
        part = slice(start, start + chunk)
        again.append(stream.feed(data.time_s[part], data.acc_ms2[part], data.gyr_dps[part]))
        window = np.concatenate([tail, again[-1]])  # a run that agrees may begin in the tail
        splice = _agreement(first, window)
        if splice is not None:
            records = np.concatenate(again)
            splice += len(records) - len(window)
            at_s = records[splice, pipeline.T_IC]
            rest = first[first[:, pipeline.T_IC] >= at_s]
            events = [e for e in stream.events if e[0] < at_s]
            events += [e for e in first_events if e[0] >= at_s]
            return np.concatenate([records[:splice], rest]), events
        tail = window[max(len(window) - (AGREE_STEPS - 1), 0) :]
    return np.concatenate(again + [stream.finish()]), stream.events


def _agreement(first, again):
    """Index in ``again`` of the first of ``AGREE_STEPS`` steps in a row that the first reading
    has too, with the same contact, side and drops; None if there are none yet. (Steps come in
    the order of their contacts; were they not, nothing would agree, and the whole recording
    would be read again.)"""
    if len(again) < AGREE_STEPS or len(first) == 0:
        return None
    t_first, t_again = first[:, pipeline.T_IC], again[:, pipeline.T_IC]
    at = np.minimum(np.searchsorted(t_first, t_again), len(t_first) - 1)
    same = t_first[at] == t_again
    same &= first[at, pipeline.SIDE] == again[:, pipeline.SIDE]
    for column in _DROP_COLUMNS:
        a, b = first[at, column], again[:, column]
        same &= (np.abs(a - b) <= AGREE_DEG) | (np.isnan(a) & np.isnan(b))
    in_a_row = np.convolve(same, np.ones(AGREE_STEPS, dtype=int), "valid")
    starts = np.flatnonzero(in_a_row == AGREE_STEPS)
    return int(starts[0]) if len(starts) else None
