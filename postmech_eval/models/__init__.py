"""Model specs (hub id, local directory, ``organism:NAME``, ``gguf:...``) resolved and checked
before any weights load, and the base/post ``ModelPair`` held one model at a time if asked."""
