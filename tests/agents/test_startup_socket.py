"""The listening socket `robocortex serve` and `robocortex world-host` bind before uvicorn starts: the
connections it accepts send without Nagle's delay, so a kept-alive client (a worker calling the world
host once per action, the console, schemathesis) is not held ~40 ms per response by the delayed ACK."""

from __future__ import annotations

import asyncio
import socket

from robocortex.agents.startup import bind


def test_connections_accepted_on_the_bound_socket_have_tcp_nodelay():
    async def accepted_nodelay() -> int:
        loop = asyncio.get_running_loop()
        seen: asyncio.Future[int] = loop.create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport):  # the same path uvicorn's server takes (sock=...)
                sock = transport.get_extra_info("socket")
                seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await loop.create_server(Probe, sock=bind("127.0.0.1", 0))
        port = server.sockets[0].getsockname()[1]
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            value = await asyncio.wait_for(seen, 10)
            writer.close()
            return value
        finally:
            server.close()
            await server.wait_closed()

    assert asyncio.run(accepted_nodelay()) != 0
