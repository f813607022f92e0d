"""analyses/refusal."""
