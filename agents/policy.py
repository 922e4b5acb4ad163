"""The policy protocol and the built-in policy specs, re-exported from :mod:`feedback_gym.policy`.

The protocol moved into the core so environments can use policies without importing the agents;
``from feedback_gym.agents.policy import Policy, Reply, make_policy`` keeps working.
"""

from __future__ import annotations

from feedback_gym.policy import (
    OPTIONAL_FACTORY_MODULES,
    POLICY_FACTORIES,
    Conversation,
    OraclePolicy,
    Policy,
    RandomPolicy,
    Reply,
    make_policy,
)

__all__ = [
    "OPTIONAL_FACTORY_MODULES",
    "POLICY_FACTORIES",
    "Conversation",
    "OraclePolicy",
    "Policy",
    "RandomPolicy",
    "Reply",
    "make_policy",
]
