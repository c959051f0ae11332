"""IMU drivers behind one small interface.

A driver takes the bus (a ``machine.I2C``-like object with ``readfrom_mem_into`` and
``writeto_mem``), the IMU's address and the board profile's ``AXES``, and offers:

- ``probe()``: the part name from WHO_AM_I, or None;
- ``self_test()``: a protocol ``FAULT_*`` code (``FAULT_NONE`` when the part answers sensibly);
- ``configure(rate_code, fs_code)``: ranges, output data rate, low-pass filter and the
  hardware FIFO; returns the rate code the part really runs at (also ``rate_code``), with
  ``rate_hz`` and ``period_us`` (µs between samples, an integer);
- ``read_fifo(buf)``: the number of complete samples read from the FIFO in one burst
  (``fifo_samples`` = complete samples the FIFO held when counted), ``overflows`` counts the
  FIFO overflows seen (the FIFO is reset on each and the read returns 0);
- ``unpack(buf, i, out)``: sample ``i`` of ``buf`` as six int16 counts in board axes;
- ``temperature_c()``; ``fifo_size`` (bytes) and ``SAMPLE_SIZE`` (bytes per FIFO sample).

Drivers: the MPU6886 / MPU6050 / MPU6500 family (``mpu6886.Mpu6886``, 100 and 200 Hz) and
the LSM6DSOX (``lsm6dsox.Lsm6dsox``, 104 and 208 Hz, tagged FIFO words paired into samples).
"""
