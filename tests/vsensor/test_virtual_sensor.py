"""The virtual sensor sends the firmware's bytes, and the host decodes them exactly."""

import sys
from pathlib import Path

import numpy as np
import pytest

from hipdrop.errors import HipdropError
from hipdrop.protocol import StreamAssembler, decode_packets
from hipdrop.sim import scenario
from hipdrop.vsensor import VirtualSensor, inject, parse_faults
from hipdrop.vsensor.board import VirtualBoard
from hipdrop.vsensor.faults import reboot_times
from hipdrop.vsensor.firmware import firmware_dir


@pytest.fixture(scope="module")
def recording():
    return scenario("treadmill_quick", seed=2)


def _assemble(notes):
    assembler = StreamAssembler()
    parts = [assembler.push([n.data]) for n in notes] + [assembler.flush()]
    parts = [p for p in parts if len(p)]
    order = np.argsort(
        np.concatenate([p.boot.astype(np.int64) * 2**40 + p.sample_index for p in parts])
    )
    columns = {
        name: np.concatenate([getattr(p, name) for p in parts])[order]
        for name in ("boot", "sample_index", "acc_ms2", "gyr_dps", "device_time_s")
    }
    return assembler, columns


def test_the_device_path_is_the_firmware_not_a_host_copy(recording):
    board = VirtualBoard(recording, 0, 2000, boot=1, mtu=247)
    for part, module in (
        (board.imu, "hipdrop_fw.imu.mpu6886"),
        (board.sampler, "hipdrop_fw.sampler"),
    ):
        loaded = sys.modules[type(part).__module__]
        assert loaded.__name__ == module
        assert firmware_dir() in Path(loaded.__file__).parents
    host_sources = (firmware_dir().parent / "host").rglob("*.py")
    assert not any("struct.pack_into" in p.read_text() for p in host_sources)


def test_no_fault_means_every_sample_arrives_exactly(recording):
    sensor = VirtualSensor(recording)
    notes = list(sensor.notifications())
    assert all(len(n.data) <= 244 for n in notes)
    assembler, got = _assemble(notes)
    assert assembler.gaps() == [] and not assembler.errors
    n = len(got["sample_index"])
    np.testing.assert_array_equal(got["sample_index"], np.arange(n))  # nothing lost
    assert n > len(recording) - 120  # only the boot (self-test, configuring) and the last poll
    rows = sensor.recording_index(got["boot"], got["sample_index"])
    np.testing.assert_allclose(got["acc_ms2"], recording.acc_ms2[rows], atol=1e-9)
    np.testing.assert_allclose(got["gyr_dps"], recording.gyr_dps[rows], atol=1e-9)
    # device time: the ESP32 clock at each sample, late by less than one sample period
    spec = recording.spec
    device_s = recording.time_s[rows] * (1 + spec.clock_error)
    late = got["device_time_s"] - (device_s - device_s[0] + got["device_time_s"][0])
    assert np.abs(late).max() < 1.5 / spec.rate_hz


def test_mtu_sets_the_batch_size(recording):
    small = list(VirtualSensor(recording, mtu=87).notifications())
    assert {len(n.data) for n in small[:-1]} == {20 + 16 * 4}
    decoded = decode_packets([n.data for n in small[:50]])
    assert decoded.errors == {} or not any(decoded.errors.values())


def test_faults_give_exact_gap_reports(recording):
    faults = parse_faults("drop@20:1.5,dup@30,reorder@40,corrupt@50,disconnect@60:5")
    notes = list(VirtualSensor(recording).notifications())
    lost = [n for n in notes if 20 <= n.host_time_s < 21.5 or 60 <= n.host_time_s < 65]
    corrupted = next(n for n in notes if n.host_time_s >= 50)
    expected = _ranges(lost + [corrupted])
    assembler, got = _assemble(inject(notes, faults))
    assert [(a, b) for _, a, b in assembler.gaps()] == expected
    assert assembler.errors["bad_crc"] == 1 and assembler.errors["duplicate"] == 1
    sent = int(decode_packets([n.data for n in notes]).count.sum())
    assert len(got["sample_index"]) == sent - sum(b - a for a, b in expected)
    assert np.all(np.diff(got["sample_index"]) > 0)


def _ranges(notes):
    """Missing sample ranges from the lost notifications, adjacent ones merged."""
    decoded = decode_packets([n.data for n in notes])
    spans = sorted(zip(decoded.seq.tolist(), (decoded.seq + decoded.count).tolist()))
    merged = []
    for a, b in spans:
        if merged and merged[-1][1] == a:
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def test_reboot_starts_a_new_boot_from_zero(recording):
    faults = parse_faults("reboot@60")
    sensor = VirtualSensor(recording, boot=7, reboots_s=reboot_times(faults))
    assembler, got = _assemble(sensor.notifications())
    assert set(np.unique(got["boot"])) == {7, 8}
    second = got["boot"] == 8
    assert got["sample_index"][second][0] == 0
    assert got["device_time_s"][second][0] < 1.5
    assert assembler.gaps() == []


@pytest.mark.parametrize(
    "text,message",
    [
        ("explode@3", "unknown fault kind"),
        ("drop@x", "cannot read fault"),
        ("drop@10", "needs a duration"),
    ],
)
def test_bad_fault_specs_are_clear_errors(text, message):
    with pytest.raises(HipdropError, match=message):
        parse_faults(text)
