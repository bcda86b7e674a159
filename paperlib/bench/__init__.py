"""Benchmarks: ``python -m paperlib.bench shift ...`` (the interlace shift op against the memory roofline)."""
