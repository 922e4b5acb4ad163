"""Environment families: one module or folder per family (see ``feedback_gym.registration``)."""
