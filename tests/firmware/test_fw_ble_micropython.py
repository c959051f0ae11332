"""hipdrop_fw.ble on a real MicroPython interpreter: payload bytes, and no allocation under
``micropython.heap_lock()`` in the IRQ handler and in ``notify_stream``."""

from pathlib import Path

import pytest
from fw_support import assert_passed, assert_ran_to_the_end, run_micropython

HERE = Path(__file__).parent
CHECKS = [
    "check_irq_allocates_nothing",
    "check_notify_stream_allocates_nothing",
    "check_payloads",
    "check_poll_answers_a_command",
]


@pytest.fixture(scope="module")
def mpy_result():
    """One MicroPython start runs every check (a node start costs ~0.25 s)."""
    return run_micropython(HERE / "fw_mpy_ble.py", HERE / "mpy_radio.py")


def test_run_succeeds(mpy_result):
    assert_ran_to_the_end(mpy_result)


@pytest.mark.parametrize("name", CHECKS)
def test_check(mpy_result, name):
    assert_passed(mpy_result, name)
