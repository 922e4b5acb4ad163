"""feedback-gym: Gymnasium environments in which a language-model agent learns from feedback.

``import feedback_gym`` registers every environment id with Gymnasium::

    import gymnasium as gym
    import feedback_gym

    env = gym.make("Countdown-v0")
    obs, info = env.reset(seed=0)
"""

from feedback_gym import registration as _registration
from feedback_gym.env import FeedbackEnv
from feedback_gym.feedback import Attempt, FeedbackContext, FeedbackMode
from feedback_gym.rewards import RewardConfig
from feedback_gym.tasks import GeneratedTaskSource, ListTaskSource, Task, TaskSource
from feedback_gym.verdict import CheckResult, Verdict, Verifier
from feedback_gym.version import __version__

registered_ids = _registration.feedback_gym_ids

__all__ = [
    "Attempt",
    "CheckResult",
    "FeedbackContext",
    "FeedbackEnv",
    "FeedbackMode",
    "GeneratedTaskSource",
    "ListTaskSource",
    "RewardConfig",
    "Task",
    "TaskSource",
    "Verdict",
    "Verifier",
    "__version__",
    "registered_ids",
]
