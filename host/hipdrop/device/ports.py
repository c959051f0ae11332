"""Serial ports: list them, and pick the board's when ``--port`` is not given."""

import os

from ..errors import HipdropError

LIST_HINT = "`hipdrop device list-ports` lists them"


def serial_ports() -> list:
    """pyserial's ``ListPortInfo`` of every serial port, sorted by device name."""
    from serial.tools import list_ports

    return sorted(list_ports.comports(), key=lambda p: p.device)


def describe(port) -> str:
    usb = f"USB {port.vid:04x}:{port.pid:04x}" if port.vid is not None else "not USB"
    return f"{port.device:<20} {usb:<14} {port.description or ''}"


def choose_port(port: str | None, ports=None) -> str:
    """``port`` if it exists, else the only USB serial port; HipdropError otherwise."""
    if port:
        if port.startswith("/") and not os.path.exists(port):
            raise HipdropError(f"no serial port {port} ({LIST_HINT})")
        return port
    usb = [p for p in (serial_ports() if ports is None else ports) if p.vid is not None]
    if len(usb) == 1:
        return usb[0].device
    if not usb:
        raise HipdropError(
            "no USB serial port found: plug the board in with a data cable (not a "
            f"charge-only one) or name the port with --port ({LIST_HINT})"
        )
    names = ", ".join(p.device for p in usb)
    raise HipdropError(f"several USB serial ports ({names}): choose the board's with --port")


def print_ports(out=print) -> int:
    """``hipdrop device list-ports``."""
    from .extra import require

    require("serial")
    ports = serial_ports()
    for port in ports:
        out(describe(port))
    if not ports:
        out("no serial ports found")
    return 0
