"""A stand-in for MicroPython's ``bluetooth.BLE`` on the WebAssembly port (which has none):
just enough for ``hipdrop_fw.ble.Peripheral.start()`` and the hot paths, recording what the
firmware asks of the radio. ``gatts_notify`` only counts, so it allocates nothing, as the C
call does not; a subclass may keep the data."""

MAC = b"\x24\x0a\xc4\x12\xab\xcd"


class StandInRadio:
    def __init__(self):
        self.handler = None
        self.adv = None
        self.resp = None
        self.notified = 0

    def active(self, *args):
        return True

    def config(self, *args, **kwargs):
        return (0, MAC) if args == ("mac",) else None

    def irq(self, handler):
        self.handler = handler

    def gatts_register_services(self, services):
        handle, out = 10, []
        for _, chars in services:
            handles = []
            for _char in chars:
                handle += 3
                handles.append(handle)
            out.append(tuple(handles))
        return tuple(out)

    def gatts_set_buffer(self, handle, n, append=False):
        pass

    def gatts_write(self, handle, data, send_update=False):
        pass

    def gatts_read(self, handle):
        return b"\x02\x01"

    def gap_advertise(self, interval_us, adv_data=None, resp_data=None):
        self.adv = bytes(adv_data)
        self.resp = bytes(resp_data) if resp_data is not None else None

    def gatts_notify(self, conn, handle, data=None):
        self.notified += 1

    def gatts_indicate(self, conn, handle, data=None):
        pass

    def gattc_exchange_mtu(self, conn):
        pass

    def gap_disconnect(self, conn):
        return True
