"""Constants agree with docs/protocol.md and with the firmware."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from hipdrop.protocol import MIN_MTU, PROTOCOL_VERSION, samples_per_packet
from hipdrop.protocol.constants import G, Opcode, PacketType, Result

FIRMWARE_PROTOCOL = Path(__file__).resolve().parents[2] / "firmware/hipdrop_fw/protocol.py"


def test_samples_per_packet_matches_the_spec_examples():
    assert [samples_per_packet(m) for m in (247, 185, 87, 517)] == [14, 10, 4, 30]
    with pytest.raises(ValueError, match="below the minimum"):
        samples_per_packet(MIN_MTU - 1)


def test_enums_and_constants():
    assert PROTOCOL_VERSION == 1 and G == 9.80665
    assert [int(op) for op in Opcode] == list(range(1, 12))
    assert [int(r) for r in Result] == list(range(15))
    assert PacketType.STATUS == 0x10


def _firmware_version() -> int | None:
    """PROTOCOL_VERSION of firmware/hipdrop_fw/protocol.py, read without importing it."""
    for node in ast.walk(ast.parse(FIRMWARE_PROTOCOL.read_text())):
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(
                getattr(t, "id", None) in ("PROTOCOL_VERSION", "_PROTOCOL_VERSION") for t in targets
            ):
                value = node.value
                if isinstance(value, ast.Call):  # const(1)
                    value = value.args[0]
                return ast.literal_eval(value)
    return None


@pytest.mark.skipif(not FIRMWARE_PROTOCOL.exists(), reason="firmware protocol not written yet")
def test_protocol_version_agrees_with_the_firmware():
    assert _firmware_version() == PROTOCOL_VERSION
