"""The settings of a GRPO run (:func:`feedback_gym.agents.grpo.train`), free of heavy imports.

Kept apart from the trainer so that ``feedback-gym --help`` can list every flag without importing
torch. Each field is a ``feedback-gym train`` flag (``tasks_per_step`` -> ``--tasks-per-step``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from feedback_gym.errors import ConfigError, require_int

#: Policy specs the trainer can update (a transformers model it holds the weights of).
TRAINABLE_SPECS = ("smollm2", "tiny-random", "hf")


@dataclass
class Args:
    """Everything a training run depends on (saved with every checkpoint)."""

    env: str = "Countdown-v0"
    """A registered environment id."""
    model: str = "smollm2"
    """A policy spec: ``smollm2``, ``tiny-random``, ``hf:PATH_OR_ID``."""
    steps: int = 100
    """Optimizer steps (one rollout batch each)."""
    out: str = "runs/grpo"
    """Output directory: metrics, transcripts, checkpoints, final model."""
    seed: int = 0
    """Seeds the task draws, the sampling and torch."""
    tasks_per_step: int = 4
    """Distinct tasks per step."""
    group_size: int = 8
    """Episodes per task (the group whose mean is the baseline)."""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """Passed to ``gym.make`` (e.g. ``{"max_turns": 3, "feedback": "tests"}``)."""
    vectorization_mode: str = "sync"
    """``sync`` or ``async`` (environments in subprocesses; for slow verifiers)."""
    max_new_tokens: int = 256
    """Most tokens per reply."""
    temperature: float = 1.0
    """Sampling temperature (the loss uses the same tempered distribution)."""
    max_transcript_tokens: int = 4096
    """An episode stops once its transcript is this long."""
    learning_rate: float = 1e-6
    weight_decay: float = 0.0
    clip_eps: float = 0.2
    """PPO clip range for the probability ratio."""
    kl_coef: float = 0.0
    """Weight of the KL penalty to the frozen start model (0 = no reference model is kept)."""
    scale_rewards: bool = True
    """Divide advantages by the group's standard deviation."""
    refinement_samples: bool = False
    """Critique-GRPO: every reply after feedback joins its task's group as a sample of its own."""
    refinement_context: str = "prompt"
    """What a refinement sample is trained after: ``prompt`` (the paper) or ``transcript``."""
    refinement_shaping: float = 0.0
    """Critique-GRPO's shaping gamma on refinement tokens (``p / (p + gamma)``; 0 = clipped ratio)."""
    reflection_memory: bool = False
    """Reflexion: the live policy reflects on each failed episode; its task's next episodes open with it."""
    epochs: int = 1
    """Passes over each rollout batch (> 1 makes the ratio and clipping matter)."""
    micro_batch_size: int = 8
    """Episodes per forward/backward pass; gradients accumulate over the batch."""
    max_grad_norm: float = 1.0
    checkpoint_every: int = 50
    """Save a checkpoint every this many steps (and at the end)."""
    keep_checkpoints: int = 2
    resume: bool = False
    """Continue from the newest checkpoint in ``out``."""
    transcripts_per_step: int = 2
    """Episodes per step written to ``transcripts.jsonl``."""
    tensorboard: bool = False
    progress: bool = True
    device: str = "auto"

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first bad value."""
        positive = (
            "steps",
            "tasks_per_step",
            "group_size",
            "max_new_tokens",
            "max_transcript_tokens",
            "epochs",
            "micro_batch_size",
            "checkpoint_every",
            "keep_checkpoints",
        )
        for name in positive:
            require_int(name, getattr(self, name), minimum=1)
        if self.group_size < 2:
            raise ConfigError("group_size must be >= 2: the group mean is the baseline")
        if not (
            self.learning_rate > 0 and 0 < self.clip_eps < 1 and self.kl_coef >= 0 and self.temperature > 0
        ):
            raise ConfigError("need learning_rate > 0, 0 < clip_eps < 1, kl_coef >= 0 and temperature > 0")
        if self.refinement_context not in ("prompt", "transcript"):
            raise ConfigError(
                f"refinement_context must be 'prompt' or 'transcript'; got {self.refinement_context!r}"
            )
        if not self.refinement_shaping >= 0 or (self.refinement_shaping > 0 and not self.refinement_samples):
            raise ConfigError("refinement_shaping must be >= 0 and needs refinement_samples=True")
        if self.reflection_memory and self.vectorization_mode != "sync":
            raise ConfigError("reflection_memory needs vectorization_mode='sync' (the live policy reflects)")
        if self.vectorization_mode not in ("sync", "async"):
            raise ConfigError(
                f"vectorization_mode must be 'sync' or 'async'; got {self.vectorization_mode!r}"
            )
