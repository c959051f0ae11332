"""End to end: simulator samples -> chip model -> driver -> sampler -> packets -> host decoder.

The same wiring the virtual sensor will use (see the sampler's module docstring).
"""

import numpy as np
import pytest

from hipdrop.protocol import PacketFlag, decode_packets
from hipdrop.sim import scenario
from hipdrop.vsensor.board import VirtualBoard
from hipdrop_fw import protocol as p

MASK = 2**30 - 1
TICKS_OFFSET = MASK - 20_000_000  # the device clock wraps 20 s into the run


@pytest.fixture(scope="module")
def recording():
    """Stand 10 s, then run: 135 s at 200 Hz x (1 + 0.4 %), ±16 g, ±1000 deg/s, with noise."""
    return scenario("treadmill_quick", seed=2, rate_hz=200)


class Device(VirtualBoard):
    """The virtual sensor's board (firmware driver and sampler on the chip model), with the
    device clock wrapping 20 s into the run and the main loop's uneven poll gaps."""

    def __init__(self, rec, part, board):
        super().__init__(
            rec, 0, len(rec), boot=5, mtu=247, board=board, part=part, ticks_offset_us=TICKS_OFFSET
        )

    def boot(self):
        k0 = self.start(3, 0x23)
        assert self.boot_fault == p.FAULT_NONE and self.imu.rate_hz == 200
        return k0

    def run(self, seconds, rng):
        """Poll every 5-60 ms (the main loop's other work makes the gaps uneven)."""
        end = self.chip.time_s + seconds
        while self.chip.time_s < end:
            self.chip.advance(min(rng.uniform(0.005, 0.060), end - self.chip.time_s + 1e-9))
            self.sampler.poll()

    @property
    def sent(self):
        return [data for _, data in self.packets]


def sample_index(d):
    return d.seq[d.sample_packet].astype(np.int64) + d.sample_offset


def t0_errors(dev, d, k_first):
    """Each packet's t0 minus its first sample's true time on the device clock, in µs."""
    k = k_first[d.sample_offset == 0]
    true_us = np.array(dev.chip.sample_time_s)[k] * 1e6 * (1 + dev.clock_error) + TICKS_OFFSET
    late = (d.t0_ticks_us.astype(np.int64) - np.floor(true_us).astype(np.int64)) % 2**30
    return np.where(late >= 2**29, late - 2**30, late)


def check_timestamps(dev, d, k_first, settled_from=None):
    """Each packet's t0 is its first sample's true time on the device clock, off by less than
    one sample period (5000 µs) while the sampler's clock tracking settles (one read alone
    stamps late by up to a period), by about 1 % of it typically, and by under 10 % from
    packet ``settled_from`` on."""
    err = np.abs(t0_errors(dev, d, k_first))
    assert err.max() < 5000 and np.median(err) < 150, (err.max(), np.median(err))
    if settled_from is not None:
        assert err[settled_from:].max() < 500, err[settled_from:].max()


PARTS_BOARDS = [("mpu6886", "m5stickc_plus2"), ("mpu6050", "diy_esp32"), ("mpu6500", "diy_esp32")]


@pytest.mark.parametrize(("part", "board"), PARTS_BOARDS)
def test_sixty_seconds_at_200_hz_arrive_whole(recording, part, board):
    dev = Device(recording, part, board)
    k0 = dev.boot()
    dev.run(60.0, np.random.default_rng(0))
    dev.sampler.flush()
    produced = dev.chip.sample_count - k0
    d = decode_packets(dev.sent)
    assert not d.errors and produced >= 60 * 200
    np.testing.assert_array_equal(sample_index(d), np.arange(produced))  # no loss, in order
    rows = slice(k0, k0 + produced)
    np.testing.assert_array_equal(d.raw[:, 0:3], recording.sensor.acc_counts[rows])
    np.testing.assert_array_equal(d.raw[:, 3:6], recording.sensor.gyr_counts[rows])
    assert (d.raw[:, 6:8] == p.TILT_UNAVAILABLE).all()
    assert (d.flags == PacketFlag.TILT_UNSETTLED).all()
    assert (d.boot == 5).all() and (d.rate_code == 3).all() and (d.fs_code == 0x23).all()
    assert (d.count[:-1] == 14).all()
    assert dev.imu.overflows == 0 and dev.sampler.dropped == 0
    assert d.t0_ticks_us.min() < 1_000_000 < 2**30 - 1_000_000 < d.t0_ticks_us.max()  # wrapped
    check_timestamps(dev, d, k0 + sample_index(d), settled_from=10 * 200 // 14)  # after 10 s


@pytest.mark.parametrize(("part", "board"), PARTS_BOARDS)
def test_overflow_advances_seq_and_flags_the_next_packet(recording, part, board):
    dev = Device(recording, part, board)
    rng = np.random.default_rng(1)
    k0 = dev.boot()
    dev.run(5.0, rng)
    n_before = dev.sampler.seq
    dev.chip.advance(1.0)  # the main loop stalls for a second: the FIFO overflows
    dev.run(5.0, rng)
    dev.sampler.flush()
    k1 = dev.chip.fifo_reset_sample  # first sample written after the driver's FIFO reset
    d = decode_packets(dev.sent)
    idx = sample_index(d)
    after = idx >= n_before
    assert dev.imu.overflows == 1 and not d.errors
    # true rows: before the gap k0 + index; after it, k1 onwards
    np.testing.assert_array_equal(idx[~after], np.arange(n_before))
    true_k = np.concatenate([k0 + idx[~after], k1 + np.arange(after.sum())])
    np.testing.assert_array_equal(d.raw[:, 0:3], recording.sensor.acc_counts[true_k])
    np.testing.assert_array_equal(d.raw[:, 3:6], recording.sensor.gyr_counts[true_k])
    true_lost = k1 - k0 - n_before
    jump = int(idx[after][0]) - n_before
    assert true_lost <= jump <= true_lost * 1.03 + 2, (true_lost, jump)  # never an index reused
    assert jump == dev.sampler.dropped
    np.testing.assert_array_equal(np.diff(idx[after]), 1)
    flagged = (d.flags & PacketFlag.FIFO_OVERFLOW) != 0
    first_after = d.sample_packet[np.argmax(after)]
    assert flagged.sum() == 1 and flagged[first_after]
    check_timestamps(dev, d, true_k)
