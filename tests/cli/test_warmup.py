"""The first run compiles the engine up front and says so; later runs load it silently."""

import os
import subprocess
import sys
import textwrap

from hipdrop.engine import warmup
from hipdrop.sim import scenario, write_csv

FIRST_RUN = textwrap.dedent(
    """
    import sys

    from numba.core import event

    from hipdrop.engine.analyze import analyze
    from hipdrop.engine.inputs import read_csv
    from hipdrop.engine.warmup import warm_up

    warm_up()
    with event.install_recorder("numba:compile") as compiled:
        analyze(read_csv(sys.argv[1]))
    print("compiled after the warm-up:", len(compiled.buffer))
    """
)


def _run(argv, cache):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    return subprocess.run(
        [sys.executable, *argv], env=env, capture_output=True, text=True, timeout=600
    )


def test_the_first_run_says_it_compiles_everything_and_the_next_is_silent(tmp_path):
    csv = tmp_path / "run.csv"
    write_csv(scenario("treadmill_quick", seed=2), csv)
    cache = tmp_path / "numba"

    first = _run(["-c", FIRST_RUN, str(csv)], cache)
    assert first.returncode == 0, first.stderr[-3000:]
    assert warmup.NOTICE in first.stderr
    assert "compiled in" in first.stderr
    assert "compiled after the warm-up: 0" in first.stdout  # nothing left to compile

    later = _run(["-m", "hipdrop.cli", "analyze", str(csv)], cache)
    assert later.returncode == 0, later.stderr[-3000:]
    assert "steps" in later.stdout
    assert "compil" not in later.stderr


def test_a_cached_warm_up_says_nothing():
    warmup.warm_up(lambda text: None)  # compiles here if no other test has yet
    said = []
    warmup.warm_up(said.append)
    assert said == []
