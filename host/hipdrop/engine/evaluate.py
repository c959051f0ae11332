"""Scoring detected steps against reference contacts (tests, benchmarks, validation studies)."""

import numpy as np


def match_contacts(ref_t, pred_t, tol_s=0.05):
    """One-to-one pairs (pred index, ref index) of contacts within ``tol_s`` seconds, each
    detection paired with its nearest reference if that one is still free."""
    ref_t = np.asarray(ref_t, dtype=float)
    pairs, used = [], set()
    for i, t in enumerate(pred_t):
        j = int(np.argmin(np.abs(ref_t - t)))
        if abs(ref_t[j] - t) <= tol_s and j not in used:
            pairs.append((i, j))
            used.add(j)
    return pairs
