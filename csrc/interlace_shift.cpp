// Schemas of the temporal interlace shift (TIN, AAAI 2020), and the device-independent functional ops.
// Kernels live in one file per device and implement the *_into ops: cpu/interlace_shift_kernel.cpp and
// cuda/interlace_shift_{cuda.cpp,kernel.cu}. Autograd and the fake (meta) kernels are registered from
// Python, in paperlib/ops/_extension.py.
#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/library.h>

#include "cpu/huge_page_allocator.h"
#include "interlace_shift_args.h"

namespace paperlib {
namespace {

at::Tensor empty_contiguous(c10::IntArrayRef sizes, const at::Tensor& like) {
  if (like.device().is_cpu() && like.nbytes() >= HugePageAllocator::kHugePage)
    return empty_cpu_huge_pages(sizes, like.scalar_type());
  return at::empty(sizes, like.options().memory_format(at::MemoryFormat::Contiguous));
}

// A new tensor like x, dense in the layout the kernels use for x (channels-last frames stay so).
at::Tensor empty_like_layout(const at::Tensor& x) {
  if (!is_channels_last_frames(x)) return empty_contiguous(x.sizes(), x);
  const auto z = x.sizes();
  return empty_contiguous({z[0], z[1], z[3], z[4], z[2]}, x).permute({0, 1, 4, 2, 3});
}

at::Tensor interlace_shift(const at::Tensor& x, const at::Tensor& offset, const at::Tensor& weight,
                           int64_t shift_channels) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("paperlib::_interlace_shift_into", "")
                       .typed<void(const at::Tensor&, const at::Tensor&, const at::Tensor&, int64_t,
                                   const at::Tensor&)>();
  at::Tensor out = empty_like_layout(x);
  op.call(x, offset, weight, shift_channels, out);
  return out;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> interlace_shift_backward(const at::Tensor& grad_out,
                                                                        const at::Tensor& x,
                                                                        const at::Tensor& offset,
                                                                        const at::Tensor& weight,
                                                                        int64_t shift_channels) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("paperlib::_interlace_shift_backward_into", "")
                       .typed<void(const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                   int64_t, const at::Tensor&, const at::Tensor&, const at::Tensor&)>();
  at::Tensor grad_x = empty_like_layout(x);
  at::Tensor grad_offset = empty_contiguous(offset.sizes(), offset);
  at::Tensor grad_weight = empty_contiguous(weight.sizes(), weight);
  op.call(grad_out, x, offset, weight, shift_channels, grad_x, grad_offset, grad_weight);
  return {grad_x, grad_offset, grad_weight};
}

}  // namespace

TORCH_LIBRARY(paperlib, m) {
  // y[n,t,c] = weight[n,t,g] * ((1-f) * x[n,t-k,c] + f * x[n,t-k-1,c]),  k = floor(b), f = b - k,
  // b = offset[n,g], g = c / (shift_channels / G); frames outside [0, T) read as zero;
  // channels [shift_channels, C) are copied unchanged. x: (N, T, C, H, W), offset: (N, G), weight: (N, T, G).
  // The output (and grad_x) is contiguous, or channels-last frames ((N, T, H, W, C) in memory) when x is.
  m.def("interlace_shift(Tensor x, Tensor offset, Tensor weight, int shift_channels) -> Tensor");
  m.def(
      "_interlace_shift_backward(Tensor grad_out, Tensor x, Tensor offset, Tensor weight, "
      "int shift_channels) -> (Tensor, Tensor, Tensor)");
  // The same computations into caller-owned buffers, dense in x's layout (the kernels; benchmarks time them alone).
  m.def(
      "_interlace_shift_into(Tensor x, Tensor offset, Tensor weight, int shift_channels, "
      "Tensor(a!) out) -> ()");
  m.def(
      "_interlace_shift_backward_into(Tensor grad_out, Tensor x, Tensor offset, Tensor weight, "
      "int shift_channels, Tensor(a!) grad_x, Tensor(b!) grad_offset, Tensor(c!) grad_weight) -> ()");
}

// Registered per device (not CompositeExplicitAutograd, which would also claim Meta, where the fake
// kernels from Python belong). Registering the CUDA key needs no CUDA at build time.
TORCH_LIBRARY_IMPL(paperlib, CPU, m) {
  m.impl("interlace_shift", &interlace_shift);
  m.impl("_interlace_shift_backward", &interlace_shift_backward);
}

TORCH_LIBRARY_IMPL(paperlib, CUDA, m) {
  m.impl("interlace_shift", &interlace_shift);
  m.impl("_interlace_shift_backward", &interlace_shift_backward);
}

}  // namespace paperlib
