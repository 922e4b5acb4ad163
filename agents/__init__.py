"""Policies, trainers and adapters to external RL trainers."""
