// Launchers of the CUDA interlace shift kernels. Torch-free on purpose: the .cu compiles in seconds
// with plain nvcc; the torch glue lives in interlace_shift_cuda.cpp.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace paperlib {
namespace cuda {

enum class DType { kFloat32, kFloat64, kFloat16, kBFloat16 };

// Contiguous (N, T, C, HW) input; the first Cs channels are shifted in G groups of Cs / G channels.
struct Shape {
  int64_t N, T, C, HW, Cs, G;
};

// Forward: y = interlace_shift(x, offset (N, G), weight (N, T, G)).
cudaError_t interlace_shift_forward(DType dtype, const void* x, const void* offset, const void* weight, void* y,
                                    const Shape& s, cudaStream_t stream);

// Bytes of device scratch memory the backward needs (per-block partial sums).
size_t interlace_shift_backward_workspace_bytes(DType dtype, const Shape& s);

// Backward: grad_x (N, T, C, HW), grad_offset (N, G), grad_weight (N, T, G) from grad_out.
cudaError_t interlace_shift_backward(DType dtype, const void* grad_out, const void* x, const void* offset,
                                     const void* weight, void* grad_x, void* grad_offset, void* grad_weight,
                                     void* workspace, const Shape& s, cudaStream_t stream);

}  // namespace cuda
}  // namespace paperlib
