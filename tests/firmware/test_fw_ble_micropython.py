"""hipdrop_fw.ble on a real MicroPython interpreter: payload bytes, and no allocation under
``micropython.heap_lock()`` in the IRQ handler and in ``notify_stream``."""

from pathlib import Path

from fw_support import micropython_run_tests

HERE = Path(__file__).parent
CHECKS = [
    "check_irq_allocates_nothing",
    "check_notify_stream_allocates_nothing",
    "check_payloads",
    "check_poll_answers_a_command",
]

mpy_result, test_run_succeeds, test_check = micropython_run_tests(
    HERE / "fw_mpy_ble.py", HERE / "mpy_radio.py", checks=CHECKS
)
