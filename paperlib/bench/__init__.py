"""Benchmarks: ``python -m paperlib.bench shift`` (the interlace shift op against the memory roofline) and
``python -m paperlib.bench data`` (the input pipeline: frames, decord, PyAV)."""
