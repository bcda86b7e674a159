// CPU kernels of the temporal interlace shift: one fused pass each way, parallel over columns.
//
// Layout (interlace_shift_args.h): channels-first or channels-last frames. For one (n, t, p) a shifted
// group is a contiguous run of L elements (all of its channels' pixels channels-first; its Cs/G channels of
// one pixel channels-last). A "column" is a piece of those runs followed through all T frames (frame stride
// C*HW): channels-first, a chunk of at most kChunk elements of one group's one long run; channels-last, the
// runs of every group in a block of consecutive pixels (about kChunk elements of a frame in all), whose
// pass-through channels the column copies too, so each pixel's C channels are written in one sweep while
// they are in cache. Per-frame bookkeeping is paid once per piece.
// Forward, per column and group: y[t] = w[t] * ((1-f) x[t-k] + f x[t-k-1]), frames outside [0, T) read as
// zero. Iterating t upward, piece x[t-k-1] was x[t-k] one step earlier, so it comes from cache: each input
// element is read from memory once, each output written once, and out-of-range frames are written directly
// (no zero-fill pass). Channels-first pass-through channels [Cs, C) are one memcpy per (n, t).
//
// Backward, per column, gather form over the source frame tau (x[tau] read once):
//   grad_x[tau] = (1-f) w[t0] G[t0] + f w[t1] G[t1],   t0 = tau + k, t1 = t0 + 1 (terms outside [0, T) drop)
//   P = <G[t0], x[tau]>, Q = <G[t1], x[tau]>  ->  grad_w[t0] += (1-f) P, grad_w[t1] += f Q,
//                                                grad_b     += w[t1] Q - w[t0] P
// The per-column partial sums go to a small (columns, T+1) buffer that is reduced per (n, g) in a fixed
// order afterwards: deterministic, no atomics.
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "../interlace_shift_args.h"

namespace paperlib {
namespace {

constexpr int64_t kChunk = 4096;  // elements of one frame a column covers (about)

// Grain so that one parallel task moves at least ~32k elements.
inline int64_t grain_for(int64_t elements_per_item) {
  return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, elements_per_item));
}

// Where a column's elements are in one frame: `rows` runs of `len` elements, `stride` apart.
struct Piece {
  int64_t len, rows, stride;
};

template <typename scalar_t, bool kHas0, bool kHas1>
inline void lerp_rows(scalar_t* out, const scalar_t* x0, const scalar_t* x1, at::opmath_type<scalar_t> w,
                      at::opmath_type<scalar_t> f, const Piece& piece) {
  using acc_t = at::opmath_type<scalar_t>;
  const acc_t g = acc_t(1) - f;
  for (int64_t r = 0, o = 0; r < piece.rows; ++r, o += piece.stride) {
    for (int64_t i = o; i < o + piece.len; ++i) {
      const acc_t a = kHas0 ? static_cast<acc_t>(x0[i]) : acc_t(0);
      const acc_t b = kHas1 ? static_cast<acc_t>(x1[i]) : acc_t(0);
      out[i] = static_cast<scalar_t>(w * (g * a + f * b));
    }
  }
}

// The columns of a shape: (n, group set, pixel block, chunk) in that order, so the columns of one (n, group
// set) are consecutive. Channels-first: sets of one group, one "pixel" (P = 1), the run cut in chunks;
// channels-last: one set of all G groups, blocks of pixels, one chunk.
struct Columns {
  int64_t L, groups, sets, chunks, block, blocks, per_set, count;
  bool fused_passthrough;  // channels-last: the column also copies its pixels' channels [Cs, C)

  explicit Columns(const ShiftShape& s)
      : L(s.run()),
        groups(s.channels_last ? s.G : 1),
        sets(s.G / groups),
        chunks((L + kChunk - 1) / kChunk),
        block(s.channels_last ? std::max<int64_t>(1, kChunk / s.C) : 1),
        blocks((s.P() + block - 1) / block),
        per_set(blocks * chunks),
        count(s.N * sets * per_set),
        fused_passthrough(s.channels_last && s.Cs < s.C) {}
  int64_t largest(const ShiftShape& s) const {  // elements of one frame a column touches
    return block * (s.channels_last ? s.C : std::min(kChunk, L));
  }
};

// Column `col`: its clip n, its groups [g0, g0 + cols.groups), and where it is in frame 0 (group g's piece
// starts at start + g*L; frame t is t*C*HW further).
struct Column {
  int64_t n, g0, start;
  Piece piece;
};

inline Column column_at(int64_t col, const ShiftShape& s, const Columns& cols) {
  const int64_t chunk = col % cols.chunks, p0 = col / cols.chunks % cols.blocks * cols.block;
  const int64_t set = col / cols.per_set, n = set / cols.sets, g0 = set % cols.sets * cols.groups;
  const int64_t start = n * s.T * s.frame() + p0 * s.C * s.Q() + chunk * kChunk;
  return {n, g0, start, {std::min(kChunk, cols.L - chunk * kChunk), std::min(cols.block, s.P() - p0), s.C * s.Q()}};
}

// Integer shift k and fraction f of b = offset[n, g].
template <typename scalar_t>
struct GroupShift {
  int64_t k;
  at::opmath_type<scalar_t> f;
};

template <typename scalar_t>
inline GroupShift<scalar_t> group_shift(const scalar_t* offset, int64_t ng, int64_t T) {
  using acc_t = at::opmath_type<scalar_t>;
  const acc_t b = static_cast<acc_t>(offset[ng]);
  return {clamped_floor(static_cast<double>(b), T), b - std::floor(b)};
}

// Channels [Cs, C) of the column's pixels in one frame (channels-last; src/dst point at its first pixel).
template <typename scalar_t>
inline void copy_rows_passthrough(const scalar_t* src, scalar_t* dst, const ShiftShape& s, const Piece& piece) {
  for (int64_t r = 0; r < piece.rows; ++r)
    std::memcpy(dst + r * s.C + s.Cs, src + r * s.C + s.Cs, sizeof(scalar_t) * (s.C - s.Cs));
}

// Channels-first pass-through: channels [Cs, C) of every (n, t), one memcpy each.
template <typename scalar_t>
void copy_passthrough(const scalar_t* src, scalar_t* dst, const ShiftShape& s) {
  if (s.Cs == s.C || s.channels_last) return;  // channels-last: copied by the columns
  const int64_t row = (s.C - s.Cs) * s.HW, skip = s.Cs * s.HW;
  at::parallel_for(0, s.N * s.T, grain_for(row), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r)
      std::memcpy(dst + r * s.frame() + skip, src + r * s.frame() + skip, sizeof(scalar_t) * row);
  });
}

template <typename scalar_t>
void forward_kernel(const scalar_t* x, const scalar_t* offset, const scalar_t* weight, scalar_t* y,
                    const ShiftShape& s) {
  using acc_t = at::opmath_type<scalar_t>;
  const Columns cols(s);
  const int64_t frame = s.frame();
  at::parallel_for(0, cols.count, grain_for(s.T * cols.largest(s)), [&](int64_t begin, int64_t end) {
    for (int64_t col = begin; col < end; ++col) {
      const auto [n, g0, start0, piece] = column_at(col, s, cols);
      for (int64_t t = 0; t < s.T; ++t) {
        for (int64_t g = g0; g < g0 + cols.groups; ++g) {
          const auto [k, f] = group_shift(offset, n * s.G + g, s.T);
          const acc_t w = static_cast<acc_t>(weight[(n * s.T + t) * s.G + g]);
          const int64_t start = start0 + g * cols.L, src0 = t - k, src1 = src0 - 1;
          const bool has0 = src0 >= 0 && src0 < s.T, has1 = src1 >= 0 && src1 < s.T;
          const scalar_t* x0 = x + start + src0 * frame;
          const scalar_t* x1 = x + start + src1 * frame;
          scalar_t* out = y + start + t * frame;
          if (has0 && has1) lerp_rows<scalar_t, true, true>(out, x0, x1, w, f, piece);
          else if (has0) lerp_rows<scalar_t, true, false>(out, x0, nullptr, w, f, piece);
          else if (has1) lerp_rows<scalar_t, false, true>(out, nullptr, x1, w, f, piece);
          else lerp_rows<scalar_t, false, false>(out, nullptr, nullptr, w, f, piece);
        }
        if (cols.fused_passthrough) copy_rows_passthrough(x + start0 + t * frame, y + start0 + t * frame, s, piece);
      }
    }
  });
  copy_passthrough(x, y, s);
}

// grad_x of source frame tau over a piece, and the two dot products <G[t0], x[tau]>, <G[t1], x[tau]>.
template <typename scalar_t, bool kHas0, bool kHas1>
inline void grad_rows(scalar_t* gx, const scalar_t* xr, const scalar_t* g0, const scalar_t* g1,
                      at::opmath_type<scalar_t> a0, at::opmath_type<scalar_t> a1, const Piece& piece,
                      at::opmath_type<scalar_t>& p, at::opmath_type<scalar_t>& q) {
  using acc_t = at::opmath_type<scalar_t>;
  acc_t p_acc = 0, q_acc = 0;
  for (int64_t r = 0, o = 0; r < piece.rows; ++r, o += piece.stride) {
    for (int64_t i = o; i < o + piece.len; ++i) {
      const acc_t xv = static_cast<acc_t>(xr[i]);
      const acc_t v0 = kHas0 ? static_cast<acc_t>(g0[i]) : acc_t(0);
      const acc_t v1 = kHas1 ? static_cast<acc_t>(g1[i]) : acc_t(0);
      gx[i] = static_cast<scalar_t>(a0 * v0 + a1 * v1);
      if (kHas0) p_acc += v0 * xv;
      if (kHas1) q_acc += v1 * xv;
    }
  }
  p = p_acc;
  q = q_acc;
}

template <typename scalar_t>
void backward_kernel(const scalar_t* grad, const scalar_t* x, const scalar_t* offset, const scalar_t* weight,
                     scalar_t* grad_x, scalar_t* grad_offset, scalar_t* grad_weight, const ShiftShape& s) {
  using acc_t = at::opmath_type<scalar_t>;
  const Columns cols(s);
  const int64_t frame = s.frame(), slots = s.T + 1;  // grad_w[0..T) and grad_b, per (column, group)
  std::vector<acc_t> partial(static_cast<size_t>(cols.count * cols.groups * slots), acc_t(0));
  at::parallel_for(0, cols.count, grain_for(s.T * cols.largest(s)), [&](int64_t begin, int64_t end) {
    for (int64_t col = begin; col < end; ++col) {
      const auto [n, g0, start0, piece] = column_at(col, s, cols);
      for (int64_t tau = 0; tau < s.T; ++tau) {
        for (int64_t g = g0; g < g0 + cols.groups; ++g) {
          const auto [k, f] = group_shift(offset, n * s.G + g, s.T);
          acc_t* part = partial.data() + (col * cols.groups + g - g0) * slots;
          const int64_t start = start0 + g * cols.L, t0 = tau + k, t1 = t0 + 1;
          const bool has0 = t0 >= 0 && t0 < s.T, has1 = t1 >= 0 && t1 < s.T;
          const acc_t w0 = has0 ? static_cast<acc_t>(weight[(n * s.T + t0) * s.G + g]) : acc_t(0);
          const acc_t w1 = has1 ? static_cast<acc_t>(weight[(n * s.T + t1) * s.G + g]) : acc_t(0);
          const scalar_t* xr = x + start + tau * frame;
          const scalar_t* g0 = grad + start + t0 * frame;
          const scalar_t* g1 = grad + start + t1 * frame;
          scalar_t* gx = grad_x + start + tau * frame;
          const acc_t a0 = (acc_t(1) - f) * w0, a1 = f * w1;
          acc_t p = 0, q = 0;
          if (has0 && has1) grad_rows<scalar_t, true, true>(gx, xr, g0, g1, a0, a1, piece, p, q);
          else if (has0) grad_rows<scalar_t, true, false>(gx, xr, g0, nullptr, a0, a1, piece, p, q);
          else if (has1) grad_rows<scalar_t, false, true>(gx, xr, nullptr, g1, a0, a1, piece, p, q);
          else grad_rows<scalar_t, false, false>(gx, xr, nullptr, nullptr, a0, a1, piece, p, q);
          if (has0) part[t0] += (acc_t(1) - f) * p;
          if (has1) part[t1] += f * q;
          part[s.T] += w1 * q - w0 * p;
        }
        if (cols.fused_passthrough)
          copy_rows_passthrough(grad + start0 + tau * frame, grad_x + start0 + tau * frame, s, piece);
      }
    }
  });
  // Per (n, g): sum over the columns of its group set, in column order.
  at::parallel_for(0, s.N * s.G, 1, [&](int64_t begin, int64_t end) {
    for (int64_t ng = begin; ng < end; ++ng) {
      const int64_t n = ng / s.G, g = ng % s.G, set = n * cols.sets + g / cols.groups, gi = g % cols.groups;
      for (int64_t j = 0; j < slots; ++j) {
        acc_t sum = 0;
        for (int64_t c = set * cols.per_set; c < (set + 1) * cols.per_set; ++c)
          sum += partial[(c * cols.groups + gi) * slots + j];
        if (j < s.T) grad_weight[(n * s.T + j) * s.G + g] = static_cast<scalar_t>(sum);
        else grad_offset[ng] = static_cast<scalar_t>(sum);
      }
    }
  });
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
  check_buffer(out, x, "out", s.channels_last);
  if (x.numel() == 0) return;
  const at::Tensor xc = to_layout(x, s.channels_last), oc = offset.contiguous(), wc = weight.contiguous();
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
  if (check_backward_args(grad_out, x, grad_x, offset, grad_offset, weight, grad_weight, s)) return;
  const at::Tensor gc = to_layout(grad_out.to(x.scalar_type()), s.channels_last), xc = to_layout(x, s.channels_last),
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
