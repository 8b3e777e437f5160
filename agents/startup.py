"""What every long-running command does before it serves: find its Redis (the URL set, or the
machine's shared embedded one), wait for what it needs with backoff (saying so once), bind its
port before anything says "ready", and serve with uvicorn through our logs.

Failures are `Unavailable` (something needed is unreachable or taken: exit code 3) with a message
that fits on one line; the CLI prints it.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from typing import Any

import httpx
import redis
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_delay, wait_exponential

from robocortex.agents.logs import uvicorn_options
from robocortex.agents.settings import Settings
from robocortex.memory.connection import SharedRedis, SocketUnusable

log = logging.getLogger("robocortex.startup")
EXIT_UNAVAILABLE = 3


class Unavailable(Exception):
    """Something the command needs is unreachable or taken (exit code 3)."""


class NotYet(Exception):
    """A check that may pass later (waited for with backoff)."""


def wait_for(what: str, check: Callable[[], Any], timeout_s: float, hint: str) -> Any:
    """`check()` until it stops raising NotYet, with exponential backoff (0.2 s doubling to 5 s);
    one log line when it starts waiting; Unavailable after `timeout_s`."""

    def said_once(state: RetryCallState) -> None:
        if state.attempt_number == 1:
            log.warning("waiting for %s (%s); retrying with backoff for up to %.0f s", what,
                        state.outcome.exception() if state.outcome else "", timeout_s)

    try:
        for attempt in Retrying(stop=stop_after_delay(timeout_s), wait=wait_exponential(multiplier=0.2, max=5),
                                retry=retry_if_exception_type(NotYet), before_sleep=said_once, reraise=True):
            with attempt:
                return check()
    except NotYet as exc:
        raise Unavailable(f"{what} unreachable after {timeout_s:.0f} s ({exc}); {hint}") from None


# ---------------------------------------------------------------------- Redis


def meet_redis(settings: Settings, who: str) -> tuple[Settings, SharedRedis | None]:
    """The settings with the Redis this process uses: ROBOCORTEX_REDIS_URL when set, else the
    machine's shared embedded server at `settings.redis_socket` (joined, or started there)."""
    if settings.redis_url:
        return settings, None
    try:
        shared = SharedRedis.join(settings.redis_socket, who)
    except SocketUnusable as exc:
        raise Unavailable(str(exc)) from None
    return settings.model_copy(update={"redis_url": shared.url}), shared


def wait_for_redis(url: str, timeout_s: float) -> None:
    def ping() -> None:
        try:
            with redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2) as probe:
                probe.ping()
        except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError, OSError) as exc:
            raise NotYet(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None

    wait_for(f"Redis at {url}", ping, timeout_s,
             "start it, or set ROBOCORTEX_REDIS_URL (unset: the shared embedded Redis)")


def redis_origin(settings: Settings, shared: SharedRedis | None) -> str:
    if shared is None:
        return "ROBOCORTEX_REDIS_URL"
    return "embedded, started here" if shared.started else "embedded, joined"


# ---------------------------------------------------------------------- world host


def wait_for_world(world_url: str, timeout_s: float) -> dict[str, Any] | None:
    """The world host's /health answer once it gives one; None when it accepts the connection but
    does not answer in time (busy loading, or paused): it is there, so the worker need not wait."""

    def health() -> dict[str, Any] | None:
        try:
            resp = httpx.get(f"{world_url}/health", timeout=2.0)
            resp.raise_for_status()
            return resp.json()
        except (httpx.ReadTimeout, httpx.WriteTimeout):
            return None
        except httpx.HTTPError as exc:
            raise NotYet(f"{type(exc).__name__}: {exc}".splitlines()[0]) from None

    return wait_for(f"the world host at {world_url}", health, timeout_s,
                    "start `robocortex world-host`, or set --world-url / ROBOCORTEX_WORLD_URL")


# ---------------------------------------------------------------------- serving


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before the app starts (so nothing says ready on a busy port).

    Made with proto IPPROTO_TCP, as getaddrinfo would give it: asyncio sets TCP_NODELAY only on accepted
    sockets that say so, and without it every response after the first on a kept-alive connection
    waited out Nagle and the client's delayed ACK (about 40 ms each)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise Unavailable(f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --port") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(app: Any, sock: socket.socket, what: str) -> bool:
    """Serve `app` on the bound socket until a signal; False if the app failed to start."""
    import uvicorn

    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(app, timeout_graceful_shutdown=3, **uvicorn_options())  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    log.info("%s listening on http://%s:%d (pid %d)", what, host if ":" not in host else f"[{host}]", port,
             os.getpid())
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn raises the captured signal again once it has shut down (the
        pass  # caller's handler recorded it), as uvicorn.run does
    return server.started
