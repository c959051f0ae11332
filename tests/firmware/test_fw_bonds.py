"""Bond keys in flash: MicroPython's secret IRQ semantics, survival across reboots, damage
(on MicroPython itself: fw_mpy_flashlog.py)."""

from hipdrop.vsensor.fake_flash import FakeFlash
from hipdrop.vsensor.firmware import firmware_module

bonds = firmware_module("bonds")


def test_get_by_key_or_by_index_and_delete():
    store = bonds.BondStore(FakeFlash())
    assert store.set(2, b"peer-a", b"keys-a") and store.set(2, b"peer-b", b"keys-b")
    assert store.set(10, b"self", b"irk")
    assert store.get(2, 0, memoryview(b"peer-b")) == b"keys-b"
    assert [store.get(2, i, None) for i in range(3)] == [b"keys-a", b"keys-b", None]
    assert store.get(10, 0, None) == b"irk" and store.get(2, 0, b"nobody") is None
    assert store.set(2, b"peer-a", None) and not store.set(2, b"peer-a", None)
    assert store.get(2, 0, None) == b"keys-b"


def test_saved_in_the_main_loop_and_read_back_after_a_reboot():
    flash = FakeFlash()
    store = bonds.BondStore(flash)
    store.set(2, b"peer", b"\x00\x01" * 100)
    assert store.dirty and store.save() and not store.dirty
    again = bonds.BondStore(flash)
    assert again.get(2, 0, b"peer") == b"\x00\x01" * 100


def test_a_new_key_replaces_the_old_one_and_the_oldest_go_first():
    store = bonds.BondStore(FakeFlash())
    for k in range(bonds.MAX_SECRETS + 5):
        store.set(2, b"peer-%d" % k, b"v%d" % k)
    store.set(2, b"peer-30", b"newer")
    assert len(store.secrets) == bonds.MAX_SECRETS
    assert store.get(2, 0, b"peer-0") is None and store.get(2, 0, b"peer-30") == b"newer"


def test_a_damaged_file_means_no_bonds_not_a_crash():
    flash = FakeFlash()
    store = bonds.BondStore(flash)
    store.set(2, b"peer", b"keys")
    store.save()
    with flash.open(bonds.BONDS_FILE, "rb") as f:
        data = bytearray(f.read())
    data[5] ^= 0xFF
    with flash.open(bonds.BONDS_FILE, "wb") as f:
        f.write(bytes(data))
    assert bonds.BondStore(flash).secrets == []
