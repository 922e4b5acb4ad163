"""The Sandbox protocol and its backends: where model-written code runs, isolated.

``make_sandbox("local" | "docker" | config)`` gives a :class:`Sandbox`; ``harness`` runs hidden unit tests
and compiles C/C++ on any of them.
"""

from feedback_gym.sandboxes.base import ExecResult, Job, Limits, Sandbox
from feedback_gym.sandboxes.config import DockerConfig, LocalConfig, make_sandbox

__all__ = ["DockerConfig", "ExecResult", "Job", "Limits", "LocalConfig", "Sandbox", "make_sandbox"]
