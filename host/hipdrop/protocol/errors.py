"""Exceptions of the protocol layer. Link input to the stream decoder never raises."""

from __future__ import annotations


class ProtocolError(ValueError):
    """A malformed control response, status or log chunk.

    ``error`` is one of the names of docs/protocol.md §8 when one applies, else ``"malformed"``.
    """

    def __init__(self, message: str, error: str = "malformed") -> None:
        super().__init__(message)
        self.error = error


class VersionMismatch(ProtocolError):
    """The sensor speaks another protocol version than this host (§7)."""

    def __init__(self, sensor_version: int, host_version: int) -> None:
        if sensor_version > host_version:
            fix = "upgrade the host with pip install -U hipdrop"
        else:
            fix = "reflash the sensor with hipdrop flash"
        message = (
            f"sensor speaks protocol v{sensor_version}, this hipdrop speaks v{host_version}: {fix}"
        )
        super().__init__(message, error="wrong_version")
        self.sensor_version = sensor_version
        self.host_version = host_version
