"""paperlib: a runnable companion to the Temporal Interlacing Network (TIN, AAAI 2020).

Layers, from the bottom up: ``paperlib.ops`` (the interlace shift op and its kernels),
then models, data, engine, notebooks and the book.
"""

__version__ = "0.1.0"
