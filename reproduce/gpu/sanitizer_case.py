"""A small CUDA forward/backward of the interlace shift for compute-sanitizer (memcheck, racecheck).

Covers the 16-byte vector path and the scalar path, every dtype, pass-through channels, offsets that move
every frame out of the clip, T = 1, and both layouts (channels-first and channels-last frames).
"""

import torch

from paperlib.ops import channels_last_frames, interlace_shift

cases = [  # (N, T, C, H, W), shift_channels, offset scale
    ((2, 8, 64, 8, 8), 16, 1.9),  # vectorised
    ((2, 8, 64, 7, 7), 16, 1.9),  # scalar (HW = 49)
    ((1, 3, 12, 5, 3), 12, 9.0),  # everything shifted out of the clip
    ((3, 1, 8, 2, 2), 4, 0.7),  # T = 1
]
for dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
    for (shape, shift_channels, scale), channels_last in [(case, last) for case in cases for last in (False, True)]:
        n, t = shape[:2]
        x = torch.randn(shape, device="cuda", dtype=dtype)
        if channels_last:  # (N, T, H, W, C) in memory
            x = channels_last_frames(x)
        x.requires_grad_()
        offset = ((torch.rand(n, 4, device="cuda") * 2 - 1) * scale).to(dtype).requires_grad_()
        weight = torch.rand(n, t, 4, device="cuda", dtype=dtype, requires_grad=True)
        y = interlace_shift(x, offset, weight, shift_channels=shift_channels, backend="cuda")
        y.backward(torch.randn_like(y))
torch.cuda.synchronize()
print("sanitizer case done")
