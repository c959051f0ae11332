"""Time the on-device tilt filter on the board: µs per update and share of the 5 ms budget.

Copy the firmware first, then run this file on the board:

    mpremote cp -r firmware/hipdrop_fw :
    mpremote run firmware/bench_tilt.py

It feeds ``N`` synthetic running-like samples (precomputed int counts, so the loop measures
only the filter), with the garbage collector off to count the bytes allocated per update, then
again with the collector on to include its pauses. Also runs on the MicroPython WebAssembly
port and on CPython (tests/firmware run it there to keep it working).
"""

import gc
import math
import time

from hipdrop_fw.tilt import BLOCK, Tilt

RATE_HZ = 200
N = 2000
PERIOD_US = 1_000_000 // RATE_HZ


def samples(n):
    """Pelvis-like motion at 200 Hz: 2.8 Hz steps, ±2.5 g vertical, ±60 deg/s (±16 g, ±1000)."""
    out = []
    for i in range(n):
        ph = 2.0 * math.pi * 2.8 * i / RATE_HZ
        a = (int(400 * math.sin(ph)), int(300 * math.cos(ph / 2)), int(2048 + 3000 * math.sin(ph)))
        g = (int(1500 * math.sin(ph / 2)), int(2000 * math.cos(ph)), int(800 * math.sin(ph / 2)))
        out.append(a + g)
    return out


def run(data, block, collect):
    """(µs per update, bytes allocated per update) over ``data``."""
    tilt = Tilt(RATE_HZ, 16, 1000, block)
    gc.collect()
    if not collect:
        gc.disable()
    before = gc.mem_alloc() if hasattr(gc, "mem_alloc") else 0
    t0 = time.ticks_us() if hasattr(time, "ticks_us") else int(time.perf_counter() * 1e6)
    for s in data:
        tilt.update(s[0], s[1], s[2], s[3], s[4], s[5])
    t1 = time.ticks_us() if hasattr(time, "ticks_us") else int(time.perf_counter() * 1e6)
    after = gc.mem_alloc() if hasattr(gc, "mem_alloc") else 0
    gc.enable()
    dt = time.ticks_diff(t1, t0) if hasattr(time, "ticks_diff") else t1 - t0
    return dt / len(data), (after - before) / len(data)


def main():
    data = samples(N)
    for block in (BLOCK, 1):
        for collect in (False, True):
            us, alloc = run(data, block, collect)
            share = 100.0 * us / PERIOD_US
            tail = f"{alloc:.0f} bytes/update" if not collect else "pauses included"
            gc_state = "on " if collect else "off"
            print(f"block {block} gc {gc_state}: {us:.1f} us/update, {share:.1f} % of the "
                  f"{PERIOD_US} us budget, {tail}")  # fmt: skip


if __name__ == "__main__":
    main()
