"""Driver for the ST LSM6DSOX (and LSM6DSO, same WHO_AM_I 0x6C) on I2C, through its tagged FIFO.

Same interface as ``imu.mpu6886.Mpu6886`` (see ``imu/__init__``), so the sampler runs it
unchanged. The bus is passed in; scratch buffers are allocated once; ``read_fifo`` and
``unpack`` allocate nothing. Register facts from the LSM6DSOX/LSM6DSO datasheets (register
map, FIFO chapter) and micropython-lib's ``drivers/imu/lsm6dsox`` (WHO_AM_I, ODR and
full-scale codes); the FIFO depth from Linux ``st_lsm6dsx`` (512 words for WHO_AM_I 0x6C).

Notes
-----
- Rates: the accelerometer and gyroscope output data rates are the fixed steps 52, 104, 208,
  416 Hz…, so 104 and 208 Hz (rate codes 2 and 4) are native. A 100 Hz request runs at
  104 Hz and a 200 Hz request at 208 Hz (the nearest steps); ``configure`` returns the true
  rate code, which the packets carry. ``period_us`` is 1e6 / rate rounded to an integer
  (9615 and 4808 µs); the sampler re-anchors its timestamps on every read, so the 0.4 µs
  rounding never accumulates beyond one burst.
- Filters: accelerometer LPF2 on with HPCF_XL = 000 (bandwidth ODR/4: 26 Hz at 104 Hz,
  52 Hz at 208 Hz, as micropython-lib's driver sets it); gyroscope at its default chain
  (LPF1 off), high-performance mode for both (the reset default).
- CTRL3_C: BDU (bit 6) so a data-register read never mixes two samples, IF_INC (bit 2,
  reset default) for bursts.
- FIFO: accelerometer and gyroscope batched at their ODR (FIFO_CTRL3 BDR_GY / BDR_XL, same
  codes as the ODR), no temperature or timestamp batching, no compression, continuous mode
  (FIFO_CTRL4 FIFO_MODE = 110). Each FIFO word is 7 bytes: FIFO_DATA_OUT_TAG (TAG_SENSOR in
  bits 7-3: 0x01 gyroscope, 0x02 accelerometer; TAG_CNT in bits 2-1, the time slot; a parity
  bit) and X, Y, Z as little-endian int16. A burst from FIFO_DATA_OUT_TAG (0x78) rolls back
  from 0x7E to 0x78, so any number of words is read in one transaction. FIFO_STATUS1/2 give
  the unread words (DIFF_FIFO, 10 bits), FIFO_OVR_IA (bit 6 of FIFO_STATUS2: completely
  filled) and FIFO_OVR_LATCHED (bit 3, cleared by reading FIFO_STATUS2).
- FIFO size: the datasheet's "up to 9 kbytes" counts compressed data; uncompressed it holds
  512 words of 6 data bytes, 256 samples (1.23 s at 208 Hz, 2.46 s at 104 Hz). ``fifo_size``
  is 512 x 7 = 3584 bytes, what one burst of the whole FIFO reads.
- Samples: a sample is two words of one time slot, a gyroscope and an accelerometer word
  with the same TAG_CNT, in either order (``SAMPLE_SIZE`` = 14 bytes as read).
  ``read_fifo`` reads only whole pairs: when the FIFO holds an odd number of words (a slot
  whose second word was not yet written when counted), the odd word stays in the chip and
  opens the next read, so a pair split across reads is never lost or mis-paired. A pair
  whose tags are not {gyroscope, accelerometer} or whose TAG_CNT differ means the stream
  lost its step; it is handled like an overflow.
- Overflow: in continuous mode a full FIFO overwrites its oldest word with each new one, so
  the stream loses words one at a time and may begin with half a pair. On FIFO_OVR_IA,
  FIFO_OVR_LATCHED or a full count the driver discards the FIFO (FIFO_MODE bypass, which
  empties it, then continuous again) and counts it in ``overflows``; the read returns 0 and
  the sampler accounts for the loss.
- ``self_test`` checks readings, not the part's built-in self-test (CTRL5_C ST bits):
  nothing answers on the bus -> FAULT_IMU_MISSING; readings all zero, all 0xFF, unchanged
  over 8 reads 5 ms apart, |acc| outside 0.5-1.5 g (the board must be roughly still) or a
  die temperature outside -40..85 °C -> FAULT_IMU_SELF_TEST.
"""

from hipdrop_fw import protocol
from hipdrop_fw.compat import const
from hipdrop_fw.compat import sleep_ms as _sleep_ms
from hipdrop_fw.imu.base import ImuDriver

_FIFO_CTRL2 = const(0x08)
_FIFO_CTRL3 = const(0x09)
_FIFO_CTRL4 = const(0x0A)
_WHO_AM_I = const(0x0F)
_CTRL1_XL = const(0x10)
_CTRL2_G = const(0x11)
_CTRL3_C = const(0x12)
_CTRL8_XL = const(0x17)
_OUT_TEMP_L = const(0x20)
_OUTX_L_G = const(0x22)  # gyro x, y, z then accel x, y, z (0x28): 12 bytes
_FIFO_STATUS1 = const(0x3A)
_FIFO_DATA_OUT_TAG = const(0x78)

WHO_AM_I_VALUE = 0x6C
_CTRL3_C_DEFAULT = const(0x04)  # IF_INC
_CTRL3_BDU_IF_INC = const(0x44)
_CTRL3_SW_RESET = const(0x01)
_XL_LPF2 = const(0x02)
_FIFO_BYPASS = const(0x00)
_FIFO_CONTINUOUS = const(0x06)
_STATUS2_OVR = const(0x48)  # FIFO_OVR_IA | FIFO_OVR_LATCHED
_TAG_GYRO = const(1)
_TAG_CNT = const(0x06)
_FIFO_WORDS = const(512)
_WORD = const(7)
_RESET_TRIES = const(10)

SAMPLE_SIZE = 14  # two tagged words: gyroscope and accelerometer of one time slot

# ODR / BDR code: 0100 = 104 Hz, 0101 = 208 Hz (high-performance mode)
_ODR_104 = const(4)
_ODR_208 = const(5)
# FS_XL[1:0] for ±2, 4, 8, 16 g (protocol index order): 00, 10, 11, 01
_FS_XL = (0, 2, 3, 1)
_TEMP_LSB_PER_C = const(256)
_TEMP_OFFSET_C = const(25)


def odr_for(rate_hz):
    """(ODR code, true rate Hz, true rate code) nearest ``rate_hz``: 104 or 208 Hz."""
    if rate_hz < 156:
        return _ODR_104, 104, 2
    return _ODR_208, 208, 4


def axis_map(axes):
    """(byte offset in a word's 6 data bytes, sign) for board axes x, y, z."""
    pairs = []
    for src, sign in axes:
        pairs.append(2 * src)
        pairs.append(sign)
    return tuple(pairs)


class Lsm6dsox(ImuDriver):
    """One LSM6DSOX on ``i2c`` at ``addr`` (0x6A with SA0 low, 0x6B high); ``axes`` from the
    board profile. ``sleep_ms`` waits after reset and between self-test reads."""

    _SNAP_REG = _OUTX_L_G
    _SNAP_SIZE = 12
    _ACC_AT = 6
    _SELF_TEST_RATE_CODE = 4  # 208 Hz

    def __init__(self, i2c, addr=0x6A, axes=((0, 1), (1, 1), (2, 1)), sleep_ms=None):
        super().__init__(i2c, addr, axis_map(axes), sleep_ms or _sleep_ms)
        self.fifo_size = _FIFO_WORDS * _WORD

    # --- identity and health ---------------------------------------------------------
    def probe(self):
        """``lsm6dsox`` when WHO_AM_I reads 0x6C, else None."""
        try:
            found = self._read(_WHO_AM_I) == WHO_AM_I_VALUE
        except OSError:  # no ACK: ENODEV on the ESP32
            return None
        if found:
            self.part = "lsm6dsox"
        return self.part if found else None

    def reset(self):
        """Software reset (CTRL3_C.SW_RESET); OSError if the bit does not clear."""
        self._write(_CTRL3_C, _CTRL3_C_DEFAULT | _CTRL3_SW_RESET)
        for _ in range(_RESET_TRIES):
            self._sleep_ms(1)
            if not self._read(_CTRL3_C) & _CTRL3_SW_RESET:
                return
        raise OSError(5)  # EIO

    def _int16(self, buf, at):
        return _int16(buf, at)

    def temperature_c(self):
        """Die temperature in °C from OUT_TEMP (a float: not for the per-sample path)."""
        self._i2c.readfrom_mem_into(self.addr, _OUT_TEMP_L, self._b2)
        return _int16(self._b2, 0) / _TEMP_LSB_PER_C + _TEMP_OFFSET_C

    # --- configuration ---------------------------------------------------------------
    def configure(self, rate_code, fs_code):
        """Set rates, ranges and filters, start the FIFO empty; return the true rate code.

        ``rate_code`` and ``fs_code`` as in docs/protocol.md §3; ValueError if invalid.
        """
        self._check_config(rate_code, fs_code)
        odr, self.rate_hz, self.rate_code = odr_for(protocol.RATE_HZ[rate_code])
        self.period_us = (1_000_000 + self.rate_hz // 2) // self.rate_hz
        self.fs_code = fs_code
        self._write(_FIFO_CTRL4, _FIFO_BYPASS)
        self._write(_CTRL3_C, _CTRL3_BDU_IF_INC)
        self._write(_CTRL1_XL, (odr << 4) | (_FS_XL[fs_code & 3] << 2) | _XL_LPF2)
        self._write(_CTRL8_XL, 0)  # HPCF_XL 000: LPF2 at ODR/4
        self._write(_CTRL2_G, (odr << 4) | (((fs_code >> 4) & 3) << 2))
        self._write(_FIFO_CTRL2, 0)  # no compression, no CFG-change words
        self._write(_FIFO_CTRL3, (odr << 4) | odr)  # BDR_GY, BDR_XL = ODR
        self.fifo_reset()
        return self.rate_code

    def fifo_reset(self):
        """Empty the FIFO (bypass mode) and restart it in continuous mode."""
        self._write(_FIFO_CTRL4, _FIFO_BYPASS)
        self._write(_FIFO_CTRL4, _FIFO_CONTINUOUS)
        self.fifo_samples = 0

    # --- sampling --------------------------------------------------------------------
    def read_fifo(self, buf):
        """Read the FIFO's whole gyro/accel pairs into ``buf`` in one burst; return how many.

        ``fifo_samples`` is set to the whole pairs the FIFO held when counted (more than
        returned only if ``buf`` is too small). After an overflow, or a pair that does not
        match, the FIFO is reset, ``overflows`` incremented and 0 returned.
        """
        b2 = self._b2
        self._i2c.readfrom_mem_into(self.addr, _FIFO_STATUS1, b2)
        words = b2[0] | ((b2[1] & 3) << 8)
        if b2[1] & _STATUS2_OVR or words >= _FIFO_WORDS:
            return self._overflowed()
        n = words >> 1
        self.fifo_samples = n
        room = len(buf) // SAMPLE_SIZE
        if n > room:
            n = room
        if n:
            mv = memoryview(buf)[: n * SAMPLE_SIZE]
            self._i2c.readfrom_mem_into(self.addr, _FIFO_DATA_OUT_TAG, mv)
            for at in range(0, n * SAMPLE_SIZE, SAMPLE_SIZE):
                a = buf[at]
                b = buf[at + _WORD]
                if (a >> 3) * (b >> 3) != 2 or (a ^ b) & _TAG_CNT:
                    return self._overflowed()
        return n

    def _overflowed(self):
        self.overflows += 1
        self.fifo_reset()
        return 0

    def unpack(self, buf, i, out):
        """Write sample ``i`` of ``buf`` into ``out[0:6]`` as board-axis int16 counts.

        ``out[0:3]`` accelerometer x, y, z, ``out[3:6]`` gyroscope; a negated -32768
        saturates at 32767. Allocates nothing.
        """
        base = i * SAMPLE_SIZE
        gyro = base + 1
        acc = base + 1 + _WORD
        if buf[base] >> 3 != _TAG_GYRO:
            gyro, acc = acc, gyro
        m = self._map
        for k in range(6):
            at = (acc if k < 3 else gyro) + m[2 * (k % 3)]
            v = buf[at] | (buf[at + 1] << 8)
            if v & 0x8000:
                v -= 0x10000
            if m[2 * (k % 3) + 1] < 0:
                v = 32767 if v == -32768 else -v
            out[k] = v


def _int16(buf, at):
    """Little-endian int16 at ``buf[at]``."""
    v = buf[at] | (buf[at + 1] << 8)
    return v - 0x10000 if v & 0x8000 else v
