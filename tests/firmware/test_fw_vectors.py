"""The firmware reproduces every golden vector it takes part in (tests/vectors), on CPython."""

import json
from collections import Counter

import fw_vectors
import pytest
from fw_support import FIRMWARE_VECTORS, VECTORS


def test_vectors_of_every_firmware_kind_exist():
    kinds = Counter(json.loads(f.read_text())["kind"] for f in FIRMWARE_VECTORS)
    for kind in ("samples", "status", "log_chunk", "command", "response"):
        assert kinds[kind] > 0, f"no {kind} vector in {VECTORS}"


@pytest.mark.parametrize("path", FIRMWARE_VECTORS, ids=[f.name for f in FIRMWARE_VECTORS])
def test_vector(path):
    assert fw_vectors.check(json.loads(path.read_text()))
