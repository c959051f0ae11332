"""The device app's log dates in the virtual device with the BM8563 model: a TIME_SYNC sets the
RTC, and a log started after a reboot with no host carries the RTC's date."""

import struct

import pytest
from test_fw_app import Host

from hipdrop.sim import scenario
from hipdrop.vsensor.app_device import VirtualDevice
from hipdrop.vsensor.bm8563 import Bm8563Model
from hipdrop_fw import protocol as p

HOST_MS = 1_750_000_000_000  # the host's clock at its TIME_SYNC (2025-06-15 15:06:40 UTC)
OFF_S = 3600.0  # the board lies switched off for an hour between the boots
BOOT_SAMPLES = 2000  # 10 s at 200 Hz per boot


@pytest.fixture(scope="module")
def recording():
    return scenario("treadmill_quick", seed=1)


def _sync(dev, unix_ms):
    """A host connects, sends TIME_SYNC and stays (not streaming: no log starts)."""
    host = Host(dev)
    host.connect()
    answer = host.command(struct.pack("<BBQ", p.OP_TIME_SYNC, 1, unix_ms))
    assert answer[:3] == b"\x86\x01\x00"
    return host


def _run_until_logging(dev):
    """Step until the untethered log opens; the fake time it opened."""
    while not dev.app.logs.log.logging:
        dev.step()
    return dev.chip.time_s


def _log_starts(dev):
    """``start_unix_s`` of every log on the device, from LOG_LIST."""
    host = Host(dev)
    host.connect()
    answer = host.command(struct.pack("<BBH", p.OP_LOG_LIST, 0x21, 0))
    count = answer[7]
    return [struct.unpack_from("<HIII", answer, 8 + 14 * i)[1] for i in range(count)]


def _synced_then_rebooted(recording, clock, flat=False):
    """Boot 1: a host syncs the time, 5 s later the board is switched off for ``OFF_S``
    (``flat``: and the RTC's battery runs flat). Boot 2 on the same flash and RTC logs with no
    host; return it, and the host's time (s) when its log opened."""
    first = VirtualDevice(recording, 0, BOOT_SAMPLES, rtc=clock)
    _sync(first, HOST_MS)
    synced_at = first.chip.time_s
    first.run(5.0)
    elapsed = first.chip.time_s - synced_at
    clock.advance(OFF_S)
    clock.vl = clock.vl or flat
    second = VirtualDevice(recording, BOOT_SAMPLES, 3 * BOOT_SAMPLES, flash=first.flash, rtc=clock)
    opened = _run_until_logging(second)
    return second, HOST_MS / 1000 + elapsed + OFF_S + opened


def test_time_sync_sets_the_rtc(recording):
    clock = Bm8563Model()
    assert clock.vl  # never set: the driver reads None
    dev = VirtualDevice(recording, 0, BOOT_SAMPLES, rtc=clock)
    _sync(dev, HOST_MS + 250)
    assert not clock.vl
    assert abs(clock.unix_s() - (HOST_MS + 250) / 1000) <= 0.5


def test_log_after_a_reboot_without_a_host_has_the_rtcs_date(recording):
    dev, true_s = _synced_then_rebooted(recording, Bm8563Model())
    dev.run(3.0)
    (start,) = _log_starts(dev)
    # RTC set to ±0.5 s, read in whole seconds and centred (±0.5 s), the start floored
    assert abs(start - true_s) <= 1.0, (start, true_s)


def test_a_flat_rtc_leaves_the_date_unknown(recording):
    dev, _ = _synced_then_rebooted(recording, Bm8563Model(), flat=True)
    assert _log_starts(dev) == [0]  # the host's sync will use its own time, and say so


def test_the_hosts_time_wins_over_the_rtc(recording):
    wrong_s = 1_900_000_000  # a set clock that is far off (2030)
    clock = Bm8563Model(unix_s=wrong_s, vl=False)
    dev = VirtualDevice(recording, 0, 4 * BOOT_SAMPLES, rtc=clock)
    opened = _run_until_logging(dev)  # no host yet: the RTC dates the log
    host = _sync(dev, HOST_MS)
    synced_at = dev.chip.time_s
    assert host.command(b"\x01\x02")[2] == p.RESULT_OK  # START closes the first log
    host.central.disconnect()
    reopened = _run_until_logging(dev)  # the next log, dated from the TIME_SYNC
    first, second = _log_starts(dev)
    assert abs(first - (wrong_s + opened)) <= 1
    assert abs(second - (HOST_MS / 1000 + reopened - synced_at)) <= 1
    assert abs(clock.unix_s() - (HOST_MS / 1000 + dev.chip.time_s - synced_at)) <= 0.5
