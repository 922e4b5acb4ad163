"""Build the environment-server image from this machine's own files (placeholder; filled in below)."""

from __future__ import annotations

#: The tag ``feedback-gym serve-image`` builds and ``feedback-gym serve --docker`` runs.
DEFAULT_SERVER_IMAGE = "feedback-gym-server:latest"


def build_server_image(tag: str = DEFAULT_SERVER_IMAGE) -> str:
    """Build the image; returns a one-line summary."""
    raise NotImplementedError
