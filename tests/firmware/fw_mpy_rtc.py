"""MicroPython entry (tests/mpy/run.mjs): hipdrop_fw.rtc on a real MicroPython interpreter.

Every shared check of fw_rtc_checks.py, then the date arithmetic against CPython's
``datetime``: test_fw_rtc.py writes ``/work/rtc_dates.json``, rows of ``[unix_s, year, month,
day, hours, minutes, seconds, weekday (0 = Sunday)]`` that ``datetime`` computed.
Prints ``ok NAME`` or ``FAIL NAME: error`` per check, then ``DONE``; raises if any failed.
"""

import json

import fw_rtc_checks
import mpy_report

from hipdrop_fw import rtc


def check_dates_agree_with_cpython_datetime():
    with open("/work/rtc_dates.json") as f:
        rows = json.load(f)
    assert len(rows) > 1000
    for unix_s, y, mo, d, h, mi, s, wd in rows:
        assert rtc.from_unix_s(unix_s) == (y, mo, d, h, mi, s), unix_s
        assert rtc.to_unix_s(y, mo, d, h, mi, s) == unix_s, unix_s
        assert rtc.weekday(unix_s) == wd, unix_s


mpy_report.run_checks(
    fw_rtc_checks.CHECKS
    + [("check_dates_agree_with_cpython_datetime", check_dates_agree_with_cpython_datetime)],
    "rtc",
)
