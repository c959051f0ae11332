"""Simulator and virtual-sensor speed: how much faster than real time each scenario generates,
and how long the virtual board (firmware driver + sampler on the chip model) takes to send it.

    .venv/bin/python benchmarks/simulator.py [--repeat N]

Prints a table; times vary with the machine, the ratios to real time are what to compare.
"""

import argparse

from _timing import best_of

from hipdrop.sim import SCENARIOS, scenario
from hipdrop.vsensor import VirtualSensor


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        f"{'scenario':20s} {'samples':>10s} {'steps':>7s} {'simulate s':>11s} "
        f"{'x real time':>12s} {'device s':>9s} {'packets':>8s}"
    )
    for name in SCENARIOS:
        sim_s, rec = best_of(args.repeat, lambda n=name: scenario(n, seed=0))
        pack_s, notes = best_of(1, lambda r=rec: list(VirtualSensor(r).notifications()))
        duration = rec.time_s[-1]
        print(
            f"{name:20s} {len(rec):>10,} {len(rec.truth.steps):>7,} {sim_s:>11.3f} "
            f"{duration / sim_s:>12,.0f} {pack_s:>9.3f} {len(notes):>8,}"
        )


if __name__ == "__main__":
    main()
