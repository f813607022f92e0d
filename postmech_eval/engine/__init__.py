"""Model-agnostic machinery: one site vocabulary resolved through one table per architecture
family, hooks inside context managers, capture, generation, resumable forwards, exact patching.
It loads no model and knows no lm-eval, dataset or analysis."""
