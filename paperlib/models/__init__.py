"""Models: TSN, TSM and TIN on 2D ResNets; SlowFast, slow-only, fast-only, I3D, R3D and R(2+1)D.

``create(name, num_classes, num_segments, **options)`` builds one; ``available()`` lists the names.
"""

from . import resnet2d, resnet3d, slowfast, video_resnet  # noqa: F401  (registers the models)
from ._complexity import complexity
from ._registry import Reported, available, create, register_model, reported
from .checkpoint import (
    CheckpointError,
    CheckpointMismatchError,
    LoadReport,
    convert_state_dict,
    from_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from .layers import recording_interlace
from .param_groups import tin_param_groups

__all__ = [
    "CheckpointError",
    "CheckpointMismatchError",
    "LoadReport",
    "Reported",
    "available",
    "convert_state_dict",
    "create",
    "from_checkpoint",
    "load_checkpoint",
    "complexity",
    "recording_interlace",
    "register_model",
    "reported",
    "save_checkpoint",
    "tin_param_groups",
]
