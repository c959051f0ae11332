"""Helpers of the store tests: real packets (virtual sensor, firmware packer), table counts."""

import sqlite3
import sys
from functools import cache
from pathlib import Path

from hipdrop.sim import scenario
from hipdrop.store import row_from_packet
from hipdrop.vsensor import VirtualSensor
from hipdrop.vsensor.firmware import firmware_module

STARTED_AT = 1_700_000_000.0
"""Host clock (unix s) of the test sessions' start."""
WRITER = Path(__file__).with_name("store_writer.py")


@cache
def treadmill(reboots_s=()):
    """(recording, sensor, notifications) of ``treadmill_quick`` seed 0 from the virtual sensor."""
    recording = scenario("treadmill_quick", 0)
    sensor = VirtualSensor(recording, reboots_s=reboots_s)
    return recording, sensor, list(sensor.notifications())


def sensor_rows(notifications, origin="live", started_at=STARTED_AT):
    """``add_packets`` rows of notifications; host times only for live packets."""
    return [
        row_from_packet(n.data, started_at + n.host_time_s if origin == "live" else None, origin)
        for n in notifications
    ]


def packed_rows(n_packets, boot=1, first_seq=0, per_packet=14, rate_code=3, host_start=None):
    """Rows of ``n_packets`` packets built by the firmware's own packer (200 Hz by default);
    each sample's acc x holds its sample index modulo 2**15."""
    protocol, packer = firmware_module("protocol"), firmware_module("packet")
    rate_hz = protocol.RATE_HZ[rate_code]
    pack = packer.SamplePacker(20 + 16 * per_packet)
    rows = []
    for k in range(n_packets):
        seq = first_seq + k * per_packet
        pack.start(1, boot, seq, int(seq * 1e6 / rate_hz) % 2**30, rate_code, 0x11)
        for i in range(per_packet):
            pack.add((seq + i) % 32768, 0, 8192, 0, 0, 0, 0, 0)
        data = bytes(pack.finish())
        host = None if host_start is None else host_start + (seq + per_packet - 1) / rate_hz + 0.01
        rows.append(row_from_packet(data, host, "live" if host is not None else "log"))
    return rows


def table_counts(path, sid=None):
    """Rows per table; with ``sid``, the rows of that session in every table that has them."""
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        counts = {}
        for table in tables:
            key = "id" if table == "sessions" else "session_id"
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            if sid is None:
                counts[table] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            elif key in columns:
                query = f"SELECT count(*) FROM {table} WHERE {key} = ?"
                counts[table] = conn.execute(query, (sid,)).fetchone()[0]
    return counts


def writer_command(db, mode, *args):
    return [sys.executable, str(WRITER), str(db), mode, *map(str, args)]
