"""The device→host clock map: drift and latency over a long session."""

import numpy as np

from hipdrop.link.clock import ClockMap


def _arrivals(seconds, drift_ppm, offset_s, seed=0, every_s=0.07):
    """(device time, host arrival) of packets over ``seconds``: a drifting device clock and a
    link latency of 5–60 ms, with a stall of a few seconds now and then."""
    rng = np.random.default_rng(seed)
    device = np.arange(0.0, seconds, every_s)
    latency = rng.uniform(0.005, 0.060, len(device))
    stalls = rng.random(len(device)) < 0.001
    latency[stalls] += rng.uniform(1.0, 5.0, stalls.sum())
    true_host = offset_s + device * (1 + drift_ppm * 1e-6)
    return device, true_host, true_host + latency


def test_two_hours_stay_aligned_to_milliseconds():
    device, true_host, arrival = _arrivals(2 * 3600, drift_ppm=50, offset_s=1.8e9)
    clocks = ClockMap()
    for d, h in zip(device, arrival):
        clocks.observe(1, d, h)
    error = clocks.host_time(1, device) - true_host
    assert np.abs(error).max() < 0.010  # the 50 ppm drift alone is 0.36 s over 2 h
    assert abs(clocks.boots[1].scale - 1 - 50e-6) < 2e-6


def test_the_map_is_usable_early_and_only_improves():
    device, true_host, arrival = _arrivals(600, drift_ppm=-30, offset_s=1000.0, seed=3)
    clocks = ClockMap()
    errors = []
    for k, (d, h) in enumerate(zip(device, arrival)):
        clocks.observe(2, d, h)
        if k % 500 == 499:
            errors.append(abs(clocks.host_time(2, device[-1]) - true_host[-1]))
    assert errors[0] < 0.1 and errors[-1] < 0.01
    assert not clocks.known(1) and clocks.known(2)
