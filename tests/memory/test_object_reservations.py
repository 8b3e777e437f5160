import threading
import time

import pytest

from robocortex.memory.reservations import Reservations


@pytest.fixture
def reservations(r, keys):
    return Reservations(r, keys)


def test_all_or_nothing_and_reentrant(reservations):
    assert reservations.acquire(["Apple|1", "Fridge|1"], "alpha")
    assert not reservations.acquire(["Mug|1", "Fridge|1"], "beta")
    assert reservations.owner("Mug|1") is None  # nothing was taken by the failed attempt
    assert reservations.acquire(["Apple|1"], "alpha", ttl_ms=5000)  # re-entrant
    reservations.release(["Apple|1", "Fridge|1"], "beta")  # not beta's: untouched
    assert reservations.owner("Fridge|1") == "alpha"
    reservations.release(["Apple|1", "Fridge|1"], "alpha")
    assert reservations.acquire(["Mug|1", "Fridge|1"], "beta")
    assert reservations.acquire([], "anyone")


def test_reservations_lapse_and_can_be_extended(reservations):
    assert reservations.acquire(["a", "b"], "alpha", ttl_ms=150)
    time.sleep(0.1)
    assert reservations.extend(["a"], "alpha", ttl_ms=1000)
    assert not reservations.extend(["a", "b", "c"], "alpha", ttl_ms=1000)  # c is not alpha's
    time.sleep(0.1)
    assert reservations.owner("a") == "alpha"
    assert reservations.owner("b") == "alpha"  # b was extended too (it is alpha's)
    assert reservations.acquire(["x"], "alpha", ttl_ms=50)
    time.sleep(0.1)
    assert reservations.owner("x") is None and reservations.acquire(["x"], "beta")


def test_two_owners_never_hold_the_same_object_under_contention(r, keys):
    """8 threads grab random pairs of 4 objects; inside its hold each checks no one else is in."""
    import random

    objects = ["Apple|1", "Fridge|1", "Mug|1", "Knife|1"]
    inside: dict[str, str] = {}
    violations: list[str] = []
    acquired = []
    guard = threading.Lock()

    def robot(name):
        res = Reservations(r, keys)
        rng = random.Random(name)
        for _ in range(150):
            want = rng.sample(objects, 2)
            if not res.acquire(want, name, ttl_ms=10_000):
                continue
            with guard:
                for o in want:
                    if o in inside:
                        violations.append(f"{name} and {inside[o]} both hold {o}")
                    inside[o] = name
                acquired.append(name)
            assert all(res.owner(o) == name for o in want)
            with guard:
                for o in want:
                    inside.pop(o, None)
            res.release(want, name)

    threads = [threading.Thread(target=robot, args=(f"robot-{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert violations == []
    assert len(set(acquired)) == 8 and len(acquired) > 100  # real contention, real progress
    assert all(Reservations(r, keys).owner(o) is None for o in objects)
