"""The virtual sensor: simulated samples through the firmware's own code, as device bytes."""

from .device import Notification, VirtualSensor
from .faults import Fault, inject, parse_faults

__all__ = ["Fault", "Notification", "VirtualSensor", "inject", "parse_faults"]
