"""Trainyard: a deep-learning training platform for teams that share GPUs.

Write a trial once; run it on one device, data-parallel over many, or as a hyperparameter
search on a shared pool of slots, with checkpoints, preemption and a web UI.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
