import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data():
    """../shared/data beside the checkout; in CI its absence is a failure, not a skip."""
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{SHARED_DATA} is missing: CI must run with ../shared beside the clone")
        pytest.skip(f"{SHARED_DATA} is missing (clone beside ../shared to run the real-data tests)")
    return SHARED_DATA
