"""Named, seeded scenarios: the demo's, the tests' and the benchmarks' standard runs."""

from dataclasses import replace

import numpy as np

from ..errors import HipdropError
from .activities import BAND_WALK, RUN, STEP_UP, Bout, Fatigue, Gait, Session, Turn
from .recording import Recording, simulate
from .sensor import REALISTIC, ClipEvent, SensorSpec


def _runner(rng) -> Gait:
    """A runner of this seed: slightly different cadence, contact time and per-side drop."""
    return replace(
        RUN,
        cadence_spm=rng.uniform(162, 180),
        contact_time_s=rng.uniform(0.22, 0.28),
        drop_deg=(rng.uniform(2.5, 6.0), rng.uniform(2.5, 6.0)),
        speed_mps=rng.uniform(2.6, 3.6),
    )


def _mounting(rng):
    return (rng.uniform(-180, 180), rng.uniform(10, 20), rng.uniform(-4, 4))


def _turns(rng, duration_s, every_s=240.0):
    starts = np.arange(every_s, duration_s - 30, every_s) + rng.uniform(-30, 30)
    return tuple(Turn(float(s), 4.0, float(rng.choice([-90.0, 90.0, 180.0]))) for s in starts)


def treadmill_quick(rng):
    """Stand 10 s, run 2 min on a treadmill, stand 5 s."""
    session = Session((Bout("stand", 10), Bout("run", 120, _runner(rng)), Bout("stand", 5)))
    return session, replace(REALISTIC, mount_deg=_mounting(rng))


def steady_run(rng):
    """A steady 20-minute run with turns and no fatigue."""
    run = _runner(rng)
    session = Session(
        (Bout("stand", 15), Bout("run", 1200, run), Bout("stand", 10)),
        turns=_turns(rng, 1225),
    )
    return session, replace(REALISTIC, mount_deg=_mounting(rng))


def steady_long_run(rng):
    """A steady 60-minute run with turns and a stop, without fatigue (the false-alarm check)."""
    run = _runner(rng)
    bouts = (
        Bout("stand", 15),
        Bout("run", 1800, run),
        Bout("stand", 30),
        Bout("run", 1800, run),
        Bout("stand", 10),
    )
    session = Session(bouts, turns=_turns(rng, 3655))
    return session, replace(REALISTIC, mount_deg=_mounting(rng))


def long_run(rng):
    """100 minutes with fatigue onset at ~60 min, a stop at a crossing and a re-seated clip."""
    run = _runner(rng)
    bouts = (
        Bout("stand", 20),
        Bout("run", 2700, run),
        Bout("stand", 45),
        Bout("run", 3300, run),
        Bout("stand", 20),
    )
    mount = _mounting(rng)
    reseat = ClipEvent(4500.0, (mount[0] + rng.uniform(20, 40), mount[1] - 6.0, mount[2] + 3.0))
    session = Session(bouts, Fatigue(onset_s=rng.uniform(3400, 3800)), _turns(rng, 6085))
    return session, replace(REALISTIC, mount_deg=mount, clip_events=(reseat,))


def band_walk_set(rng):
    """Lateral band walk: 25 s leading left, rest, 25 s leading right."""
    bouts = (
        Bout("stand", 10),
        Bout("band_walk", 25, BAND_WALK, side="L"),
        Bout("stand", 8),
        Bout("band_walk", 25, BAND_WALK, side="R"),
        Bout("stand", 5),
    )
    return Session(bouts), replace(REALISTIC, mount_deg=_mounting(rng))


def single_leg_balance(rng):
    """Single-leg balance: 30 s on the left, rest, 30 s on the right, with a little sag."""
    bouts = (
        Bout("stand", 10),
        Bout("single_leg", 30, side="L", hold_drop_deg=rng.uniform(1, 4)),
        Bout("stand", 8),
        Bout("single_leg", 30, side="R", hold_drop_deg=rng.uniform(1, 4)),
        Bout("stand", 5),
    )
    return Session(bouts), replace(REALISTIC, mount_deg=_mounting(rng))


def side_plank_hold(rng):
    """A 30 s side plank on the left side with 5° of hip sag."""
    bouts = (
        Bout("stand", 10),
        Bout("side_plank", 30, side="L", hold_drop_deg=5.0),
        Bout("stand", 10),
    )
    return Session(bouts), replace(REALISTIC, mount_deg=_mounting(rng))


def lateral_step_up(rng):
    """40 s of lateral step-ups leading with the left leg, hitching the stepping side."""
    gait = replace(STEP_UP, drop_deg=(-3.0, -3.0))  # a hitch: the stepping side rises
    bouts = (Bout("stand", 10), Bout("step_up", 40, gait, side="L"), Bout("stand", 5))
    return Session(bouts), replace(REALISTIC, mount_deg=_mounting(rng))


SCENARIOS = {
    "treadmill_quick": treadmill_quick,
    "steady_run": steady_run,
    "steady_long_run": steady_long_run,
    "long_run": long_run,
    "band_walk_set": band_walk_set,
    "single_leg_balance": single_leg_balance,
    "side_plank_hold": side_plank_hold,
    "lateral_step_up": lateral_step_up,
}


def scenario(name, seed=0, rate_hz=200.0) -> Recording:
    """Simulate the named scenario; the seed draws the runner, the mounting and the noise."""
    try:
        build = SCENARIOS[name]
    except KeyError:
        raise HipdropError(
            f"unknown scenario {name!r}; choose one of {', '.join(SCENARIOS)}"
        ) from None
    if seed < 0:
        raise HipdropError(f"seed {seed}: give 0 or more")
    rng = np.random.default_rng([seed, 1])
    session, spec = build(rng)
    spec: SensorSpec = replace(spec, rate_hz=rate_hz)
    return simulate(session, spec, seed, name)
