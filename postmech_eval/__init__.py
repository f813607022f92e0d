"""postmech-eval: how post-training reshapes a model, measured as lm-eval tasks."""

__version__ = "0.2.0"
