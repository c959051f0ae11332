"""Whole-recording analysis: the streaming engine run over a file, plus the document."""

import numpy as np

from .inputs import ImuData
from .result import build_document
from .stream import GaitStream


def analyze(data: ImuData) -> dict:
    """Analyse a recording; the same causal engine as live, fed in one piece."""
    stream = GaitStream()
    records = stream.feed(data.time_s, data.acc_ms2, data.gyr_dps)
    records = np.concatenate([records, stream.finish()])
    return build_document(data, records, stream.events, stream.mounting)
