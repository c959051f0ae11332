"""A sensor's flash log, downloaded: its header and its sample packets.

The log format (records, chained compression) is the firmware's own (``firmware/hipdrop_fw/
flashlog.py``, docs/firmware.md); the host reads it with that very module, so the two can never
disagree. A log yields the exact sample packets the device made, the ones it would have
streamed.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import HipdropError
from ..vsensor.firmware import firmware_module


@dataclass(frozen=True)
class LogFile:
    """``boot``; ``start_unix_s`` (0 when the sensor had no time sync); ``start_ticks_us`` (the
    device clock at the first sample); ``board``; ``packets``: the sample packets, in order."""

    boot: int
    start_unix_s: int
    start_ticks_us: int
    board: str
    packets: list[bytes]

    def seq_range(self) -> tuple[int, int]:
        """First and end (exclusive) sample index of the log (within its boot)."""
        first = int.from_bytes(self.packets[0][4:8], "little")
        last = self.packets[-1]
        return first, int.from_bytes(last[4:8], "little") + last[14]


def read_log(data: bytes, name: str) -> LogFile:
    """Parse a downloaded log; a clear error when it is not one or holds no samples."""
    flashlog = firmware_module("flashlog")
    try:
        kind, start, end = next(flashlog.records(data))
        if kind != flashlog.KIND_HEADER:
            raise ValueError("no header record")
        _, boot, unix_s, ticks, _, _, board = flashlog.parse_header(memoryview(data)[start:end])
        packets = list(flashlog.packets(data))
    except (StopIteration, ValueError, IndexError) as error:
        raise HipdropError(f"{name} is not a readable hipdrop log ({error or 'empty'})") from None
    if not packets:
        raise HipdropError(f"{name} holds no samples")
    return LogFile(boot, unix_s, ticks, board, packets)
