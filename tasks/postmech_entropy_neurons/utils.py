"""lm-eval hooks for postmech_entropy_neurons; the work happens in postmech_eval (see task_support)."""

from postmech_eval.harness.task import task_functions

_functions = task_functions("postmech_entropy_neurons")
load_docs = _functions["load_docs"]
doc_to_text = _functions["doc_to_text"]
process_results = _functions["process_results"]
first = _functions["first"]
