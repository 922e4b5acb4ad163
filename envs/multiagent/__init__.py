"""Multi-agent (PettingZoo) environments in which a critic is paid for the improvement it causes.

One module per environment, each exposing ``env()`` (AEC), ``raw_env()`` and ``parallel_env()``:

- :mod:`.solver_critic_v0`: a solver answers, a critic critiques, the solver revises (RefCritic,
  MAgICoRe); the critic earns +1/-1 for fixing/breaking the answer plus a verdict-accuracy term.
- :mod:`.code_critique_v0`: a critic writes feedback on a program with an injected bug, an editor
  revises it; the critic earns the unit-test score of the revision (Coffee-Gym's CoffeeEval).

Tasks and checking come from any feedback-gym family (``family="Countdown-v0"``,
``"MathCritique-v0"``, ``"CodeFeedback-v0"``...). :class:`.seats.SingleSeatEnv` fills every other
seat with a frozen policy and turns the remaining seat into a plain Gymnasium env, so single-agent
trainers can train a critic or a solver; ``CodeCritic-v0`` registers one such view.
"""
