"""Real-time pacing of the demo stream, on a fake clock."""

from dataclasses import dataclass

from hipdrop.live.pacing import paced


@dataclass
class Item:
    host_time_s: float


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.slept = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_realtime_waits_until_each_item_is_due():
    clock = FakeClock()
    items = [Item(0.0), Item(0.5), Item(0.5), Item(2.0)]
    out = list(paced(items, True, clock=clock.monotonic, sleep=clock.sleep))
    assert out == items
    assert clock.slept == [0.5, 1.5]
    assert clock.now == 102.0


def test_as_fast_as_possible_never_sleeps():
    clock = FakeClock()
    assert len(list(paced([Item(0.0), Item(5.0)], False, clock.monotonic, clock.sleep))) == 2
    assert clock.slept == []
