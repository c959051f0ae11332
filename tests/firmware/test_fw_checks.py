"""The shared firmware checks on CPython (the host's virtual sensor runs the firmware here)."""

import fw_checks
import pytest


@pytest.mark.parametrize(("name", "check"), fw_checks.CHECKS, ids=[n for n, _ in fw_checks.CHECKS])
def test_check(name, check):
    check()
