"""Where a process's time goes, by room: a sampling profiler over every thread.

Every `interval_s` it reads each thread's current frame (`sys._current_frames`) and charges the
sample to the innermost frame that is this project's code (its room: brain/understanding,
brain/search, sim, memory, …) or, when no project frame is on the stack, to the library. A thread
waiting (a Redis command sent with BLOCK, or a library or standard-library wait: a sleeping robot, a
lock, a subprocess) is counted as idle, except a search waiting
for its Fast Downward subprocess, which is counted as such. Unlike cProfile it sees every thread
(the brain and the robots run in threads) and costs little.
"""

from __future__ import annotations

import collections
import sys
import threading
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
ROOMS = ("brain/understanding", "brain/search", "brain", "cerebellum", "sim", "memory", "evaluation", "agents",
         "knowledge")
WAITS = {"wait", "select", "poll", "sleep", "acquire", "recv", "recv_into", "read", "readline", "_wait_for_tstate_lock",
         "accept", "get", "communicate", "_communicate", "join"}


def _ours(path: str) -> bool:
    """Whether a code file is this project's (not the virtualenv's libraries or the standard library)."""
    return path.startswith(str(ROOT)) and "/.venv/" not in path


SOCKET_READS = {"read_response", "read_from_socket", "_read_from_socket", "_socket_can_read", "can_read"}


def _blocking_redis_call(frame: FrameType | None) -> bool:
    """Whether the thread is reading the reply to a Redis command sent with BLOCK: through
    `execute_command` (XREAD, XREADGROUP with block=…), or a wait of our own that sends it by hand
    and says so in its `block_ms` argument (the robot's take, memory/dispatch.py)."""
    if frame is None or frame.f_code.co_name not in SOCKET_READS:
        return False
    while frame is not None:
        if frame.f_code.co_name == "execute_command":
            args = frame.f_locals.get("args") or ()
            return any(isinstance(a, (str, bytes)) and a in ("BLOCK", b"BLOCK") for a in args)
        if _ours(frame.f_code.co_filename) and frame.f_locals.get("block_ms"):
            return True
        frame = frame.f_back
    return False


def _room(frame: FrameType | None) -> str:
    innermost = frame
    waiting = frame is not None and frame.f_code.co_name in WAITS and not _ours(frame.f_code.co_filename)
    if _blocking_redis_call(frame):
        return "idle (waiting)"
    while frame is not None:
        path = frame.f_code.co_filename
        if _ours(path):
            rel = Path(path).relative_to(ROOT).as_posix()
            room = next((r for r in ROOMS if rel.startswith(r + "/")), rel.split("/")[0])
            if waiting:
                return "Fast Downward (subprocess)" if room == "brain/search" else "idle (waiting)"
            return room
        frame = frame.f_back
    if waiting or innermost is None:
        return "idle (waiting)"
    parts = Path(innermost.f_code.co_filename).parts
    return parts[parts.index("site-packages") + 1] if "site-packages" in parts else "python (stdlib)"


class RoomProfile:
    """`with RoomProfile() as p: …` then `p.table()`: samples per room, busy share."""

    def __init__(self, interval_s: float = 0.002):
        self.interval_s = interval_s
        self.samples: collections.Counter[str] = collections.Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="room-profiler", daemon=True)

    def _run(self) -> None:
        me = threading.get_ident()
        while not self._stop.wait(self.interval_s):
            for ident, frame in sys._current_frames().items():
                if ident != me:
                    self.samples[_room(frame)] += 1

    def __enter__(self) -> "RoomProfile":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def table(self, top: int = 12) -> str:
        busy = {k: v for k, v in self.samples.items() if k != "idle (waiting)"}
        total = sum(busy.values()) or 1
        lines = [f"  {'room or library':28} {'share of busy samples':>22}"]
        for room, n in sorted(busy.items(), key=lambda kv: -kv[1])[:top]:
            lines.append(f"  {room:28} {n / total:21.1%}")
        lines.append(f"  ({total} busy samples over all threads; {self.samples['idle (waiting)']} idle)")
        return "\n".join(lines)
