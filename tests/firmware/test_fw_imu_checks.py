"""The shared board, IMU-driver and sampler checks on CPython (fw_imu_checks.py)."""

import fw_imu_checks
import pytest


@pytest.mark.parametrize(
    ("name", "check"), fw_imu_checks.CHECKS, ids=[n for n, _ in fw_imu_checks.CHECKS]
)
def test_check(name, check):
    check()
