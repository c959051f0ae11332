"""The LSM6DSOX driver against its register-level chip model (host/hipdrop/vsensor/lsm6dsox.py),
and end to end through the sampler and the host's decoder."""

import errno

import numpy as np
import pytest
from fw_support import read_all, still_board

from hipdrop.protocol import decode_packets
from hipdrop.sim import scenario
from hipdrop.vsensor.lsm6dsox import FIFO_WORDS, Lsm6dsoxModel, tag_byte
from hipdrop.vsensor.mpu6886 import ArraySource, quantise, to_chip_axes
from hipdrop_fw import boards, packet
from hipdrop_fw import protocol as p
from hipdrop_fw.imu.lsm6dsox import SAMPLE_SIZE, Lsm6dsox
from hipdrop_fw.sampler import Sampler

G = 9.80665
AXES = {name: boards.load(name).AXES for name in boards.BOARDS}
DIY = AXES["diy_esp32"]
MASK = 2**30 - 1


def make(acc_board, gyr_board, axes=DIY, temperature_c=25.0, **kw):
    """The chip fed with board-axis samples, and its driver on the chip's fake clock."""
    source = ArraySource(
        to_chip_axes(acc_board, axes), to_chip_axes(gyr_board, axes), temperature_c
    )
    chip = Lsm6dsoxModel(source, **kw)
    imu = Lsm6dsox(chip, axes=axes, sleep_ms=lambda ms: chip.advance(ms / 1000))
    return chip, imu


def board_counts(value, full_scale, sign):
    """The board-axis count of ``value`` (a negated axis saturates at ±32767)."""
    counts = quantise(value, full_scale)
    return -32767 if sign < 0 and counts == -32768 else counts


def want_rows(acc, gyr, axes, fs_code):
    acc_fs, gyr_fs = p.ACC_FS_G[fs_code & 3] * G, p.GYR_FS_DPS[fs_code >> 4]
    return np.array(
        [
            [board_counts(v, acc_fs, s) for v, (_, s) in zip(a, axes)]
            + [board_counts(v, gyr_fs, s) for v, (_, s) in zip(g, axes)]
            for a, g in zip(acc, gyr)
        ]
    )


# --- identity and self-test ----------------------------------------------------------------


def test_probe():
    chip, imu = make(*still_board(100))
    assert chip.readfrom_mem(0x6A, 0x0F, 1) == b"\x6c"
    assert chip.scan() == [0x6A]
    assert imu.probe() == "lsm6dsox"
    assert imu.fifo_size == 512 * 7 and SAMPLE_SIZE == 14


def test_missing_imu():
    chip, imu = make(*still_board(100), present=False)
    with pytest.raises(OSError) as err:
        chip.readfrom_mem(0x6A, 0x0F, 1)
    assert err.value.errno == errno.ENODEV == 19
    assert chip.scan() == [] and imu.probe() is None
    assert imu.self_test() == p.FAULT_IMU_MISSING
    with pytest.raises(OSError):
        imu.configure(4, 0x23)


def test_wrong_address_and_wrong_part_are_missing():
    chip, _ = make(*still_board(100))
    imu = Lsm6dsox(chip, addr=0x6B, sleep_ms=lambda ms: chip.advance(ms / 1000))
    assert imu.self_test() == p.FAULT_IMU_MISSING
    chip.regs[0x0F] = 0x6B  # an LSM6DSR answers: not this driver's part
    imu = Lsm6dsox(chip, sleep_ms=lambda ms: chip.advance(ms / 1000))
    assert imu.probe() is None and imu.self_test() == p.FAULT_IMU_MISSING


@pytest.mark.parametrize("board", boards.BOARDS)
def test_self_test_passes_on_a_still_board(board):
    chip, imu = make(*still_board(2000), AXES[board], temperature_c=31.5)
    assert imu.self_test() == p.FAULT_NONE
    assert imu.temperature_c() == pytest.approx(31.5, abs=0.01)


@pytest.mark.parametrize(
    ("case", "acc", "gyr"),
    [
        ("stuck", [0.3, -0.2, G], [0.5, -0.4, 0.2]),
        ("all zero", [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]),
        ("3 g at rest", [0.0, 0.0, 3 * G], [0.5, -0.4, 0.2]),
        ("no gravity", [0.0, 0.0, 0.1 * G], [0.5, -0.4, 0.2]),
    ],
)
def test_self_test_rejects_nonsense(case, acc, gyr):
    n = 2000
    jitter = 0.0 if case in ("stuck", "all zero") else 0.02
    acc_b = np.tile(acc, (n, 1)) + jitter * np.random.default_rng(1).standard_normal((n, 3))
    chip, imu = make(acc_b, np.tile(gyr, (n, 1)))
    assert imu.self_test() == p.FAULT_IMU_SELF_TEST, case


def test_self_test_rejects_nonsense_temperature():
    chip, imu = make(*still_board(2000), temperature_c=-60.0)
    assert imu.self_test() == p.FAULT_IMU_SELF_TEST


def test_self_test_rejects_all_ones():
    chip, imu = make(*still_board(2000))
    real = chip._read_register
    chip._read_register = lambda reg: 0xFF if 0x22 <= reg < 0x2E else real(reg)
    assert imu.self_test() == p.FAULT_IMU_SELF_TEST


# --- configuration -------------------------------------------------------------------------

# rate_code -> (ODR code, true Hz, true rate code, period µs)
RATES = {1: (4, 104, 2, 9615), 2: (4, 104, 2, 9615), 3: (5, 208, 4, 4808), 4: (5, 208, 4, 4808)}
FS_XL = {0: 0b00, 1: 0b10, 2: 0b11, 3: 0b01}  # ±2, 4, 8, 16 g


@pytest.mark.parametrize("rate_code", RATES)
@pytest.mark.parametrize("fs_code", [0x00, 0x12, 0x23, 0x31])
def test_configure_sets_registers(rate_code, fs_code):
    chip, imu = make(*still_board(3000))
    imu.probe()
    imu.reset()
    odr, hz, true_code, period = RATES[rate_code]
    assert imu.configure(rate_code, fs_code) == true_code == imu.rate_code
    regs = chip.regs
    assert regs[0x12] == 0x44  # BDU, IF_INC
    assert regs[0x10] == (odr << 4) | (FS_XL[fs_code & 3] << 2) | 0x02  # LPF2 on
    assert regs[0x17] == 0  # LPF2 at ODR/4
    assert regs[0x11] == (odr << 4) | ((fs_code >> 4) << 2)
    assert regs[0x09] == (odr << 4) | odr  # BDR_GY, BDR_XL at the ODR
    assert regs[0x0A] == 0x06  # continuous mode, no temperature or timestamp batching
    assert (imu.rate_hz, imu.period_us, imu.fs_code) == (hz, period, fs_code)
    assert chip.rate_hz() == hz
    k0 = chip.sample_count
    chip.advance(1.0)
    assert chip.sample_count - k0 == hz and len(chip.fifo) == 2 * hz  # a word per sensor


def test_configure_rejects_bad_codes():
    _, imu = make(*still_board(100))
    for rate_code, fs_code in ((0, 0), (5, 0), (3, 0x04), (3, 0x40)):
        with pytest.raises(ValueError):
            imu.configure(rate_code, fs_code)


# --- the FIFO ------------------------------------------------------------------------------


@pytest.mark.parametrize("board", boards.BOARDS)
@pytest.mark.parametrize("fs_code", [0x00, 0x33])
@pytest.mark.parametrize("accel_first", [False, True])
def test_fifo_reproduces_fed_samples_in_board_axes(board, fs_code, accel_first):
    n = 1500
    rng = np.random.default_rng(7)
    acc_fs, gyr_fs = p.ACC_FS_G[fs_code & 3] * G, p.GYR_FS_DPS[fs_code >> 4]
    acc = rng.uniform(-1.2, 1.2, (n, 3)) * acc_fs  # some beyond full scale: saturated
    gyr = rng.uniform(-1.2, 1.2, (n, 3)) * gyr_fs
    chip, imu = make(acc, gyr, AXES[board], accel_first=accel_first)
    imu.probe()
    imu.reset()
    imu.configure(4, fs_code)
    k0 = chip.fifo_reset_sample
    got = read_all(imu, chip, 5.0)
    assert imu.overflows == 0 and abs(len(got) - 1040) <= 2
    want = want_rows(acc[k0 : k0 + len(got)], gyr[k0 : k0 + len(got)], AXES[board], fs_code)
    assert (np.abs(want) >= 32767).any()  # saturation is exercised
    np.testing.assert_array_equal(got, want)


def test_pairs_split_across_reads_stay_whole():
    """The accelerometer word comes 2 ms after the gyroscope word: reads often find half a
    pair, which stays in the chip and opens the next read."""
    n = 3000
    acc, gyr = still_board(n, seed=3)
    chip, imu = make(acc, gyr, pair_gap_s=0.002)
    assert imu.self_test() == p.FAULT_NONE
    imu.configure(4, 0x23)
    k0 = chip.fifo_reset_sample
    buf = bytearray(imu.fifo_size)
    out = [0] * 6
    rows, odd = [], 0
    rng = np.random.default_rng(0)
    for _ in range(600):
        chip.advance(rng.uniform(0.001, 0.012))
        odd += len(chip.fifo) % 2
        for i in range(imu.read_fifo(buf)):
            imu.unpack(buf, i, out)
            rows.append(list(out))
    assert odd > 100 and imu.overflows == 0
    assert chip.fifo_overflows == 0 and len(chip.fifo) <= 1
    got = np.array(rows)
    want = want_rows(acc[k0 : k0 + len(got)], gyr[k0 : k0 + len(got)], DIY, 0x23)
    np.testing.assert_array_equal(got, want)


def test_buffer_smaller_than_the_fifo_reads_the_rest_next_time():
    chip, imu = make(*still_board(3000))
    imu.self_test()
    imu.configure(4, 0x23)
    chip.advance(0.2)  # 41-42 samples
    held = len(chip.fifo) // 2
    buf = bytearray(10 * SAMPLE_SIZE)
    assert imu.read_fifo(buf) == 10 and imu.fifo_samples == held
    assert len(chip.fifo) == 2 * (held - 10)


def test_overflow_is_counted_and_the_fifo_reset():
    chip, imu = make(*still_board(5000))
    assert imu.self_test() == p.FAULT_NONE
    imu.configure(4, 0x23)
    buf = bytearray(imu.fifo_size)
    k = chip.sample_count
    chip.advance(1.0)  # 208 samples = 416 words: fits
    assert imu.read_fifo(buf) == chip.sample_count - k == 208 and imu.overflows == 0
    k = chip.sample_count
    chip.advance(1.5)  # 312 samples = 624 words > 512: the oldest 112 words overwritten
    assert chip.fifo_overflows == 2 * (chip.sample_count - k) - FIFO_WORDS
    assert len(chip.fifo) == FIFO_WORDS
    assert chip.readfrom_mem(0x6A, 0x3B, 1)[0] & 0x40  # FIFO_OVR_IA
    assert imu.read_fifo(buf) == 0 and imu.overflows == 1
    assert not chip.fifo and chip.regs[0x0A] == 0x06  # emptied, continuous again
    chip.advance(0.05)
    assert imu.read_fifo(buf) == 10 and imu.overflows == 1


def test_a_latched_overflow_alone_is_counted():
    """Words overwritten and then read down below full: only FIFO_OVR_LATCHED tells."""
    chip, imu = make(*still_board(5000))
    imu.self_test()
    imu.configure(4, 0x23)
    chip.advance(1.3)  # 270 samples: 540 words, 28 overwritten
    chip.readfrom_mem(0x6A, 0x78, 7 * 10)  # someone else pops 10 words
    assert imu.read_fifo(bytearray(imu.fifo_size)) == 0 and imu.overflows == 1


def test_a_mismatched_pair_is_treated_as_an_overflow():
    chip, imu = make(*still_board(5000))
    imu.self_test()
    imu.configure(4, 0x23)
    chip.advance(0.1)
    chip.readfrom_mem(0x6A, 0x78, 7)  # one word gone: the stream starts with half a pair
    assert len(chip.fifo) % 2 == 1
    chip.advance(0.005)
    assert imu.read_fifo(bytearray(imu.fifo_size)) == 0 and imu.overflows == 1
    assert not chip.fifo


def test_model_fifo_words_tags_and_burst_rollback():
    chip, imu = make(*still_board(5000))
    imu.self_test()
    imu.configure(4, 0x23)
    k0 = chip.sample_count
    chip.advance(3 / 208 + 1e-6)  # 3 samples = 6 words
    assert chip.readfrom_mem(0x6A, 0x3A, 2) == bytes([6, 0])
    data = chip.readfrom_mem(0x6A, 0x78, 7 * 6 + 7)  # one burst; the last word: empty
    tags = [data[7 * w] for w in range(7)]
    assert tags[:6] == [tag_byte(s, k0 + w // 2) for w, s in zip(range(6), (1, 2) * 3)]
    assert [t >> 3 for t in tags] == [1, 2, 1, 2, 1, 2, 0] and data[42:] == bytes(7)
    assert chip.sample_count == k0 + 3
    assert data[29:35] == chip.regs[0x22:0x28] and data[36:42] == chip.regs[0x28:0x2E]
    assert chip.readfrom_mem(0x6A, 0x3A, 2) == b"\x00\x00"


def test_model_fifo_mode_stops_when_full():
    chip, imu = make(*still_board(5000))
    imu.self_test()
    imu.configure(4, 0x23)
    chip.writeto_mem(0x6A, 0x0A, bytes([0x00]))
    chip.writeto_mem(0x6A, 0x0A, bytes([0x01]))  # FIFO mode
    k = chip.sample_count
    chip.advance(2.0)
    assert len(chip.fifo) == FIFO_WORDS and chip.fifo[0][0] == tag_byte(1, k)


def test_model_software_reset_restores_defaults():
    chip, imu = make(*still_board(5000))
    imu.self_test()
    imu.configure(4, 0x23)
    chip.advance(0.1)
    chip.writeto_mem(0x6A, 0x12, bytes([0x05]))
    assert chip.regs[0x12] == 0x04 and chip.regs[0x10] == 0 and not chip.fifo
    assert chip.rate_hz() == 0


# --- end to end ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def recording():
    """Stand, then run, sampled at 208 Hz x (1 + rate error), ±16 g, ±1000 deg/s, with noise."""
    return scenario("treadmill_quick", seed=4, rate_hz=208)


def test_thirty_seconds_at_208_hz_arrive_whole(recording):
    """Simulator -> chip model -> driver -> sampler -> packets -> host decoder, no loss."""
    axes = AXES["diy_esp32"]
    source = ArraySource(
        to_chip_axes(recording.acc_ms2, axes), to_chip_axes(recording.gyr_dps, axes)
    )
    chip = Lsm6dsoxModel(source, clock_error=recording.spec.rate_error, pair_gap_s=0.0005)
    imu = Lsm6dsox(chip, axes=axes, sleep_ms=lambda ms: chip.advance(ms / 1000))
    offset = MASK - 10_000_000  # the device clock wraps 10 s into the run

    def ticks_us():
        return (int(chip.time_s * 1e6 * (1 + recording.spec.clock_error)) + offset) & MASK

    sent = []
    sampler = Sampler(
        imu, ticks_us, packet.SamplePacker(244), lambda b: sent.append(bytes(b)), boot=7
    )
    assert imu.self_test() == p.FAULT_NONE
    assert imu.configure(4, 0x23) == 4
    sampler.start()
    k0 = chip.fifo_reset_sample
    rng = np.random.default_rng(5)
    end = chip.time_s + 30.0
    while chip.time_s < end:
        chip.advance(rng.uniform(0.005, 0.080))
        sampler.poll()
    sampler.flush()
    produced = chip.sample_count - k0
    d = decode_packets(sent)
    assert not d.errors and produced >= 30 * 208
    idx = d.seq[d.sample_packet].astype(np.int64) + d.sample_offset
    consumed = len(idx)
    assert produced - consumed <= 1  # at most the newest slot's second word is still pending
    np.testing.assert_array_equal(idx, np.arange(consumed))
    rows = slice(k0, k0 + consumed)
    np.testing.assert_array_equal(d.raw[:, 0:3], recording.sensor.acc_counts[rows])
    np.testing.assert_array_equal(d.raw[:, 3:6], recording.sensor.gyr_counts[rows])
    assert (d.rate_code == 4).all() and (d.fs_code == 0x23).all() and (d.boot == 7).all()
    assert imu.overflows == 0 and sampler.dropped == 0
    assert not (d.flags & p.FLAG_FIFO_OVERFLOW).any()
