"""Every array access of the engine's kernels stays in bounds on hostile streams.

Numba does not check indices: a kernel that writes past an array's end corrupts memory
silently (the step buffer did, at 25 Hz). Here the kernels are compiled afresh with Numba's
bounds checking (``NUMBA_BOUNDSCHECK=1``, in a process of its own with an empty cache), so any
such access raises ``IndexError`` instead.
"""

import os
import subprocess
import sys
import textwrap

FEEDS = textwrap.dedent(
    """
    import dataclasses

    import numpy as np

    import hipdrop
    from hipdrop.engine.stream import GaitStream
    from hipdrop.sim import REALISTIC, WALK, Bout, Session, scenario, simulate


    def feed(t, acc, gyr, chunk):
        stream = GaitStream(angles=True)
        for start in range(0, len(t), chunk):
            stop = start + chunk
            stream.feed(t[start:stop], acc[start:stop], gyr[start:stop])
        stream.finish()


    walk = Session((Bout("stand", 3), Bout("walk", 40, WALK), Bout("stand", 3)))
    slow = Session((Bout("walk", 20, dataclasses.replace(WALK, cadence_spm=60.0)),))
    recordings = [
        simulate(walk, dataclasses.replace(REALISTIC, rate_hz=20.0), seed=1),
        simulate(slow, dataclasses.replace(REALISTIC, rate_hz=1000.0), seed=2),
        scenario("lateral_step_up", seed=3),
        scenario("band_walk_set", seed=4),
    ]
    run = scenario("treadmill_quick", seed=5)
    for rec in recordings + [run]:
        for chunk in (len(rec.time_s), 7):
            feed(rec.time_s, rec.acc_ms2, rec.gyr_dps, chunk)
    rng = np.random.default_rng(6)
    kept = rng.uniform(size=len(run.time_s)) > 0.002  # samples lost here and there
    kept[5000:5400] = False  # and a gap of 2 s
    late = rng.uniform(0.0, 0.006, len(run.time_s))  # packet stamps that step back a little
    feed((run.time_s + late)[kept], run.acc_ms2[kept], run.gyr_dps[kept], 14)
    print("in bounds")
    """
)


def test_kernels_stay_in_bounds(tmp_path):
    env = dict(os.environ, NUMBA_BOUNDSCHECK="1", NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    result = subprocess.run(
        [sys.executable, "-c", FEEDS], env=env, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "in bounds"
