"""Driver for the InvenSense MPU6886, MPU6050 and MPU6500 (I2C, hardware FIFO).

The bus is passed in; scratch buffers are allocated once; reading the FIFO and unpacking a
sample allocate nothing. Datasheets: MPU-6886 DS-000193 rev 1.1, MPU-6000/6050 RM-MPU-6000A-00
rev 4.2, MPU-6500 RM-MPU-6500A-00.

Notes
-----
- Sample rate: the parts sample at an internal 1 kHz (gyro DLPF on) divided by
  ``1 + SMPLRT_DIV``, so only 1000/n Hz is possible. 100 and 200 Hz are exact; for 104 and
  208 Hz the nearest divider gives 100 and 200 Hz (1000/9 = 111 Hz and 1000/4 = 250 Hz are
  farther). ``configure`` returns the rate code of the true rate, which the packets carry.
- Low-pass filter: gyro DLPF_CFG 2 (92 Hz on the MPU6886/6500, 98 Hz on the MPU6050) at
  200 Hz, 3 (41 / 42 Hz) at 100 Hz, both below Nyquist; the accelerometer's own filter
  (ACCEL_CONFIG2 on the MPU6886/6500) is set alike; the MPU6050's CONFIG filters both.
- FIFO format: samples are written in register order. On the MPU6886 FIFO_EN has only
  GYRO_FIFO_EN (bit 4) and ACCEL_FIFO_EN (bit 3), and the temperature is written with them,
  so one sample is 14 bytes: accel x, y, z, temperature, gyro x, y, z (big-endian int16) —
  as for its register-compatible sibling ICM-20602. The MPU6050/6500 have a separate
  TEMP_FIFO_EN (bit 7) and per-axis gyro bits (6-4); we set all of them (0xF8) so every part
  gives the same 14-byte layout.
- FIFO size: 1024 bytes (MPU6886, MPU6050), 512 bytes (MPU6500 default). Overflow: with
  CONFIG.FIFO_MODE = 0 (the default, and the MPU6050's only mode) a full FIFO keeps
  accepting samples and drops the oldest bytes; INT_STATUS.FIFO_OFLOW_INT (bit 4) is set and
  cleared by reading INT_STATUS. As the FIFO size is no multiple of 14, the oldest sample is
  then cut and the byte stream misaligned, so on an overflow (or a count that is no multiple
  of 14) the driver discards the FIFO (USER_CTRL.FIFO_RST) and counts it in ``overflows``.
- ``self_test`` checks readings, not the parts' built-in self-test (the XG_ST/XA_ST bits and
  factory trim): nothing answers on the bus -> FAULT_IMU_MISSING; readings all zero, all 0xFF,
  unchanged over 8 reads 5 ms apart, |acc| outside 0.5-1.5 g (the board must be roughly still)
  or a die temperature outside -40..85 °C -> FAULT_IMU_SELF_TEST.
"""

from hipdrop_fw import protocol
from hipdrop_fw.compat import const
from hipdrop_fw.compat import sleep_ms as _sleep_ms
from hipdrop_fw.imu.base import ImuDriver

_SMPLRT_DIV = const(0x19)
_CONFIG = const(0x1A)
_GYRO_CONFIG = const(0x1B)
_ACCEL_CONFIG = const(0x1C)
_ACCEL_CONFIG2 = const(0x1D)
_FIFO_EN = const(0x23)
_INT_STATUS = const(0x3A)
_ACCEL_XOUT_H = const(0x3B)
_TEMP_OUT_H = const(0x41)
_USER_CTRL = const(0x6A)
_PWR_MGMT_1 = const(0x6B)
_FIFO_COUNTH = const(0x72)
_FIFO_R_W = const(0x74)
_WHO_AM_I = const(0x75)

_INT_FIFO_OFLOW = const(0x10)
_USER_FIFO_EN = const(0x40)
_USER_FIFO_RST = const(0x04)
_PWR_RESET = const(0x80)
_PWR_CLK_PLL = const(0x01)  # awake, auto-selected PLL clock
_FIFO_COUNT_MASK = const(0x1FFF)
_INTERNAL_HZ = const(1000)
_RESET_MS = const(100)
_WAKE_MS = const(10)

SAMPLE_SIZE = 14  # accel 6, temperature 2, gyro 6
_GYRO_AT = const(8)

# WHO_AM_I -> (part, FIFO_EN value, FIFO bytes, has ACCEL_CONFIG2, temp LSB/°C, temp offset °C)
PARTS = {
    0x19: ("mpu6886", 0x18, 1024, True, 326.8, 25.0),
    0x68: ("mpu6050", 0xF8, 1024, False, 340.0, 36.53),
    0x70: ("mpu6500", 0xF8, 512, True, 333.87, 21.0),
}


def nearest_divider(rate_hz):
    """SMPLRT_DIV whose rate 1000 / (1 + div) Hz is nearest ``rate_hz``."""
    best = 0
    for div in range(256):
        if abs(_INTERNAL_HZ / (1 + div) - rate_hz) < abs(_INTERNAL_HZ / (1 + best) - rate_hz):
            best = div
    return best


def dlpf_cfg(rate_hz):
    """DLPF_CFG (gyro and accel) with its 3-dB bandwidth below half of ``rate_hz``."""
    return 2 if rate_hz >= 150 else 3


def axis_map(axes):
    """(byte offset, sign) pairs for the six board-axis outputs of one FIFO sample."""
    pairs = []
    for base in (0, _GYRO_AT):
        for src, sign in axes:
            pairs.append(base + 2 * src)
            pairs.append(sign)
    return tuple(pairs)


class Mpu6886(ImuDriver):
    """One MPU6886 / MPU6050 / MPU6500 on ``i2c`` at ``addr``; ``axes`` from the board profile.

    ``sleep_ms`` waits after reset and between self-test reads (``time.sleep_ms`` by default;
    the virtual sensor passes its fake clock).
    """

    _SNAP_REG = _ACCEL_XOUT_H
    _SNAP_SIZE = SAMPLE_SIZE
    _ACC_AT = 0
    _SELF_TEST_RATE_CODE = 3  # 200 Hz

    def __init__(self, i2c, addr=0x68, axes=((0, 1), (1, 1), (2, 1)), sleep_ms=None):
        super().__init__(i2c, addr, axis_map(axes), sleep_ms or _sleep_ms)
        self._info = PARTS[0x19]
        self.fifo_size = self._info[2]

    # --- identity and health ---------------------------------------------------------
    def probe(self):
        """Part name from WHO_AM_I (``mpu6886``, ``mpu6050``, ``mpu6500``) or None."""
        try:
            info = PARTS.get(self._read(_WHO_AM_I))
        except OSError:  # no ACK: ENODEV on the ESP32
            return None
        if info is not None:
            self._info = info
            self.part = info[0]
            self.fifo_size = info[2]
        return self.part if info is not None else None

    def reset(self):
        """Reset every register, then wake with the PLL clock."""
        self._write(_PWR_MGMT_1, _PWR_RESET)
        self._sleep_ms(_RESET_MS)
        self._write(_PWR_MGMT_1, _PWR_CLK_PLL)
        self._sleep_ms(_WAKE_MS)

    def _int16(self, buf, at):
        return _int16(buf, at)

    def temperature_c(self):
        """Die temperature in °C from TEMP_OUT (a float: not for the per-sample path)."""
        self._i2c.readfrom_mem_into(self.addr, _TEMP_OUT_H, self._b2)
        return _int16(self._b2, 0) / self._info[4] + self._info[5]

    # --- configuration ---------------------------------------------------------------
    def configure(self, rate_code, fs_code):
        """Set rate, ranges and filters, start the FIFO empty; return the true rate code.

        ``rate_code`` and ``fs_code`` as in docs/protocol.md §3; ValueError if invalid.
        """
        self._check_config(rate_code, fs_code)
        div = nearest_divider(protocol.RATE_HZ[rate_code])
        self.period_us = 1000 * (1 + div)
        self.rate_hz = _INTERNAL_HZ // (1 + div)
        self.rate_code = rate_code
        for code, hz in protocol.RATE_HZ.items():
            if hz == self.rate_hz:
                self.rate_code = code
        self.fs_code = fs_code
        self._write_config(div, dlpf_cfg(self.rate_hz), fs_code)
        return self.rate_code

    def _write_config(self, div, dlpf, fs_code):
        self._write(_PWR_MGMT_1, _PWR_CLK_PLL)
        self._write(_USER_CTRL, 0)
        self._write(_FIFO_EN, 0)
        self._write(_SMPLRT_DIV, div)
        self._write(_CONFIG, dlpf)  # FIFO_MODE 0: a full FIFO drops its oldest bytes
        self._write(_GYRO_CONFIG, ((fs_code >> 4) & 3) << 3)  # FCHOICE_B 00: DLPF on
        self._write(_ACCEL_CONFIG, (fs_code & 3) << 3)
        if self._info[3]:
            self._write(_ACCEL_CONFIG2, dlpf)
        self._write(_FIFO_EN, self._info[1])
        self.fifo_reset()

    def fifo_reset(self):
        """Empty the FIFO and clear a pending overflow flag."""
        self._write(_USER_CTRL, _USER_FIFO_EN | _USER_FIFO_RST)
        self._read(_INT_STATUS)
        self.fifo_samples = 0

    # --- sampling --------------------------------------------------------------------
    def read_fifo(self, buf):
        """Read the FIFO's complete samples into ``buf`` in one burst; return how many.

        ``fifo_samples`` is set to the complete samples the FIFO held when counted (more than
        returned only if ``buf`` is too small). After an overflow the FIFO is reset,
        ``overflows`` incremented and 0 returned.
        """
        i2c = self._i2c
        b2 = self._b2
        status = self._read(_INT_STATUS)
        i2c.readfrom_mem_into(self.addr, _FIFO_COUNTH, b2)
        count = ((b2[0] << 8) | b2[1]) & _FIFO_COUNT_MASK
        n = count // SAMPLE_SIZE
        if status & _INT_FIFO_OFLOW or count >= self.fifo_size or count - n * SAMPLE_SIZE:
            self.overflows += 1
            self.fifo_reset()
            return 0
        self.fifo_samples = n
        room = len(buf) // SAMPLE_SIZE
        if n > room:
            n = room
        if n:
            i2c.readfrom_mem_into(self.addr, _FIFO_R_W, memoryview(buf)[: n * SAMPLE_SIZE])
        return n

    def unpack(self, buf, i, out):
        """Write sample ``i`` of ``buf`` into ``out[0:6]`` as board-axis int16 counts.

        ``out[0:3]`` accelerometer x, y, z, ``out[3:6]`` gyroscope; a negated -32768
        saturates at 32767. Allocates nothing.
        """
        base = i * SAMPLE_SIZE
        m = self._map
        for k in range(6):
            at = base + m[2 * k]
            v = (buf[at] << 8) | buf[at + 1]
            if v & 0x8000:
                v -= 0x10000
            if m[2 * k + 1] < 0:
                v = 32767 if v == -32768 else -v
            out[k] = v


def _int16(buf, at):
    """Big-endian int16 at ``buf[at]``."""
    v = (buf[at] << 8) | buf[at + 1]
    return v - 0x10000 if v & 0x8000 else v
