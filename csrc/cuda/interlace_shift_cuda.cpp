// Torch glue for the CUDA interlace shift: checks, allocation, stream, dtype; the kernels are in
// interlace_shift_kernel.cu. Only c10/cuda headers are used (ATen/cuda/CUDAContext.h pulls in cuSPARSE
// headers that minimal toolkits lack).
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include "../interlace_shift_args.h"
#include "interlace_shift_kernel.h"

namespace paperlib {
namespace {

cuda::DType kernel_dtype(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return cuda::DType::kFloat32;
    case at::kDouble: return cuda::DType::kFloat64;
    case at::kHalf: return cuda::DType::kFloat16;
    case at::kBFloat16: return cuda::DType::kBFloat16;
    default: TORCH_CHECK_VALUE(false, "interlace_shift (cuda backend): unsupported dtype ", t);
  }
}

cuda::Shape kernel_shape(const ShiftShape& s) { return {s.N, s.T, s.C, s.P(), s.Q(), s.Cs, s.G}; }

void check_cuda(const at::Tensor& t, const char* name) {
  TORCH_CHECK_VALUE(t.device().is_cuda(), "interlace_shift (cuda backend): '", name,
                    "' must be a CUDA tensor, got ", t.device());
}

void interlace_shift_into_cuda(const at::Tensor& x, const at::Tensor& offset, const at::Tensor& weight,
                               int64_t shift_channels, const at::Tensor& out) {
  const ShiftShape s = check_shift_args(x, offset, weight, shift_channels);
  check_cuda(x, "x");
  check_buffer(out, x, "out", s.channels_last);
  if (x.numel() == 0) return;
  const c10::cuda::CUDAGuard guard(x.device());
  const at::Tensor xc = to_layout(x, s.channels_last), oc = offset.contiguous(), wc = weight.contiguous();
  C10_CUDA_CHECK(cuda::interlace_shift_forward(kernel_dtype(x.scalar_type()), xc.const_data_ptr(),
                                               oc.const_data_ptr(), wc.const_data_ptr(), out.mutable_data_ptr(),
                                               kernel_shape(s), c10::cuda::getCurrentCUDAStream()));
}

void interlace_shift_backward_into_cuda(const at::Tensor& grad_out, const at::Tensor& x, const at::Tensor& offset,
                                        const at::Tensor& weight, int64_t shift_channels, const at::Tensor& grad_x,
                                        const at::Tensor& grad_offset, const at::Tensor& grad_weight) {
  const ShiftShape s = check_shift_args(x, offset, weight, shift_channels);
  check_cuda(x, "x");
  if (check_backward_args(grad_out, x, grad_x, offset, grad_offset, weight, grad_weight, s)) return;
  const c10::cuda::CUDAGuard guard(x.device());
  const at::Tensor gc = to_layout(grad_out.to(x.scalar_type()), s.channels_last), xc = to_layout(x, s.channels_last),
                   oc = offset.contiguous(), wc = weight.contiguous();
  const cuda::DType dtype = kernel_dtype(x.scalar_type());
  const cuda::Shape shape = kernel_shape(s);
  at::Tensor workspace = at::empty({static_cast<int64_t>(cuda::interlace_shift_backward_workspace_bytes(dtype, shape))},
                                   x.options().dtype(at::kByte));
  C10_CUDA_CHECK(cuda::interlace_shift_backward(dtype, gc.const_data_ptr(), xc.const_data_ptr(), oc.const_data_ptr(),
                                                wc.const_data_ptr(), grad_x.mutable_data_ptr(),
                                                grad_offset.mutable_data_ptr(), grad_weight.mutable_data_ptr(),
                                                workspace.mutable_data_ptr(), shape,
                                                c10::cuda::getCurrentCUDAStream()));
}

}  // namespace

TORCH_LIBRARY_IMPL(paperlib, CUDA, m) {
  m.impl("_interlace_shift_into", &interlace_shift_into_cuda);
  m.impl("_interlace_shift_backward_into", &interlace_shift_backward_into_cuda);
}

}  // namespace paperlib
