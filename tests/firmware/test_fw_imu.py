"""The MPU6886-family driver against the register-level chip model (host/hipdrop/vsensor)."""

import errno

import numpy as np
import pytest
from fw_support import read_all, still_board

from hipdrop.vsensor.mpu6886 import ArraySource, Mpu6886Model, quantise, to_chip_axes
from hipdrop_fw import boards
from hipdrop_fw import protocol as p
from hipdrop_fw.imu.mpu6886 import SAMPLE_SIZE, Mpu6886

G = 9.80665
PARTS = {"mpu6886": 0x19, "mpu6050": 0x68, "mpu6500": 0x70}
AXES = {name: boards.load(name).AXES for name in boards.BOARDS}


def make(acc_board, gyr_board, axes, part="mpu6886", temperature_c=25.0, **kw):
    """The chip fed with board-axis samples, and its driver on the chip's fake clock."""
    source = ArraySource(
        to_chip_axes(acc_board, axes), to_chip_axes(gyr_board, axes), temperature_c
    )
    chip = Mpu6886Model(source, part=part, **kw)
    imu = Mpu6886(chip, axes=axes, sleep_ms=lambda ms: chip.advance(ms / 1000))
    return chip, imu


@pytest.mark.parametrize(("part", "who_am_i"), PARTS.items())
def test_probe_names_every_part(part, who_am_i):
    chip, imu = make(*still_board(2000), AXES["diy_esp32"], part=part)
    assert chip.readfrom_mem(0x68, 0x75, 1) == bytes([who_am_i])
    assert imu.probe() == part
    assert imu.fifo_size == (512 if part == "mpu6500" else 1024)
    assert chip.scan() == [0x68]


@pytest.mark.parametrize("part", PARTS)
def test_self_test_passes_on_a_still_board(part):
    chip, imu = make(*still_board(2000), AXES["m5stickc_plus2"], part=part, temperature_c=31.5)
    assert imu.self_test() == p.FAULT_NONE
    assert imu.temperature_c() == pytest.approx(31.5, abs=0.01)


def test_missing_imu():
    chip, imu = make(*still_board(100), AXES["diy_esp32"], present=False)
    with pytest.raises(OSError) as err:
        chip.readfrom_mem(0x68, 0x75, 1)
    assert err.value.errno == errno.ENODEV == 19
    assert chip.scan() == []
    assert imu.probe() is None
    assert imu.self_test() == p.FAULT_IMU_MISSING
    with pytest.raises(OSError):
        imu.configure(3, 0x23)


def test_wrong_address_is_missing():
    chip, _ = make(*still_board(100), AXES["diy_esp32"])
    imu = Mpu6886(chip, addr=0x69, sleep_ms=lambda ms: chip.advance(ms / 1000))
    assert imu.self_test() == p.FAULT_IMU_MISSING


@pytest.mark.parametrize(
    ("case", "acc", "gyr"),
    [
        ("stuck", [0.3, -0.2, G], [0.5, -0.4, 0.2]),  # a noiseless, unchanging output
        ("all zero", [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]),
        ("3 g at rest", [0.0, 0.0, 3 * G], [0.5, -0.4, 0.2]),
        ("no gravity", [0.0, 0.0, 0.1 * G], [0.5, -0.4, 0.2]),
    ],
)
def test_self_test_rejects_nonsense(case, acc, gyr):
    n = 2000
    rng = np.random.default_rng(1)
    jitter = 0.0 if case in ("stuck", "all zero") else 0.02
    acc_b = np.tile(acc, (n, 1)) + jitter * rng.standard_normal((n, 3))
    chip, imu = make(acc_b, np.tile(gyr, (n, 1)), AXES["diy_esp32"])
    assert imu.self_test() == p.FAULT_IMU_SELF_TEST, case


def test_self_test_rejects_nonsense_temperature():
    chip, imu = make(*still_board(2000), AXES["diy_esp32"], temperature_c=-60.0)
    assert imu.self_test() == p.FAULT_IMU_SELF_TEST


# rate_code -> (SMPLRT_DIV, DLPF_CFG, true Hz, true rate code)
RATES = {1: (9, 3, 100, 1), 2: (9, 3, 100, 1), 3: (4, 2, 200, 3), 4: (4, 2, 200, 3)}


@pytest.mark.parametrize("part", PARTS)
@pytest.mark.parametrize("rate_code", RATES)
@pytest.mark.parametrize("fs_code", [0x00, 0x12, 0x23, 0x31])
def test_configure_sets_registers(part, rate_code, fs_code):
    chip, imu = make(*still_board(3000), AXES["diy_esp32"], part=part)
    imu.probe()
    imu.reset()
    div, dlpf, hz, true_code = RATES[rate_code]
    assert imu.configure(rate_code, fs_code) == true_code == imu.rate_code
    regs = chip.regs
    assert regs[0x6B] == 0x01  # awake, PLL clock
    assert regs[0x19] == div and regs[0x1A] == dlpf  # FIFO_MODE 0
    assert regs[0x1B] == (fs_code >> 4) << 3  # FS_SEL, FCHOICE_B 00
    assert regs[0x1C] == (fs_code & 3) << 3
    assert regs[0x1D] == (0 if part == "mpu6050" else dlpf)  # the MPU6050 has no ACCEL_CONFIG2
    assert regs[0x23] == (0x18 if part == "mpu6886" else 0xF8)
    assert regs[0x6A] == 0x40  # FIFO on; FIFO_RST self-cleared
    assert (imu.rate_hz, imu.period_us, imu.fs_code) == (hz, 1_000_000 // hz, fs_code)
    assert chip.rate_hz() == hz
    chip.advance(0.1)
    assert len(chip.fifo) == SAMPLE_SIZE * hz // 10  # 14 bytes per sample on every part


def test_configure_rejects_bad_codes():
    _, imu = make(*still_board(100), AXES["diy_esp32"])
    for rate_code, fs_code in ((0, 0), (5, 0), (3, 0x04), (3, 0x40)):
        with pytest.raises(ValueError):
            imu.configure(rate_code, fs_code)


@pytest.mark.parametrize("part", PARTS)
@pytest.mark.parametrize("board", boards.BOARDS)
@pytest.mark.parametrize("fs_code", [0x00, 0x33])
def test_fifo_reproduces_fed_samples_in_board_axes(part, board, fs_code):
    n = 1500
    rng = np.random.default_rng(7)
    acc_fs, gyr_fs = p.ACC_FS_G[fs_code & 3] * G, p.GYR_FS_DPS[fs_code >> 4]
    acc = rng.uniform(-1.2, 1.2, (n, 3)) * acc_fs  # some beyond full scale: saturated
    gyr = rng.uniform(-1.2, 1.2, (n, 3)) * gyr_fs
    chip, imu = make(acc, gyr, AXES[board], part=part)
    assert imu.probe() == part
    imu.reset()
    imu.configure(3, fs_code)
    k0 = chip.fifo_reset_sample
    got = read_all(imu, chip, 5.0)
    assert imu.overflows == 0 and abs(len(got) - 1000) <= 2  # 167 reads of 30 ms
    got = got[:1000]
    want = np.array(
        [
            [board_counts(v, acc_fs, sign) for v, (_, sign) in zip(a, AXES[board])]
            + [board_counts(v, gyr_fs, sign) for v, (_, sign) in zip(g, AXES[board])]
            for a, g in zip(acc[k0 : k0 + 1000], gyr[k0 : k0 + 1000])
        ]
    )
    assert (np.abs(want) >= 32767).any()  # saturation is exercised
    np.testing.assert_array_equal(got, want)


def board_counts(value, full_scale, sign):
    """The board-axis count of ``value``: the chip saturates at -32768 on its own axis, so a
    negated axis (sign -1) saturates at -32767 and +32767."""
    counts = quantise(value, full_scale)
    return -32767 if sign < 0 and counts == -32768 else counts


def test_overflow_is_counted_and_the_fifo_reset():
    chip, imu = make(*still_board(5000), AXES["m5stickc_plus2"])
    assert imu.self_test() == p.FAULT_NONE
    imu.configure(3, 0x23)
    buf = bytearray(imu.fifo_size)
    chip.advance(0.30)  # 60 samples: 840 bytes, fits
    assert imu.read_fifo(buf) == 60 and imu.fifo_samples == 60
    chip.advance(0.40)  # 80 samples, 1120 bytes > 1024
    assert chip.fifo_overflows == 7 and len(chip.fifo) == 1024
    assert imu.read_fifo(buf) == 0 and imu.overflows == 1
    assert not chip.fifo and chip.readfrom_mem(0x68, 0x3A, 1)[0] & 0x10 == 0
    chip.advance(0.05)
    assert imu.read_fifo(buf) == 10 and imu.overflows == 1


def test_model_overflow_drops_oldest_bytes_and_misaligns():
    """FIFO_MODE 0: the oldest bytes go, so the FIFO no longer starts on a sample."""
    chip, imu = make(*still_board(5000), AXES["diy_esp32"])
    imu.self_test()
    imu.configure(3, 0x23)  # ±16 g, ±1000 deg/s
    k0 = chip.fifo_reset_sample
    chip.advance(0.375)  # 75 samples = 1050 bytes: the first 26 bytes are lost
    assert chip.sample_count - k0 == 75 and chip.regs[0x3A] & 0x10
    fifo = bytes(chip.fifo)
    assert len(fifo) == 1024
    # what is left: the last 2 bytes (gyro z) of sample k0 + 1, then 73 whole samples
    assert fifo[:2] == chip_record(chip, k0 + 1)[12:]
    assert fifo[2:16] == chip_record(chip, k0 + 2)
    assert fifo[-14:] == chip_record(chip, k0 + 74) == chip.readfrom_mem(0x68, 0x3B, 14)


def chip_record(chip, k, acc_fs=16 * G, gyr_fs=1000):
    """The 14 bytes the chip writes for source sample ``k`` (accel, temperature, gyro)."""
    acc, gyr, temp_c = chip.source.sample(k)
    temp = round((temp_c - 25.0) * 326.8)
    counts = [quantise(v, acc_fs) for v in acc] + [temp] + [quantise(v, gyr_fs) for v in gyr]
    return b"".join((c & 0xFFFF).to_bytes(2, "big") for c in counts)


def test_model_fifo_mode_1_keeps_the_oldest():
    chip, imu = make(*still_board(5000), AXES["diy_esp32"])
    imu.self_test()
    imu.configure(3, 0x23)
    chip.writeto_mem(0x68, 0x1A, bytes([0x40 | 2]))  # FIFO_MODE 1 (re-anchors the clock)
    chip.writeto_mem(0x68, 0x6A, bytes([0x44]))
    chip.advance(0.5)  # 100 samples: only the first 73 fit
    assert len(chip.fifo) == 73 * 14 and chip.regs[0x3A] & 0x10


def test_model_fifo_reads_and_empty_read():
    chip, imu = make(*still_board(5000), AXES["diy_esp32"])
    imu.self_test()
    imu.configure(1, 0x23)
    chip.advance(0.02)  # 2 samples at 100 Hz
    assert chip.readfrom_mem(0x68, 0x72, 2) == (28).to_bytes(2, "big")
    data = chip.readfrom_mem(0x68, 0x74, 30)  # FIFO_R_W does not auto-increment
    assert data[28:] == data[27:28] * 2  # empty: the last byte again
    assert chip.readfrom_mem(0x68, 0x72, 2) == b"\x00\x00"


def test_to_chip_axes_inverts_the_profile_mapping():
    board = np.array([[1.0, 2.0, 3.0]])
    for axes in AXES.values():
        chip = to_chip_axes(board, axes)
        assert [sign * chip[0, src] for src, sign in axes] == [1.0, 2.0, 3.0]
