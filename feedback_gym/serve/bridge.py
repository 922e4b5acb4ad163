"""A loopback TCP port that forwards every connection to a Unix socket, byte for byte.

Served containers run with ``network_mode="none"`` (always), so they cannot publish a port; the
server inside listens on a Unix socket in a bind-mounted folder, and this bridge, in the host
process that started the container, gives clients an ordinary ``http://127.0.0.1:PORT``. It reads
nothing and runs nothing: the token check and every bound stay in the server behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

#: Bytes moved per read.
CHUNK = 1 << 16


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def _forward(
    uds_path: str, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
) -> None:
    try:
        server_reader, server_writer = await asyncio.open_unix_connection(uds_path)
    except OSError:
        client_writer.close()
        return
    sock = client_writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    await asyncio.gather(_pipe(client_reader, server_writer), _pipe(server_reader, client_writer))


async def serve_bridge(listener: socket.socket, uds_path: str, stop: asyncio.Event) -> None:
    """Forward connections accepted on ``listener`` to ``uds_path`` until ``stop`` is set."""
    server = await asyncio.start_server(lambda r, w: _forward(uds_path, r, w), sock=listener, limit=CHUNK)
    async with server:
        await stop.wait()
