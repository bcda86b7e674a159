"""What the notebooks call: a chapter's parameters and results, cached runs, and each chapter's experiment.

Notebooks hold narrative and calls into ``paperlib``; the code that computes a chapter's numbers, its tables
and its verdicts lives here.
"""

from .chapter import Chapter, check_parameters, default_scale, default_seeds, open_chapter, results_root
from .folders import code_hash, input_key
from .results import run_provenance, write_results

__all__ = [
    "Chapter",
    "check_parameters",
    "code_hash",
    "default_scale",
    "default_seeds",
    "input_key",
    "open_chapter",
    "results_root",
    "run_provenance",
    "write_results",
]
