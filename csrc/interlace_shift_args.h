// Argument checks shared by the CPU and CUDA glue. TORCH_CHECK_VALUE surfaces as ValueError in Python.
#pragma once
#include <ATen/ATen.h>

namespace paperlib {

// The two memory layouts the kernels run, both dense:
//   channels-first: (N, T, C, H, W) contiguous;
//   channels-last:  (N, T, H, W, C) in memory, i.e. the 5-D view of a channels_last (N*T, C, H, W) batch.
// Any other strides are copied to channels-first first. A tensor that is both (C == 1 or H*W == 1) is
// channels-first.
inline bool is_channels_last_frames(const at::Tensor& t) {
  return t.dim() == 5 && !t.is_contiguous() && t.permute({0, 1, 3, 4, 2}).is_contiguous();
}

inline bool has_layout(const at::Tensor& t, bool channels_last) {
  return channels_last ? t.permute({0, 1, 3, 4, 2}).is_contiguous() : t.is_contiguous();
}

// `t` in the given layout (a copy only if it is not already).
inline at::Tensor to_layout(const at::Tensor& t, bool channels_last) {
  if (has_layout(t, channels_last)) return t;
  if (!channels_last) return t.contiguous();
  return t.permute({0, 1, 3, 4, 2}).contiguous().permute({0, 1, 4, 2, 3});
}

// Sizes, and where the kernels find things in either layout: element (n, t, p, c, q) is at
// ((n*T + t)*P + p)*C*Q + c*Q + q with (P, Q) = (1, HW) channels-first and (HW, 1) channels-last. So for one
// (n, t, p), shifted group g is the contiguous run [g*L, (g+1)*L) of L = Cs/G*Q elements after the start
// of that (n, t, p), and the pass-through channels are the run [Cs*Q, C*Q).
struct ShiftShape {
  int64_t N, T, C, HW, Cs, G;
  bool channels_last;  // layout of x (and of every (N, T, C, H, W) tensor the kernels see)

  int64_t P() const { return channels_last ? HW : 1; }
  int64_t Q() const { return channels_last ? 1 : HW; }
  int64_t run() const { return Cs / G * Q(); }  // L
  int64_t frame() const { return C * HW; }      // elements per (n, t)
};

inline ShiftShape check_shift_args(const at::Tensor& x, const at::Tensor& offset, const at::Tensor& weight,
                                   int64_t shift_channels) {
  TORCH_CHECK_VALUE(x.dim() == 5, "interlace_shift: x must be (N, T, C, H, W), got shape ", x.sizes());
  TORCH_CHECK_VALUE(offset.dim() == 2, "interlace_shift: offset must be (N, G), got shape ", offset.sizes());
  TORCH_CHECK_VALUE(weight.dim() == 3, "interlace_shift: weight must be (N, T, G), got shape ", weight.sizes());
  ShiftShape s{x.size(0), x.size(1), x.size(2), x.size(3) * x.size(4), shift_channels, offset.size(1),
               is_channels_last_frames(x)};
  TORCH_CHECK_VALUE(offset.size(0) == s.N && weight.size(0) == s.N, "interlace_shift: N mismatch: x ", x.sizes(),
                    ", offset ", offset.sizes(), ", weight ", weight.sizes());
  TORCH_CHECK_VALUE(weight.size(1) == s.T, "interlace_shift: weight has T=", weight.size(1), ", x has T=", s.T);
  TORCH_CHECK_VALUE(weight.size(2) == s.G, "interlace_shift: weight has G=", weight.size(2), ", offset has G=", s.G);
  TORCH_CHECK_VALUE(s.Cs > 0 && s.Cs <= s.C, "interlace_shift: shift_channels=", s.Cs, " not in [1, C=", s.C, "]");
  TORCH_CHECK_VALUE(s.G > 0 && s.Cs % s.G == 0, "interlace_shift: shift_channels=", s.Cs,
                    " is not divisible by the number of groups G=", s.G);
  TORCH_CHECK_VALUE(offset.scalar_type() == x.scalar_type() && weight.scalar_type() == x.scalar_type(),
                    "interlace_shift: dtypes differ: x ", x.scalar_type(), ", offset ", offset.scalar_type(),
                    ", weight ", weight.scalar_type());
  TORCH_CHECK_VALUE(offset.device() == x.device() && weight.device() == x.device(),
                    "interlace_shift: devices differ: x ", x.device(), ", offset ", offset.device(), ", weight ",
                    weight.device());
  return s;
}

// An output buffer: `like`'s shape, dtype and device, dense in the given layout.
inline void check_buffer(const at::Tensor& buf, const at::Tensor& like, const char* name,
                         bool channels_last = false) {
  TORCH_CHECK_VALUE(buf.sizes() == like.sizes() && buf.scalar_type() == like.scalar_type() &&
                        buf.device() == like.device() && has_layout(buf, channels_last),
                    "interlace_shift: buffer '", name, "' must be ",
                    channels_last ? "channels-last (N, T, H, W, C in memory, like x)" : "contiguous",
                    " with shape ", like.sizes(), ", dtype ",
                    like.scalar_type(), " on ", like.device(), "; got shape ", buf.sizes(), ", dtype ",
                    buf.scalar_type(), " on ", buf.device());
}

// Checks of the backward's inputs and output buffers; true if there is nothing to compute (the small
// gradients are then zeroed).
inline bool check_backward_args(const at::Tensor& grad_out, const at::Tensor& x, const at::Tensor& grad_x,
                                const at::Tensor& offset, const at::Tensor& grad_offset, const at::Tensor& weight,
                                const at::Tensor& grad_weight, const ShiftShape& s) {
  TORCH_CHECK_VALUE(grad_out.sizes() == x.sizes(), "interlace_shift backward: grad_out shape ", grad_out.sizes(),
                    " != x shape ", x.sizes());
  check_buffer(grad_x, x, "grad_x", s.channels_last);
  check_buffer(grad_offset, offset, "grad_offset");
  check_buffer(grad_weight, weight, "grad_weight");
  if (x.numel() != 0) return false;
  grad_offset.zero_();
  grad_weight.zero_();
  return true;
}

// floor(b) clamped to [-(T+1), T+1]: beyond that every source frame is out of range anyway, and the clamp
// keeps frame arithmetic in int64 for offsets like 1e30. NaN maps to 0 (the output is NaN through f).
inline int64_t clamped_floor(double b, int64_t T) {
  const double k = std::floor(b);
  const double bound = static_cast<double>(T + 1);
  if (!(k == k)) return 0;
  return static_cast<int64_t>(k < -bound ? -bound : (k > bound ? bound : k));
}

}  // namespace paperlib
