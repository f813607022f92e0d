"""analyses/confidence."""
