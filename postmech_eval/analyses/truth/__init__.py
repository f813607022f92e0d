"""analyses/truth."""
