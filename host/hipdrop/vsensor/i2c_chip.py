"""The ``machine.I2C`` side shared by the register-level chip models.

A model subclasses ``I2cChip``, sets ``addr`` and ``present``, and implements
``readfrom_mem_into`` (its own auto-increment rules) and ``_write_register``.
"""

import errno


class I2cChip:
    addr = 0
    present = True

    def scan(self):
        return [self.addr] if self.present else []

    def readfrom_mem_into(self, addr, memaddr, buf):
        raise NotImplementedError

    def readfrom_mem(self, addr, memaddr, nbytes):
        buf = bytearray(nbytes)
        self.readfrom_mem_into(addr, memaddr, buf)
        return bytes(buf)

    def writeto_mem(self, addr, memaddr, buf):
        self._check(addr)
        for i, value in enumerate(bytes(buf)):
            self._write_register((memaddr + i) & 0xFF, value)

    def _write_register(self, reg, value):
        raise NotImplementedError

    def _check(self, addr):
        """A missing or dead chip, or another address, answers like MicroPython on the ESP32."""
        if not self.present or addr != self.addr:
            raise OSError(errno.ENODEV, "ENODEV")
