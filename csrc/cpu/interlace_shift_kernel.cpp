// CPU kernels of the temporal interlace shift: one fused pass each way, parallel over (n, c) columns.
//
// Layout: x, y, grad are contiguous (N, T, C, HW); a "row" is the HW-vector x[n, t, c, :].
// Forward, per shifted column: y[t] = w[t] * ((1-f) x[t-k] + f x[t-k-1]), rows outside [0, T) read as zero.
// Iterating t upward, row x[t-k-1] was x[t-k] one step earlier, so it comes from L1: each input row is
// read from memory once, each output row written once, and out-of-range rows are written directly
// (no zero-fill pass). Pass-through channels [Cs, C) are one memcpy per (n, t).
//
// Backward, per shifted column, gather form over the source frame tau (x[tau] read once):
//   grad_x[tau] = (1-f) w[t0] G[t0] + f w[t1] G[t1],   t0 = tau + k, t1 = t0 + 1 (terms outside [0, T) drop)
//   P = <G[t0], x[tau]>, Q = <G[t1], x[tau]>  ->  grad_w[t0] += (1-f) P, grad_w[t1] += f Q,
//                                                grad_b     += w[t1] Q - w[t0] P
// The per-column partial sums go to a small (N, Cs, T+1) buffer that is reduced per group in a fixed
// order afterwards: deterministic, no atomics.
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <cstring>
#include <vector>

#include "../interlace_shift_args.h"

namespace paperlib {
namespace {

// Grain so that one parallel task moves at least ~32k elements.
inline int64_t grain_for(int64_t elements_per_item) {
  return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, elements_per_item));
}

template <typename scalar_t, bool kHas0, bool kHas1>
inline void lerp_row(scalar_t* out, const scalar_t* x0, const scalar_t* x1, at::opmath_type<scalar_t> w,
                     at::opmath_type<scalar_t> f, int64_t hw) {
  using acc_t = at::opmath_type<scalar_t>;
  const acc_t g = acc_t(1) - f;
  for (int64_t i = 0; i < hw; ++i) {
    const acc_t a = kHas0 ? static_cast<acc_t>(x0[i]) : acc_t(0);
    const acc_t b = kHas1 ? static_cast<acc_t>(x1[i]) : acc_t(0);
    out[i] = static_cast<scalar_t>(w * (g * a + f * b));
  }
}

// Column `col` = (n, c) of the shifted channels: its group g, integer shift k and fraction f of b = offset[n, g].
template <typename scalar_t>
struct ColumnShift {
  int64_t n, c, g, k;
  at::opmath_type<scalar_t> f;
};

template <typename scalar_t>
inline ColumnShift<scalar_t> column_shift(int64_t col, const scalar_t* offset, const ShiftShape& s) {
  using acc_t = at::opmath_type<scalar_t>;
  const int64_t n = col / s.Cs, c = col % s.Cs, g = c / (s.Cs / s.G);
  const acc_t b = static_cast<acc_t>(offset[n * s.G + g]);
  return {n, c, g, clamped_floor(static_cast<double>(b), s.T), b - std::floor(b)};
}

template <typename scalar_t>
void copy_passthrough(const scalar_t* src, scalar_t* dst, const ShiftShape& s) {
  if (s.Cs == s.C) return;
  const int64_t row = (s.C - s.Cs) * s.HW;
  at::parallel_for(0, s.N * s.T, grain_for(row), [&](int64_t begin, int64_t end) {
    for (int64_t nt = begin; nt < end; ++nt) {
      const int64_t base = (nt * s.C + s.Cs) * s.HW;
      std::memcpy(dst + base, src + base, sizeof(scalar_t) * row);
    }
  });
}

template <typename scalar_t>
void forward_kernel(const scalar_t* x, const scalar_t* offset, const scalar_t* weight, scalar_t* y,
                    const ShiftShape& s) {
  using acc_t = at::opmath_type<scalar_t>;
  at::parallel_for(0, s.N * s.Cs, grain_for(s.T * s.HW), [&](int64_t begin, int64_t end) {
    for (int64_t col = begin; col < end; ++col) {
      const auto [n, c, g, k, f] = column_shift(col, offset, s);
      for (int64_t t = 0; t < s.T; ++t) {
        const acc_t w = static_cast<acc_t>(weight[(n * s.T + t) * s.G + g]);
        const int64_t src0 = t - k, src1 = src0 - 1;
        const bool has0 = src0 >= 0 && src0 < s.T, has1 = src1 >= 0 && src1 < s.T;
        const scalar_t* x0 = x + ((n * s.T + src0) * s.C + c) * s.HW;
        const scalar_t* x1 = x + ((n * s.T + src1) * s.C + c) * s.HW;
        scalar_t* out = y + ((n * s.T + t) * s.C + c) * s.HW;
        if (has0 && has1) lerp_row<scalar_t, true, true>(out, x0, x1, w, f, s.HW);
        else if (has0) lerp_row<scalar_t, true, false>(out, x0, nullptr, w, f, s.HW);
        else if (has1) lerp_row<scalar_t, false, true>(out, nullptr, x1, w, f, s.HW);
        else lerp_row<scalar_t, false, false>(out, nullptr, nullptr, w, f, s.HW);
      }
    }
  });
  copy_passthrough(x, y, s);
}

// grad_x row tau and the two dot products <G[t0], x[tau]>, <G[t1], x[tau]>.
template <typename scalar_t, bool kHas0, bool kHas1>
inline void grad_row(scalar_t* gx, const scalar_t* xr, const scalar_t* g0, const scalar_t* g1,
                     at::opmath_type<scalar_t> a0, at::opmath_type<scalar_t> a1, int64_t hw,
                     at::opmath_type<scalar_t>& p, at::opmath_type<scalar_t>& q) {
  using acc_t = at::opmath_type<scalar_t>;
  acc_t p_acc = 0, q_acc = 0;
  for (int64_t i = 0; i < hw; ++i) {
    const acc_t xv = static_cast<acc_t>(xr[i]);
    const acc_t v0 = kHas0 ? static_cast<acc_t>(g0[i]) : acc_t(0);
    const acc_t v1 = kHas1 ? static_cast<acc_t>(g1[i]) : acc_t(0);
    gx[i] = static_cast<scalar_t>(a0 * v0 + a1 * v1);
    if (kHas0) p_acc += v0 * xv;
    if (kHas1) q_acc += v1 * xv;
  }
  p = p_acc;
  q = q_acc;
}

template <typename scalar_t>
void backward_kernel(const scalar_t* grad, const scalar_t* x, const scalar_t* offset, const scalar_t* weight,
                     scalar_t* grad_x, scalar_t* grad_offset, scalar_t* grad_weight, const ShiftShape& s) {
  using acc_t = at::opmath_type<scalar_t>;
  const int64_t slots = s.T + 1;  // grad_w[0..T) and grad_b, per column
  std::vector<acc_t> partial(static_cast<size_t>(s.N * s.Cs * slots), acc_t(0));
  at::parallel_for(0, s.N * s.Cs, grain_for(s.T * s.HW), [&](int64_t begin, int64_t end) {
    for (int64_t col = begin; col < end; ++col) {
      const auto [n, c, g, k, f] = column_shift(col, offset, s);
      acc_t* part = partial.data() + col * slots;
      for (int64_t tau = 0; tau < s.T; ++tau) {
        const int64_t t0 = tau + k, t1 = t0 + 1;
        const bool has0 = t0 >= 0 && t0 < s.T, has1 = t1 >= 0 && t1 < s.T;
        const acc_t w0 = has0 ? static_cast<acc_t>(weight[(n * s.T + t0) * s.G + g]) : acc_t(0);
        const acc_t w1 = has1 ? static_cast<acc_t>(weight[(n * s.T + t1) * s.G + g]) : acc_t(0);
        const scalar_t* xr = x + ((n * s.T + tau) * s.C + c) * s.HW;
        const scalar_t* g0 = grad + ((n * s.T + t0) * s.C + c) * s.HW;
        const scalar_t* g1 = grad + ((n * s.T + t1) * s.C + c) * s.HW;
        scalar_t* gx = grad_x + ((n * s.T + tau) * s.C + c) * s.HW;
        const acc_t a0 = (acc_t(1) - f) * w0, a1 = f * w1;
        acc_t p = 0, q = 0;
        if (has0 && has1) grad_row<scalar_t, true, true>(gx, xr, g0, g1, a0, a1, s.HW, p, q);
        else if (has0) grad_row<scalar_t, true, false>(gx, xr, g0, nullptr, a0, a1, s.HW, p, q);
        else if (has1) grad_row<scalar_t, false, true>(gx, xr, nullptr, g1, a0, a1, s.HW, p, q);
        else grad_row<scalar_t, false, false>(gx, xr, nullptr, nullptr, a0, a1, s.HW, p, q);
        if (has0) part[t0] += (acc_t(1) - f) * p;
        if (has1) part[t1] += f * q;
        part[s.T] += w1 * q - w0 * p;
      }
    }
  });
  // Per-group reduction over the group's channels, in channel order.
  const int64_t cg = s.Cs / s.G;
  for (int64_t n = 0; n < s.N; ++n) {
    for (int64_t g = 0; g < s.G; ++g) {
      for (int64_t j = 0; j < slots; ++j) {
        acc_t sum = 0;
        for (int64_t c = g * cg; c < (g + 1) * cg; ++c) sum += partial[(n * s.Cs + c) * slots + j];
        if (j < s.T) grad_weight[(n * s.T + j) * s.G + g] = static_cast<scalar_t>(sum);
        else grad_offset[n * s.G + g] = static_cast<scalar_t>(sum);
      }
    }
  }
  copy_passthrough(grad, grad_x, s);
}

void check_cpu(const at::Tensor& t, const char* name) {
  TORCH_CHECK_VALUE(t.device().is_cpu(), "interlace_shift (cpp backend): '", name, "' must be a CPU tensor, got ",
                    t.device());
}

void interlace_shift_into_cpu(const at::Tensor& x, const at::Tensor& offset, const at::Tensor& weight,
                              int64_t shift_channels, const at::Tensor& out) {
  const ShiftShape s = check_shift_args(x, offset, weight, shift_channels);
  check_cpu(x, "x");
  check_buffer(out, x, "out");
  if (x.numel() == 0) return;
  const at::Tensor xc = x.contiguous(), oc = offset.contiguous(), wc = weight.contiguous();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "interlace_shift_cpu", [&] {
    forward_kernel<scalar_t>(xc.const_data_ptr<scalar_t>(), oc.const_data_ptr<scalar_t>(),
                             wc.const_data_ptr<scalar_t>(), out.mutable_data_ptr<scalar_t>(), s);
  });
}

void interlace_shift_backward_into_cpu(const at::Tensor& grad_out, const at::Tensor& x, const at::Tensor& offset,
                                       const at::Tensor& weight, int64_t shift_channels, const at::Tensor& grad_x,
                                       const at::Tensor& grad_offset, const at::Tensor& grad_weight) {
  const ShiftShape s = check_shift_args(x, offset, weight, shift_channels);
  check_cpu(x, "x");
  if (check_backward_args(grad_out, x, grad_x, offset, grad_offset, weight, grad_weight)) return;
  const at::Tensor gc = grad_out.contiguous().to(x.scalar_type()), xc = x.contiguous(),
                   oc = offset.contiguous(), wc = weight.contiguous();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "interlace_shift_backward_cpu", [&] {
    backward_kernel<scalar_t>(gc.const_data_ptr<scalar_t>(), xc.const_data_ptr<scalar_t>(),
                              oc.const_data_ptr<scalar_t>(), wc.const_data_ptr<scalar_t>(),
                              grad_x.mutable_data_ptr<scalar_t>(), grad_offset.mutable_data_ptr<scalar_t>(),
                              grad_weight.mutable_data_ptr<scalar_t>(), s);
  });
}

}  // namespace

TORCH_LIBRARY_IMPL(paperlib, CPU, m) {
  m.impl("_interlace_shift_into", &interlace_shift_into_cpu);
  m.impl("_interlace_shift_backward_into", &interlace_shift_backward_into_cpu);
}

}  // namespace paperlib
