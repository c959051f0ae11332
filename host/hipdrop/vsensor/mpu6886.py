"""A register-level model of the MPU6886 / MPU6050 / MPU6500 behind a ``machine.I2C``-like API.

It stands in for the bus and the chip in the firmware tests and in the virtual sensor: the
firmware's driver talks to it through ``readfrom_mem_into``, ``readfrom_mem``, ``writeto_mem``
and ``scan`` exactly as to ``machine.I2C`` on the ESP32. It models the chip, so it imports
nothing from the firmware.

Time is a fake clock: ``advance(seconds)`` runs the chip's sample clock, which writes one
sample into the data registers (and, when enabled, the FIFO) per output-data-rate tick. Samples
come from a *source* in the chip's own axes (``ArraySource``: m/s² and deg/s, e.g. from
``hipdrop.sim``; ``to_chip_axes`` turns board-axis arrays into chip axes with a board profile's
``AXES``), quantised to int16 counts with the configured full-scale ranges.

Modelled from the datasheets (MPU-6886 DS-000193, MPU-6000/6050 RM-MPU-6000A-00 rev 4.2,
MPU-6500 RM-MPU-6500A-00):

- WHO_AM_I 0x19 / 0x68 / 0x70; PWR_MGMT_1 (DEVICE_RESET restores the defaults, SLEEP stops
  sampling; reset value 0x41 on the MPU6886, 0x40 on the others).
- Rate: 1 kHz / (1 + SMPLRT_DIV) when the gyro DLPF is on (DLPF_CFG 1-6, FCHOICE_B 0),
  else 8 kHz; times ``1 + clock_error`` (the part's oscillator error).
- FIFO: 1024 bytes (512 on the MPU6500); a sample is written in register order: accel,
  temperature, gyro for the enabled FIFO_EN bits (on the MPU6886 the temperature comes with
  either GYRO_FIFO_EN or ACCEL_FIFO_EN; the MPU6050/6500 have TEMP_FIFO_EN and per-axis gyro
  bits). USER_CTRL.FIFO_EN gates writes, USER_CTRL.FIFO_RST empties it.
- Overflow, CONFIG.FIFO_MODE = 0 (default; the MPU6050 has no other mode): "when the FIFO
  buffer has overflowed, the oldest data will be lost and new data will be written to the
  FIFO", byte by byte, so the oldest sample is cut and the stream misaligned; with
  FIFO_MODE = 1 (MPU6886/6500) new samples are dropped instead. Either way
  INT_STATUS.FIFO_OFLOW_INT (bit 4) is set; reading INT_STATUS clears it (and DATA_RDY_INT).
- FIFO_COUNTH/L give the byte count; FIFO_R_W pops bytes, does not auto-increment in a burst,
  and returns the last byte read when the FIFO is empty (as the MPU6050 map says). Other
  registers auto-increment in bursts.
- A device that is absent (or another address) raises ``OSError(19)`` (ENODEV), as MicroPython
  does on the ESP32 when the address is not acknowledged.
"""

from dataclasses import dataclass

import numpy as np

from .i2c_chip import I2cChip

G_MS2 = 9.80665
INT16_FULL_SCALE = 32768

SMPLRT_DIV = 0x19
CONFIG = 0x1A
GYRO_CONFIG = 0x1B
ACCEL_CONFIG = 0x1C
ACCEL_CONFIG2 = 0x1D
FIFO_EN = 0x23
INT_STATUS = 0x3A
ACCEL_XOUT_H = 0x3B
TEMP_OUT_H = 0x41
GYRO_XOUT_H = 0x43
USER_CTRL = 0x6A
PWR_MGMT_1 = 0x6B
FIFO_COUNTH = 0x72
FIFO_COUNTL = 0x73
FIFO_R_W = 0x74
WHO_AM_I = 0x75

INT_FIFO_OFLOW = 0x10
INT_DATA_RDY = 0x01
USER_FIFO_EN = 0x40
USER_FIFO_RST = 0x04
PWR_RESET = 0x80
PWR_SLEEP = 0x40
CONFIG_FIFO_MODE = 0x40


@dataclass(frozen=True)
class Part:
    name: str
    who_am_i: int
    fifo_bytes: int
    pwr_mgmt_1_reset: int
    temp_lsb_per_c: float
    temp_offset_c: float
    has_fifo_mode: bool


PARTS = {
    "mpu6886": Part("mpu6886", 0x19, 1024, 0x41, 326.8, 25.0, True),
    "mpu6050": Part("mpu6050", 0x68, 1024, 0x40, 340.0, 36.53, False),
    "mpu6500": Part("mpu6500", 0x70, 512, 0x40, 333.87, 21.0, True),
}
ACC_FS_G = (2, 4, 8, 16)
GYR_FS_DPS = (250, 500, 1000, 2000)


class ArraySource:
    """Samples ``k`` = 0, 1, … of the chip's output, in chip axes: acc m/s², gyr deg/s, °C.

    ``temperature_c`` is a constant or one value per sample. Asking past the end raises
    IndexError: size the arrays for the time the test runs the chip.
    """

    def __init__(self, acc_ms2, gyr_dps, temperature_c=25.0):
        self.acc_ms2 = np.asarray(acc_ms2, dtype=float)
        self.gyr_dps = np.asarray(gyr_dps, dtype=float)
        self.temperature_c = np.broadcast_to(np.asarray(temperature_c, float), len(self.acc_ms2))

    def __len__(self):
        return len(self.acc_ms2)

    def sample(self, k):
        if k >= len(self.acc_ms2):
            raise IndexError(f"the sample source holds {len(self.acc_ms2)} samples, asked for {k}")
        return self.acc_ms2[k], self.gyr_dps[k], float(self.temperature_c[k])


def to_chip_axes(board_xyz, axes):
    """Board-axis vectors (n, 3) in the chip's axes, for a profile's ``AXES``.

    ``AXES`` says ``board[k] = sign * chip[source]``, so ``chip[source] = sign * board[k]``.
    """
    board_xyz = np.asarray(board_xyz)
    chip = np.empty_like(board_xyz)
    for k, (source, sign) in enumerate(axes):
        chip[..., source] = sign * board_xyz[..., k]
    return chip


def quantise(value, full_scale):
    """int16 counts of ``value`` on a ±``full_scale`` range, saturating like the part."""
    counts = round(value / full_scale * INT16_FULL_SCALE)
    return min(max(counts, -INT16_FULL_SCALE), INT16_FULL_SCALE - 1)


class Mpu6886Model(I2cChip):
    """The chip and its bus: ``machine.I2C`` methods plus ``advance(seconds)``.

    ``present=False`` models a missing or dead IMU (every access raises ENODEV).
    ``sample_time_s[k]`` is the fake-clock time at which output sample ``k`` was taken;
    ``fifo_reset_sample`` the index of the first sample written after the last FIFO reset.
    """

    def __init__(self, source, part="mpu6886", addr=0x68, clock_error=0.0, present=True):
        self.source = source
        self.part = PARTS[part]
        self.addr = addr
        self.clock_error = clock_error
        self.present = present
        self.time_s = 0.0
        self.sample_count = 0
        self.sample_time_s: list[float] = []
        self.fifo = bytearray()
        self.fifo_reset_sample = 0
        self.fifo_overflows = 0
        self._last_fifo_byte = 0
        self._reset_registers()

    # --- machine.I2C -----------------------------------------------------------------
    def readfrom_mem_into(self, addr, memaddr, buf):
        self._check(addr)
        reg = memaddr
        for i in range(len(buf)):
            buf[i] = self._read_register(reg)
            if reg != FIFO_R_W:
                reg = (reg + 1) & 0xFF

    # --- the fake clock --------------------------------------------------------------
    def advance(self, seconds):
        """Run the chip for ``seconds`` of the fake clock, taking every sample due."""
        end = self.time_s + seconds
        while self._sampling():
            t = self._anchor_t + (self._since_anchor + 1) / self.rate_hz()
            if t > end:
                break
            self._since_anchor += 1
            self._take_sample(t)
        self.time_s = end

    def rate_hz(self):
        """True output data rate of the current configuration."""
        r = self.regs
        dlpf_on = 1 <= r[CONFIG] & 7 <= 6 and not r[GYRO_CONFIG] & 3
        if self.part.name == "mpu6050":
            base = 1000 if dlpf_on else 8000
            return base / (1 + r[SMPLRT_DIV]) * (1 + self.clock_error)
        rate = 1000 / (1 + r[SMPLRT_DIV]) if dlpf_on else 8000
        return rate * (1 + self.clock_error)

    def _sampling(self):
        return not self.regs[PWR_MGMT_1] & PWR_SLEEP

    def _reanchor(self):
        self._anchor_t = self.time_s
        self._since_anchor = 0

    # --- registers -------------------------------------------------------------------
    def _reset_registers(self):
        self.regs = bytearray(256)
        self.regs[WHO_AM_I] = self.part.who_am_i
        self.regs[PWR_MGMT_1] = self.part.pwr_mgmt_1_reset
        self.fifo.clear()
        self._reanchor()

    def _read_register(self, reg):
        if reg == FIFO_R_W:
            if self.fifo:
                self._last_fifo_byte = self.fifo.pop(0)
            return self._last_fifo_byte
        if reg == FIFO_COUNTH:
            return len(self.fifo) >> 8
        if reg == FIFO_COUNTL:
            return len(self.fifo) & 0xFF
        value = self.regs[reg]
        if reg == INT_STATUS:
            self.regs[INT_STATUS] = 0
        return value

    def _write_register(self, reg, value):
        if reg in (WHO_AM_I, INT_STATUS) or ACCEL_XOUT_H <= reg <= GYRO_XOUT_H + 5:
            return  # read-only
        if reg == FIFO_R_W:
            return  # host writes into the FIFO are not modelled
        if reg == PWR_MGMT_1 and value & PWR_RESET:
            self._reset_registers()
            return
        if reg == CONFIG and not self.part.has_fifo_mode:
            value &= ~CONFIG_FIFO_MODE
        woke = reg == PWR_MGMT_1 and self.regs[reg] & PWR_SLEEP and not value & PWR_SLEEP
        if reg == USER_CTRL and value & USER_FIFO_RST:
            self.fifo.clear()
            self.fifo_reset_sample = self.sample_count
            value &= ~USER_FIFO_RST  # self-clearing
        self.regs[reg] = value
        if woke or reg in (SMPLRT_DIV, CONFIG, GYRO_CONFIG):
            self._reanchor()

    # --- sampling --------------------------------------------------------------------
    def _take_sample(self, t):
        acc, gyr, temp_c = self.source.sample(self.sample_count)
        acc_fs = ACC_FS_G[(self.regs[ACCEL_CONFIG] >> 3) & 3] * G_MS2
        gyr_fs = GYR_FS_DPS[(self.regs[GYRO_CONFIG] >> 3) & 3]
        counts = [quantise(v, acc_fs) for v in acc]
        temp = round((temp_c - self.part.temp_offset_c) * self.part.temp_lsb_per_c)
        counts.append(min(max(temp, -INT16_FULL_SCALE), INT16_FULL_SCALE - 1))
        counts += [quantise(v, gyr_fs) for v in gyr]
        data = b"".join((c & 0xFFFF).to_bytes(2, "big") for c in counts)
        self.regs[ACCEL_XOUT_H : ACCEL_XOUT_H + 14] = data
        self.regs[INT_STATUS] |= INT_DATA_RDY
        self.sample_count += 1
        self.sample_time_s.append(t)
        if self.regs[USER_CTRL] & USER_FIFO_EN:
            self._fifo_write(self._fifo_record(data))

    def _fifo_record(self, data):
        """The bytes one sample writes into the FIFO for the current FIFO_EN bits."""
        en = self.regs[FIFO_EN]
        acc, temp, gyr = data[0:6], data[6:8], data[8:14]
        if self.part.name == "mpu6886":  # bit 4 gyro, bit 3 accel; temperature with either
            parts = [acc if en & 0x08 else b"", temp if en & 0x18 else b""]
            return b"".join(parts + [gyr if en & 0x10 else b""])
        gyro_axes = b"".join(gyr[2 * i : 2 * i + 2] for i in range(3) if en & (0x40 >> i))
        return (acc if en & 0x08 else b"") + (temp if en & 0x80 else b"") + gyro_axes

    def _fifo_write(self, record):
        if not record:
            return
        capacity = self.part.fifo_bytes
        if len(self.fifo) + len(record) > capacity:
            self.regs[INT_STATUS] |= INT_FIFO_OFLOW
            self.fifo_overflows += 1
            if self.regs[CONFIG] & CONFIG_FIFO_MODE:
                return  # FIFO_MODE 1: a full FIFO takes no more samples
            del self.fifo[: len(self.fifo) + len(record) - capacity]  # the oldest bytes go
        self.fifo += record
