"""Serve any feedback-gym environment over the network with OpenEnv's protocol.

``feedback-gym serve ID`` runs an ``openenv-core`` server (HTTP + a WebSocket session per client)
whose sessions each hold their own instance of ``ID``; :class:`feedback_gym.remote.RemoteEnv` is the
``gymnasium.Env`` on the other side, and OpenEnv's own ``GenericEnvClient`` works too. Modules:

- ``config``: :class:`ServeConfig`, the validated settings (bind address, token, limits).
- ``wire``: JSON-safe values and errors that keep their type across the wire (no openenv import).
- ``models``: the OpenEnv action, observation and state models of every served environment.
- ``environment``: the OpenEnv ``Environment`` that wraps one Gymnasium env per session.
- ``guard``: the ASGI layer that checks the token and bounds request bodies.
- ``app`` / ``server``: the FastAPI app and the uvicorn process that serves it.
- ``process``: start a server as a child process and stop it by its PID (tests, benchmark, examples).
- ``bridge`` / ``image`` / ``container``: the Docker image and the loopback bridge to its socket.

Everything that needs ``openenv-core`` (the ``serve`` extra) imports it inside functions, so this
package imports without it.
"""
