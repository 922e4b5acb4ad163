"""Thin adapters that let external RL trainers (TRL, OpenRLHF) train on feedback-gym environments."""
