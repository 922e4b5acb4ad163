"""Multi-turn retry: the ``RetryUntilSolved`` wrapper and the ``*TryAgain-v0`` environments.

``RetryUntilSolved`` turns any single-turn verifiable text environment into a retry episode with
feedback between attempts; ``MathTryAgain-v0`` and ``CodeTryAgain-v0`` are the math and code
families played with unary "try again" feedback and a turn budget (``feedback_gym.envs.retry.tryagain``).
"""

from __future__ import annotations

from feedback_gym.envs.retry.wrapper import (
    RETRY_FEEDBACK_MODES,
    EnvFeedback,
    RetryUntilSolved,
    verdict_from_info,
)

__all__ = ["RETRY_FEEDBACK_MODES", "EnvFeedback", "RetryUntilSolved", "verdict_from_info"]
