// Launchers of the CUDA interlace shift kernels. Torch-free on purpose: the .cu compiles in seconds
// with plain nvcc; the torch glue lives in interlace_shift_cuda.cpp.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace paperlib {
namespace cuda {

enum class DType { kFloat32, kFloat64, kFloat16, kBFloat16 };

// Dense (N, T, C, H, W) input in one of two layouts, both described by (P, Q): element (n, t, p, c, q) is at
// ((n*T + t)*P + p)*C*Q + c*Q + q; channels-first (N, T, C, HW): P = 1, Q = HW; channels-last frames
// (N, T, HW, C): P = HW, Q = 1. The first Cs channels are shifted in G groups of Cs / G channels.
struct Shape {
  int64_t N, T, C, P, Q, Cs, G;
};

// Forward: y = interlace_shift(x, offset (N, G), weight (N, T, G)).
cudaError_t interlace_shift_forward(DType dtype, const void* x, const void* offset, const void* weight, void* y,
                                    const Shape& s, cudaStream_t stream);

// Bytes of device scratch memory the backward needs (per-block partial sums).
size_t interlace_shift_backward_workspace_bytes(DType dtype, const Shape& s);

// Backward: grad_x (x's layout), grad_offset (N, G), grad_weight (N, T, G) from grad_out.
cudaError_t interlace_shift_backward(DType dtype, const void* grad_out, const void* x, const void* offset,
                                     const void* weight, void* grad_x, void* grad_offset, void* grad_weight,
                                     void* workspace, const Shape& s, cudaStream_t stream);

}  // namespace cuda
}  // namespace paperlib
