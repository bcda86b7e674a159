"""What the notebooks call: scales, cached runs and result files with provenance.

Notebooks hold narrative and calls into ``paperlib``; the code that computes a chapter's numbers lives here.
"""

from .cache import code_hash, input_key
from .results import check_parameters, default_scale, default_seeds, run_provenance, write_results

__all__ = [
    "check_parameters",
    "code_hash",
    "default_scale",
    "default_seeds",
    "input_key",
    "run_provenance",
    "write_results",
]
