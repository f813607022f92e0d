"""The lm-eval face: the ``postmech`` model, the one task class, the start-up plugin hook and
the hub-dataset docs. The only package that imports lm_eval; the analyses never see it."""
