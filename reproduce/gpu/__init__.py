"""The GPU checks (issue #30): drivers that run the CUDA op, training and the book on a GPU machine in one call
each, writing a JSON report as they go; ``gpu_all.sh`` runs them all within one time budget (README.md)."""
