"""The machine's shared embedded Redis (memory.connection.SharedRedis): the first process starts it on
the well-known socket, the others join, it outlives the one that started it, and the last one out
stops it and removes its files; a socket path that cannot be used is one line saying what to set."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from robocortex.memory.connection import SharedRedis, SocketUnusable, connect


def test_first_starts_others_join_last_one_out_stops_it(tmp_path):
    path = str(tmp_path / "meet" / "redis.socket")
    first = SharedRedis.join(path, "world-host:w:1")
    second = SharedRedis.join(path, "worker:robot1:2")
    assert (first.started, second.started) == (True, False) and first.url == second.url == f"unix://{path}"
    connect(second.url).set("k", "v")
    assert first.others() == ["worker:robot1:2", "world-host:w:1"]  # sorted
    first.leave()  # the one that started it goes first: the server stays for the other
    assert connect(second.url).get("k") == "v" and second.others() == ["worker:robot1:2"]
    second.leave()
    assert not os.path.exists(path) and not (tmp_path / "meet").exists()


def test_a_stale_socket_is_replaced(tmp_path):
    path = tmp_path / "redis.socket"
    path.write_text("")  # what a killed server can leave behind: a path nobody answers on
    shared = SharedRedis.join(str(path), "serve:b:1")
    try:
        assert shared.started and connect(shared.url).ping()
    finally:
        shared.leave()


def test_an_unusable_socket_path_says_what_to_set(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(SocketUnusable, match="set ROBOCORTEX_REDIS_SOCKET to a writable path or ROBOCORTEX_REDIS_URL"):
        SharedRedis.join(str(tmp_path / "file" / "redis.socket"), "serve:b:1")


@pytest.mark.e2e
def test_the_command_refuses_in_one_line(tmp_path):
    (tmp_path / "file").write_text("")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("ROBOCORTEX_")},
           "ROBOCORTEX_REDIS_SOCKET": str(tmp_path / "file" / "redis.socket")}
    proc = subprocess.run([sys.executable, "-m", "robocortex.agents.cli", "serve", "--port", "0"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr + proc.stdout
    assert "ROBOCORTEX_REDIS_SOCKET" in proc.stderr
