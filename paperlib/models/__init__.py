"""Models: TSN, TSM and TIN on 2D ResNets; SlowFast, slow-only, fast-only, I3D, R3D and R(2+1)D.

``create(name, num_classes, num_segments, **options)`` builds one; ``available()`` lists the names.
"""

from ._profile import profile
from ._registry import Reported, available, create, register_model, reported

__all__ = ["Reported", "available", "create", "profile", "register_model", "reported"]
