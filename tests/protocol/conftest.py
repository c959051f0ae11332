"""Fixtures of the protocol tests; the helpers live in protocol_testkit.py."""

from __future__ import annotations

import pytest
from protocol_testkit import load_vectors


@pytest.fixture(scope="session")
def vectors() -> dict[str, dict]:
    return load_vectors()
