"""Run one environment server in this process with uvicorn, on TCP or a Unix socket.

The socket is bound before uvicorn starts, so ``--port 0`` works and the first line printed,
``serving ID at URL``, names the real address (the process helpers read it). uvicorn bounds what
OpenEnv does not: WebSocket message size (``ws_max_size``), connections at once
(``limit_concurrency``: the session bound plus room for health and info requests), and dead peers
(WebSocket pings), so a client that vanishes frees its session.
"""

from __future__ import annotations

import os
import socket
import sys

from feedback_gym.errors import missing_dependency
from feedback_gym.serve.config import ServeConfig

#: Connections beyond the session bound allowed for /health, /feedback-gym, refused handshakes.
EXTRA_CONNECTIONS = 16
#: Seconds between WebSocket pings; a peer that misses one is dropped and its session freed.
PING_INTERVAL_S = 20.0


def bind(config: ServeConfig) -> tuple[socket.socket, ServeConfig]:
    """Bind and listen; returns the socket and the config with the port actually bound."""
    if config.uds is not None:
        if os.path.exists(config.uds):
            os.unlink(config.uds)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # the socket is born 0600: only its owner may connect
        try:
            sock.bind(config.uds)
        finally:
            os.umask(old)
    else:
        family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((config.host.strip("[]"), config.port))
        port = sock.getsockname()[1]
        if port != config.port:
            from dataclasses import replace

            config = replace(config, port=port)
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock, config


def serve(config: ServeConfig) -> None:
    """Serve until SIGINT/SIGTERM; prints ``serving ID at URL`` once the socket listens."""
    try:
        import uvicorn
    except ImportError:
        raise missing_dependency("uvicorn", "serve") from None
    from feedback_gym.serve.app import build_app

    app = build_app(config)
    sock, config = bind(config)
    print(f"serving {config.env_id} at {config.url}", flush=True)
    uv_config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        ws_max_size=config.max_request_bytes,
        ws_ping_interval=PING_INTERVAL_S,
        ws_ping_timeout=PING_INTERVAL_S,
        limit_concurrency=config.max_sessions + EXTRA_CONNECTIONS,
        timeout_graceful_shutdown=5,
    )
    try:
        uvicorn.Server(uv_config).run(sockets=[sock])
    finally:
        sock.close()
        if config.uds is not None and os.path.exists(config.uds):
            os.unlink(config.uds)
    sys.stdout.flush()
