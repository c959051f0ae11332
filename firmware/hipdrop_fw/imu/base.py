"""What every IMU driver shares: the bus, the common fields, register access and the
read-based self-test (the interface itself is described in ``imu/__init__.py``).

A driver subclasses ``ImuDriver``, sets ``_SNAP_REG`` (first data register of a snapshot),
``_SNAP_SIZE``, ``_ACC_AT`` (byte offset of accel x in it) and ``_SELF_TEST_RATE_CODE``, and
implements ``probe``, ``reset``, ``configure``, ``temperature_c`` and ``_int16(buf, at)`` (the
part's byte order).
"""

from hipdrop_fw import protocol
from hipdrop_fw.compat import const

_SELF_TEST_READS = const(8)
_SELF_TEST_GAP_MS = const(5)
_SELF_TEST_FS_CODE = const(0x22)  # ±8 g (4096 counts/g), ±1000 deg/s
_COUNTS_PER_G_8G = const(4096)


class ImuDriver:
    _SNAP_REG = 0
    _SNAP_SIZE = 12
    _ACC_AT = 0
    _SELF_TEST_RATE_CODE = 3

    def __init__(self, i2c, addr, axis_pairs, sleep_ms):
        self._i2c = i2c
        self.addr = addr
        self._map = axis_pairs
        self._sleep_ms = sleep_ms
        self._b1 = bytearray(1)
        self._b2 = bytearray(2)
        self._snap = (bytearray(self._SNAP_SIZE), bytearray(self._SNAP_SIZE))
        self.part = None
        self.rate_code = 0
        self.fs_code = 0
        self.rate_hz = 0
        self.period_us = 0
        self.fifo_samples = 0
        self.overflows = 0

    # --- the part's own ---------------------------------------------------------------
    def probe(self):
        raise NotImplementedError

    def reset(self):
        raise NotImplementedError

    def configure(self, rate_code, fs_code):
        raise NotImplementedError

    def temperature_c(self):
        raise NotImplementedError

    def _int16(self, buf, at):
        raise NotImplementedError

    def _check_config(self, rate_code, fs_code):
        """Before ``configure`` touches the part: valid codes (ValueError), a part there
        (OSError ENODEV, as the bus reports a missing device)."""
        if rate_code not in protocol.RATE_HZ or not protocol.fs_code_valid(fs_code):
            raise ValueError("invalid rate_code or fs_code")
        if self.part is None and self.probe() is None:
            raise OSError(19)

    # --- registers --------------------------------------------------------------------
    def _write(self, reg, value):
        self._b1[0] = value
        self._i2c.writeto_mem(self.addr, reg, self._b1)

    def _read(self, reg):
        self._i2c.readfrom_mem_into(self.addr, reg, self._b1)
        return self._b1[0]

    # --- health -------------------------------------------------------------------------

    def self_test(self):
        """Reset, configure ±8 g, ±1000 deg/s and check 8 readings: a FAULT_* code.

        Run it at boot, before ``configure``. The board must be roughly still.
        """
        try:
            if self.probe() is None:
                return protocol.FAULT_IMU_MISSING
            self.reset()
            self.configure(self._SELF_TEST_RATE_CODE, _SELF_TEST_FS_CODE)
            return self._check_readings()
        except OSError:
            return protocol.FAULT_IMU_MISSING

    def _check_readings(self):
        """Stuck, all-zero or all-0xFF readings, no gravity (|mean acc| outside 0.5-1.5 g) or
        a die temperature outside -40..85 °C: FAULT_IMU_SELF_TEST."""
        sums = [0, 0, 0]
        changed = False
        for k in range(_SELF_TEST_READS):
            self._sleep_ms(_SELF_TEST_GAP_MS)
            snap = self._snap[k & 1]
            self._i2c.readfrom_mem_into(self.addr, self._SNAP_REG, snap)
            if snap == bytearray(self._SNAP_SIZE) or snap == b"\xff" * self._SNAP_SIZE:
                return protocol.FAULT_IMU_SELF_TEST
            if k and snap != self._snap[(k - 1) & 1]:
                changed = True
            for axis in range(3):
                sums[axis] += self._int16(snap, self._ACC_AT + 2 * axis)
        g2 = sum((s / _SELF_TEST_READS / _COUNTS_PER_G_8G) ** 2 for s in sums)
        if not changed or not 0.25 <= g2 <= 2.25 or not -40 <= self.temperature_c() <= 85:
            return protocol.FAULT_IMU_SELF_TEST
        return protocol.FAULT_NONE
