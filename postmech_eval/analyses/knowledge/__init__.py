"""analyses/knowledge."""
