"""Multi-turn retry: the ``RetryUntilSolved`` wrapper and the ``*TryAgain-v0`` environments.

``RetryUntilSolved`` (:mod:`.wrapper`) turns any single-turn verifiable text environment into a
retry episode with feedback between attempts; ``MathTryAgain-v0`` (:mod:`.math_try_again`) and
``CodeTryAgain-v0`` (:mod:`.code_try_again`) are the maths and code families played with unary
"try again" feedback and a turn budget.
"""

from __future__ import annotations

from feedback_gym.envs.retry.wrapper import (
    RETRY_FEEDBACK_MODES,
    EnvFeedback,
    ReplayVerifier,
    RetryUntilSolved,
    verdict_from_info,
)

__all__ = ["RETRY_FEEDBACK_MODES", "EnvFeedback", "ReplayVerifier", "RetryUntilSolved", "verdict_from_info"]
