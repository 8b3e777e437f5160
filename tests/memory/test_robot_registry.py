import time

import pytest

from robocortex.memory.robots import RobotRegistry
from robocortex.memory.schemas import RobotProfile, RobotStatus


def profile(name, agent_id=0, **kw):
    return RobotProfile(name=name, agent_id=agent_id, skills=["navigate_to", "pick_up"], **kw)


@pytest.fixture
def registry(r, keys):
    return RobotRegistry(r, keys, heartbeat_ttl_s=0.3)


def test_register_list_and_derived_statuses(registry):
    registry.register(profile("alpha", 0))
    registry.register(profile("beta", 1, mobility="fixed", payload_kg=2))
    registry.heartbeat("beta", current_subtask="t1:s1:1")
    states = {s.profile.name: s for s in registry.list()}
    assert states["alpha"].status == RobotStatus.idle and states["alpha"].current_subtask is None
    assert states["beta"].status == RobotStatus.busy and states["beta"].current_subtask == "t1:s1:1"
    assert states["beta"].profile.mobility == "fixed" and states["beta"].profile.payload_kg == 2
    registry.heartbeat("beta")  # finished its subtask
    assert registry.get("beta").status == RobotStatus.idle
    assert registry.get("nobody") is None


def test_each_robot_expires_on_its_own_ttl(registry):
    registry.register(profile("alpha", 0))
    registry.register(profile("beta", 1))
    deadline = time.monotonic() + 3
    while registry.get("alpha").status != RobotStatus.offline:  # beta keeps beating, alpha stops
        registry.heartbeat("beta", current_subtask="t:s:1")
        assert time.monotonic() < deadline, "alpha never went offline"
        time.sleep(0.05)
    beta = registry.get("beta")
    assert beta.status == RobotStatus.busy
    alpha = registry.get("alpha")
    assert alpha.current_subtask is None and alpha.last_seen is not None  # still listed, with last seen


def test_deregister_is_offline_at_once_but_keeps_the_profile(registry):
    registry.register(profile("alpha"))
    registry.heartbeat("alpha", current_subtask="t:s:1")
    registry.deregister("alpha")
    state = registry.get("alpha")
    assert state.status == RobotStatus.offline and state.current_subtask is None
    registry.heartbeat("alpha")
    assert registry.get("alpha").status == RobotStatus.idle
    registry.forget("alpha")
    assert registry.get("alpha") is None and registry.list() == []


def test_a_name_left_by_a_dead_worker_is_free_once_its_heartbeat_expires_and_a_live_one_stays_taken(registry):
    registry.register(profile("alpha", 0))  # its worker dies now: the heartbeat lingers for the TTL
    assert registry.in_use("alpha", 5) is not None
    assert registry.taken("alpha", 5) is None  # waited out: a restarted worker takes the name back

    import threading
    registry.register(profile("beta", 1))
    stop = threading.Event()
    beating = threading.Thread(target=lambda: [registry.heartbeat("beta") or time.sleep(0.05)
                                               for _ in iter(lambda: stop.is_set(), True)])
    beating.start()
    try:
        started = time.monotonic()
        reason = registry.taken("beta", 7)
        assert reason is not None and "in use" in reason, reason
        assert time.monotonic() - started >= 0.3  # it waited the TTL before saying so
        assert registry.taken("gamma", 1) is not None  # beta's agent id is live too
    finally:
        stop.set()
        beating.join()


def test_of_two_workers_claiming_one_name_at_once_only_one_gets_it(registry):
    import threading

    assert registry.taken("delta", 9) is None
    barrier = threading.Barrier(2)
    won: list[bool] = []

    def start() -> None:
        barrier.wait()
        won.append(registry.claim("delta"))

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(won) == [False, True]
    started = time.monotonic()
    assert registry.taken("delta", 9) is None  # a claim whose worker never registers is waited out
    assert time.monotonic() - started >= 0.3
    assert registry.claim("delta")
    registry.register(profile("delta", 9))  # the winner's worker registers over its claim
    assert registry.get("delta").status == RobotStatus.idle
