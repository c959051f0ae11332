"""The sampling loop: IMU FIFO -> per-sample hook -> sample packets (docs/protocol.md §3).

Each ``poll()`` reads whatever the IMU's FIFO holds in one burst, stamps the packet it starts
from the device clock, gives every sample (board-axis int16 counts) to the per-sample hook
(the tilt filter plugs in there) and packs it; full packets go to the sink. The FIFO keeps
the sample timing, so nothing here is timed per sample: poll every 20-50 ms (a 1024-byte
FIFO holds 73 samples, 365 ms at 200 Hz; the MPU6500's 512 bytes 36 samples, 180 ms).

Timing. ``ticks_us()`` is read just before the FIFO is counted (``read_fifo`` counts first,
then bursts; the burst's duration is not in the timing path). The newest of the ``n`` samples
counted is at most "now" and at least one period older, so the first is in
``(measured - period, measured]`` with ``measured = now - (n - 1) * period``: one read alone
stamps late by up to a period, and the lateness jitters from read to read. So the sampler
tracks the sample clock: it keeps the stamp of the next sample (the previous read's first
stamp advanced by the samples read, with a fraction below 1 µs) and uses it when it is
inside this read's window, else clamps it to the window's nearer edge. The clamps steer a
period estimate (the IMU's oscillator is off by up to ±1-2 % from the nominal
``imu.period_us``): the corrections summed over a window of samples (64, doubling to 8192)
divided by its length are added to it, and it is kept within ±3 % of nominal. The estimate
is fixed point (1/2**14 µs) and everything is small-int arithmetic modulo 2**30 (the
protocol's ``t0_ticks_us``; no sum ever passes 2**30), with nothing allocated per read or
per sample. The first read after ``start()``, an overflow or a rate change stamps the
measured time; ``start()`` and a rate change also go back to the nominal period. With the
chip model (200 Hz, 0.4 % fast, polls 5-60 ms apart) packet stamps are off by a median
~60 µs and under ~300 µs after 10 s, against a median 2.3 ms late from the measurement
alone; all within one period.

Overflow. When the driver reports a FIFO overflow (it resets the FIFO and counts it in
``overflows``), the packet being built is sent as it is, the samples lost since the last read
are estimated from the device clock, ``ceil(elapsed * (1 + 1/64) / period_us)`` (rounded up,
with 1.6 % of margin for the IMU's ±1 % oscillator, so later samples never reuse an index
that was lost), ``seq`` jumps by that many, they are added to ``dropped``, and the next packet
carries ``FLAG_FIFO_OVERFLOW``. Outages longer than 2**29 µs (9 min) are not measurable.

The virtual sensor (host) drives it unchanged: a register-level chip model
(``hipdrop.vsensor.mpu6886.Mpu6886Model``, fed by the simulator) stands in for the I2C bus,
the driver is ``imu.mpu6886.Mpu6886(model, axes=profile.AXES,
sleep_ms=lambda ms: model.advance(ms / 1000))``, the ticks source reads the model's fake clock
(``int(model.time_s * 1e6 * (1 + clock_error)) & (2**30 - 1)``), and a loop alternates
``model.advance(0.02)`` and ``sampler.poll()``; the sink collects the packets as
notifications. tests/firmware/test_fw_sampler.py does exactly that.

``seq`` is kept as a plain int: it passes 2**30 (a big int on the ESP32) only after 62 days at
200 Hz.
"""

from array import array

from hipdrop_fw import protocol
from hipdrop_fw.compat import const

TICKS_MASK = const(0x3FFFFFFF)  # ticks_us wraps at 2**30 (docs/protocol.md §3)
_TICKS_HALF = const(0x20000000)
_MARGIN_SHIFT = const(6)  # lost-sample estimate margin: elapsed / 64 = 1.6 %
_FRAC = const(14)  # period estimate in 1/2**14 µs (10 ms is 164e6: a small int)
_FRAC_MASK = const(0x3FFF)
_WINDOW_MIN = const(64)  # samples per period-estimate update: 64, doubling up to 8192
_WINDOW_MAX = const(8192)
_SUM_LIMIT = const(0x7FFF)  # |corrections summed over a window| in µs, kept below 2**15


def ticks_diff(a, b):
    """``a - b`` in µs for ticks wrapping at 2**30, in [-2**29, 2**29) (small ints only)."""
    d = (a - b) & TICKS_MASK
    return d - TICKS_MASK - 1 if d >= _TICKS_HALF else d


def first_sample_ticks(now, n, period_us):
    """Device time of the oldest of ``n`` samples whose newest is at ``now`` (mod 2**30)."""
    return (now - (n - 1) * period_us) & TICKS_MASK


def lost_samples(elapsed_us, period_us):
    """Samples lost in ``elapsed_us`` at ``period_us``: rounded up, with a 1.6 % margin."""
    if elapsed_us <= 0:
        return 1
    elapsed_us += elapsed_us >> _MARGIN_SHIFT
    return (elapsed_us + period_us - 1) // period_us


class Sampler:
    """Reads ``imu``'s FIFO into sample packets of ``packer``; full packets go to ``sink``.

    ``ticks_us``: the device clock (``time.ticks_us`` on the ESP32). ``packer``: a
    ``packet.SamplePacker``. ``sink(packet)`` gets each finished packet (a memoryview into
    the packer's buffer: send or copy it before the next packet). ``on_sample(rec)``, if
    given, is called per sample with ``rec``, an ``array('h')`` of 8: counts ``rec[0:6]``
    (acc x, y, z, gyr x, y, z in board axes) and ``rec[6]``, ``rec[7]`` (roll, pitch in
    centidegrees, preset to -32768 = unavailable), which the hook may overwrite; during the
    hook ``seq`` is the sample's index and ``t_us`` its device time (mod 2**30).
    ``flags`` (public) are set on every packet; the default says the tilt is unsettled.
    """

    def __init__(self, imu, ticks_us, packer, sink, boot=0, on_sample=None):
        self.imu = imu
        self._ticks = ticks_us
        self.packer = packer
        self.sink = sink
        self.boot = boot
        self.on_sample = on_sample
        self.ptype = protocol.TYPE_LIVE
        self.flags = protocol.FLAG_TILT_UNSETTLED
        self.seq = 0
        self.t_us = 0
        self.dropped = 0
        self._buf = bytearray(imu.fifo_size)
        self._rec = array("h", [0] * 8)
        self._open = False
        self._pending_flags = 0
        self._overflows_seen = imu.overflows
        self._last_read = 0
        # sample-clock tracking: the stamp of the next sample (µs + fraction), the period
        # estimate (fixed point) and the corrections summed over the estimate's window
        self._next = 0
        self._frac = 0
        self._tracking = False
        self._nominal = 0
        self._pfp = 0
        self._p_lo = 0
        self._p_hi = 0
        self._window = _WINDOW_MIN
        self._win_n = 0
        self._win_sum = 0
        self._reset_period(imu.period_us)

    def start(self, seq=0):
        """Begin at sample index ``seq`` with an empty FIFO (call after ``imu.configure``)."""
        self.seq = seq
        self._open = False
        self._pending_flags = 0
        self.imu.fifo_reset()
        self._overflows_seen = self.imu.overflows
        self._last_read = self._ticks()
        self._reset_period(self.imu.period_us)

    def _reset_period(self, period_us):
        """Forget the sample clock: nominal period, no phase (the next read stamps afresh)."""
        self._nominal = period_us
        self._pfp = period_us << _FRAC
        self._p_lo = self._pfp - (self._pfp >> 5)  # the estimate stays within ±3 %
        self._p_hi = self._pfp + (self._pfp >> 5)
        self._window = _WINDOW_MIN
        self._tracking = False

    def poll(self):
        """Read the FIFO once and pack its samples; return how many were read."""
        imu = self.imu
        now = self._ticks()
        n = imu.read_fifo(self._buf)
        if imu.overflows != self._overflows_seen:
            self._overflows_seen = imu.overflows
            self._overflowed(now)
            return 0
        if n:
            if imu.period_us != self._nominal:  # rate changed without start()
                self._reset_period(imu.period_us)
            self._pack(n, self._stamp(now, imu.fifo_samples))
        self._last_read = now
        return n

    def _stamp(self, now, count):
        """Device time of the first sample of this read: the tracked stamp, kept inside
        ``(measured - period, measured]`` where ``measured`` takes the newest of ``count``
        samples to be at ``now``; the corrections steer the period estimate."""
        pfp = self._pfp
        p_int = pfp >> _FRAC
        k = count - 1
        m = (now - k * p_int - ((k * (pfp & _FRAC_MASK)) >> _FRAC)) & TICKS_MASK
        if not self._tracking:
            self._tracking = True
            self._frac = 0
            self._win_n = 0
            self._win_sum = 0
            return m
        t = self._next
        d = ticks_diff(t, m)
        if d > 0:  # later than the newest possible time: clamp down
            t = m
            self._frac = 0
            corr = -d
        elif d <= -p_int:  # earlier than the oldest possible time: clamp up
            t = (m - p_int + 1) & TICKS_MASK
            self._frac = 0
            corr = -p_int + 1 - d
        else:
            corr = 0
        s = self._win_sum + corr
        self._win_sum = _SUM_LIMIT if s > _SUM_LIMIT else -_SUM_LIMIT if s < -_SUM_LIMIT else s
        self._win_n += count if count > 0 else 1
        n = self._win_n
        if n >= self._window:
            # corrections of c µs over n samples: the period is off by about c / n per sample
            pfp += (self._win_sum << _FRAC) // n
            self._pfp = self._p_lo if pfp < self._p_lo else self._p_hi if pfp > self._p_hi else pfp
            self._win_n = 0
            self._win_sum = 0
            if self._window < _WINDOW_MAX:
                self._window <<= 1
        return t

    def flush(self):
        """Send the packet being built, if it holds any sample."""
        if self._open:
            self._open = False
            self.sink(self.packer.finish())

    def _overflowed(self, now):
        self.flush()
        lost = lost_samples(ticks_diff(now, self._last_read), self.imu.period_us)
        self.seq += lost
        self.dropped += lost
        self._pending_flags = protocol.FLAG_FIFO_OVERFLOW
        self._last_read = now
        self._tracking = False  # the phase is lost; the period estimate is kept

    def _pack(self, n, t_first):
        imu = self.imu
        packer = self.packer
        buf = self._buf
        rec = self._rec
        hook = self.on_sample
        pfp = self._pfp
        t = t_first
        frac = self._frac
        unavailable = protocol.TILT_UNAVAILABLE
        for i in range(n):
            if not self._open:
                flags = self.flags | self._pending_flags
                packer.start(self.ptype, self.boot, self.seq, t, imu.rate_code, imu.fs_code, flags)
                self._pending_flags = 0
                self._open = True
            imu.unpack(buf, i, rec)
            self.t_us = t
            frac += pfp
            t = (t - TICKS_MASK - 1 + (frac >> _FRAC)) & TICKS_MASK  # no sum above 2**30
            frac &= _FRAC_MASK
            self._next = t
            self._frac = frac
            rec[6] = unavailable
            rec[7] = unavailable
            if hook is not None:
                hook(rec)
            self.seq += 1
            if packer.add(rec[0], rec[1], rec[2], rec[3], rec[4], rec[5], rec[6], rec[7]):
                self._open = False
                self.sink(packer.finish())
