"""A register-level model of the ST LSM6DSOX behind a ``machine.I2C``-like API.

The counterpart of ``mpu6886.Mpu6886Model`` for the firmware's ``imu.lsm6dsox`` driver: the
same bus methods (``readfrom_mem_into``, ``readfrom_mem``, ``writeto_mem``, ``scan``), the
same fake clock (``advance(seconds)``), the same sample sources (``ArraySource``, chip axes,
m/s² and deg/s; ``to_chip_axes`` and ``quantise`` are shared with that module). It models the
chip, so it imports nothing from the firmware.

Modelled from the LSM6DSOX/LSM6DSO datasheets (register map, FIFO chapter):

- WHO_AM_I (0x0F) 0x6C; CTRL3_C resets to 0x04 (IF_INC); SW_RESET (bit 0) restores every
  default, empties the FIFO and clears itself. IF_INC off stops the address auto-increment.
- Rate: ODR_XL (CTRL1_XL bits 7-4) and ODR_G (CTRL2_G bits 7-4) codes 1-10 are 12.5, 26, 52,
  104, 208, 416, 833, 1666, 3332, 6667 Hz, times ``1 + clock_error``. Both sensors run on
  one clock, the accelerometer's when it is on (unequal ODRs are not modelled; the driver
  sets them equal). Full scale:
  FS_XL 00/10/11/01 = ±2/4/8/16 g, FS_G 00-11 = ±250-2000 deg/s (FS_125 not modelled).
- Data registers: OUT_TEMP (0x20, 256 LSB/°C, 0 at 25 °C), OUTX_L_G (0x22) and OUTX_L_A
  (0x28), little-endian int16, updated every ODR tick (BDU needs no modelling: nothing
  samples during a bus transaction here).
- FIFO: 512 words (the uncompressed depth; the datasheet's 9 kbytes count compression). At
  each tick a sensor whose BDR (FIFO_CTRL3: BDR_GY bits 7-4, BDR_XL bits 3-0) is set writes
  one word: tag (TAG_SENSOR 0x01 gyroscope / 0x02 accelerometer in bits 7-3, TAG_CNT = slot
  number mod 4 in bits 2-1, bit 0 the parity of bits 7-1 — an assumption, the datasheet
  names it without a formula) and X, Y, Z. The gyroscope word comes first unless
  ``accel_first``; with ``pair_gap_s`` the second word of a slot comes that much later, so a
  read can find half a pair. A BDR other than the ODR is not modelled (it batches every tick).
- FIFO_CTRL4 FIFO_MODE: 000 bypass (FIFO emptied, nothing stored), 001 FIFO mode (stops when
  full), 110 continuous (when full, each new word overwrites the oldest one). FIFO_STATUS1/2:
  DIFF_FIFO (10 bits, unread words), FIFO_OVR_IA (bit 6, the FIFO completely filled), FIFO_
  FULL_IA (bit 5, full at the next slot), FIFO_OVR_LATCHED (bit 3, set when a word is
  overwritten or dropped, cleared when FIFO_STATUS2 is read).
- FIFO_DATA_OUT_TAG..Z_H (0x78-0x7E) show the oldest word; reading 0x7E removes it, and a
  burst rolls back from 0x7E to 0x78, so a burst reads word after word. An empty FIFO reads
  as zeros (tag 0, which no sensor uses).
- A device that is absent (or another address) raises ``OSError(19)`` (ENODEV).
"""

from .i2c_chip import I2cChip
from .mpu6886 import G_MS2, INT16_FULL_SCALE, quantise

WHO_AM_I = 0x0F
FIFO_CTRL3 = 0x09
FIFO_CTRL4 = 0x0A
CTRL1_XL = 0x10
CTRL2_G = 0x11
CTRL3_C = 0x12
OUT_TEMP_L = 0x20
OUTX_L_G = 0x22
OUTX_L_A = 0x28
FIFO_STATUS1 = 0x3A
FIFO_STATUS2 = 0x3B
FIFO_DATA_OUT_TAG = 0x78
FIFO_DATA_OUT_Z_H = 0x7E

WHO_AM_I_VALUE = 0x6C
CTRL3_C_RESET = 0x04
CTRL3_SW_RESET = 0x01
CTRL3_BOOT = 0x80
CTRL3_IF_INC = 0x04
FIFO_WORDS = 512
TAG_GYRO = 0x01
TAG_ACCEL = 0x02
STATUS2_OVR_IA = 0x40
STATUS2_FULL_IA = 0x20
STATUS2_OVR_LATCHED = 0x08
MODE_BYPASS = 0
MODE_FIFO = 1
MODE_CONTINUOUS = 6

ODR_HZ = {1: 12.5, 2: 26, 3: 52, 4: 104, 5: 208, 6: 416, 7: 833, 8: 1666, 9: 3332, 10: 6667}
ACC_FS_G = {0: 2, 2: 4, 3: 8, 1: 16}  # FS_XL code -> g
GYR_FS_DPS = (250, 500, 1000, 2000)
READ_ONLY = {WHO_AM_I, FIFO_STATUS1, FIFO_STATUS2} | set(range(0x1E, 0x2E))


def tag_byte(sensor, slot):
    """The FIFO_DATA_OUT_TAG byte of ``sensor``'s word in time slot ``slot``."""
    tag = (sensor << 3) | ((slot & 3) << 1)
    return tag | (bin(tag).count("1") & 1)


class Lsm6dsoxModel(I2cChip):
    """The chip and its bus: ``machine.I2C`` methods plus ``advance(seconds)``.

    ``present=False`` models a missing or dead IMU (every access raises ENODEV).
    ``sample_time_s[k]`` is the fake-clock time at which output sample ``k`` was taken;
    ``fifo_reset_sample`` the index of the first sample stored after the FIFO last left
    bypass mode; ``fifo_overflows`` counts the words overwritten or dropped.
    """

    def __init__(
        self, source, addr=0x6A, clock_error=0.0, present=True, accel_first=False, pair_gap_s=0.0
    ):
        self.source = source
        self.addr = addr
        self.clock_error = clock_error
        self.present = present
        self.accel_first = accel_first
        self.pair_gap_s = pair_gap_s
        self.time_s = 0.0
        self.sample_count = 0
        self.sample_time_s: list[float] = []
        self.fifo: list[bytes] = []
        self.fifo_reset_sample = 0
        self.fifo_overflows = 0
        self._pending: list[tuple[float, bytes]] = []
        self._reset_registers()

    # --- machine.I2C -----------------------------------------------------------------
    def readfrom_mem_into(self, addr, memaddr, buf):
        self._check(addr)
        reg = memaddr
        for i in range(len(buf)):
            buf[i] = self._read_register(reg)
            if self.regs[CTRL3_C] & CTRL3_IF_INC:
                reg = FIFO_DATA_OUT_TAG if reg == FIFO_DATA_OUT_Z_H else (reg + 1) & 0xFF

    # --- the fake clock --------------------------------------------------------------
    def advance(self, seconds):
        """Run the chip for ``seconds`` of the fake clock, taking every sample due."""
        end = self.time_s + seconds
        while self.rate_hz():
            t = self._anchor_t + (self._since_anchor + 1) / self.rate_hz()
            if t > end:
                break
            self._write_pending(t)
            self._since_anchor += 1
            self._take_sample(t)
        self._write_pending(end)
        self.time_s = end

    def rate_hz(self):
        """True output data rate: the accelerometer's, else the gyroscope's; 0 when both
        are powered down."""
        xl = ODR_HZ.get(self.regs[CTRL1_XL] >> 4, 0)
        g = ODR_HZ.get(self.regs[CTRL2_G] >> 4, 0)
        return (xl or g) * (1 + self.clock_error)

    def _reanchor(self):
        self._anchor_t = self.time_s
        self._since_anchor = 0

    # --- registers -------------------------------------------------------------------
    def _reset_registers(self):
        self.regs = bytearray(256)
        self.regs[WHO_AM_I] = WHO_AM_I_VALUE
        self.regs[CTRL3_C] = CTRL3_C_RESET
        self.fifo.clear()
        self._pending.clear()
        self._latched = False
        self._reanchor()

    def _read_register(self, reg):
        n = len(self.fifo)
        if reg == FIFO_STATUS1:
            return n & 0xFF
        if reg == FIFO_STATUS2:
            return self._status2(n)
        if FIFO_DATA_OUT_TAG <= reg <= FIFO_DATA_OUT_Z_H:
            word = self.fifo[0] if self.fifo else bytes(7)
            if reg == FIFO_DATA_OUT_Z_H and self.fifo:
                self.fifo.pop(0)
            return word[reg - FIFO_DATA_OUT_TAG]
        return self.regs[reg]

    def _status2(self, n):
        value = (n >> 8) & 3
        if n >= FIFO_WORDS:
            value |= STATUS2_OVR_IA
        if n + self._words_per_slot() > FIFO_WORDS:
            value |= STATUS2_FULL_IA
        if self._latched:
            value |= STATUS2_OVR_LATCHED
            self._latched = False
        return value

    def _write_register(self, reg, value):
        if reg in READ_ONLY or FIFO_DATA_OUT_TAG <= reg <= FIFO_DATA_OUT_Z_H:
            return
        if reg == CTRL3_C and value & CTRL3_SW_RESET:
            self._reset_registers()
            return
        if reg == CTRL3_C:
            value &= ~CTRL3_BOOT  # reboots the trimming, clears itself
        if reg == FIFO_CTRL4:
            was_bypass = self._mode() == MODE_BYPASS
            if value & 7 == MODE_BYPASS:
                self.fifo.clear()
                self._pending.clear()
            elif was_bypass:
                self.fifo_reset_sample = self.sample_count
        old_rate = self.rate_hz() if reg in (CTRL1_XL, CTRL2_G) else None
        self.regs[reg] = value
        if old_rate is not None and self.rate_hz() != old_rate:
            self._reanchor()

    def _mode(self):
        return self.regs[FIFO_CTRL4] & 7

    def _words_per_slot(self):
        return bool(self.regs[FIFO_CTRL3] & 0x0F) + bool(self.regs[FIFO_CTRL3] >> 4)

    # --- sampling --------------------------------------------------------------------
    def _take_sample(self, t):
        acc, gyr, temp_c = self.source.sample(self.sample_count)
        acc_fs = ACC_FS_G[(self.regs[CTRL1_XL] >> 2) & 3] * G_MS2
        gyr_fs = GYR_FS_DPS[(self.regs[CTRL2_G] >> 2) & 3]
        temp = round((temp_c - 25.0) * 256)
        temp = min(max(temp, -INT16_FULL_SCALE), INT16_FULL_SCALE - 1)
        gyro = _le([quantise(v, gyr_fs) for v in gyr])
        accel = _le([quantise(v, acc_fs) for v in acc])
        self.regs[OUT_TEMP_L : OUT_TEMP_L + 14] = _le([temp]) + gyro + accel
        slot = self.sample_count
        self.sample_count += 1
        self.sample_time_s.append(t)
        words = []
        if self.regs[FIFO_CTRL3] >> 4:
            words.append(bytes([tag_byte(TAG_GYRO, slot)]) + gyro)
        if self.regs[FIFO_CTRL3] & 0x0F:
            words.append(bytes([tag_byte(TAG_ACCEL, slot)]) + accel)
        if self.accel_first:
            words.reverse()
        for k, word in enumerate(words):
            self._pending.append((t + k * self.pair_gap_s, word))
        self._write_pending(t)

    def _write_pending(self, now):
        while self._pending and self._pending[0][0] <= now:
            self._fifo_write(self._pending.pop(0)[1])

    def _fifo_write(self, word):
        mode = self._mode()
        if mode == MODE_BYPASS:
            return
        if len(self.fifo) >= FIFO_WORDS:
            self._latched = True
            self.fifo_overflows += 1
            if mode != MODE_CONTINUOUS:
                return  # FIFO mode: a full FIFO stores nothing more
            self.fifo.pop(0)  # continuous: the oldest word goes
        self.fifo.append(word)


def _le(counts):
    """int16 counts as little-endian bytes."""
    return b"".join((c & 0xFFFF).to_bytes(2, "little") for c in counts)
