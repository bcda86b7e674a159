// CUDA kernels of the temporal interlace shift. Same maths as cpu/interlace_shift_kernel.cpp.
//
// Blocks are laid out per (n, g) "slab": for a fixed (n, t) the Cs/G channels of group g are P runs of
// L = Cs/G*Q contiguous elements (one run of Cs/G*HW channels-first; HW runs of Cs/G channels-last, see
// interlace_shift_kernel.h), so a thread owns V consecutive elements of a run (one 16-byte vector when the
// layout allows) and walks t (forward) or the source frame tau (backward) in registers. Each input element
// is loaded once: the frame that is "t-k-1" at step t was "t-k" at step t-1. All index arithmetic is int64.
// Backward reduces the offset/weight gradients with warp shuffles into a per-warp shared-memory row,
// then one row per block into a workspace, then a second kernel sums the blocks in a fixed order:
// deterministic, no atomics.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "interlace_shift_kernel.h"

namespace paperlib {
namespace cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;

template <typename T> struct Acc { using type = float; };
template <> struct Acc<double> { using type = double; };

__device__ __forceinline__ float to_acc(float v) { return v; }
__device__ __forceinline__ double to_acc(double v) { return v; }
__device__ __forceinline__ float to_acc(__half v) { return __half2float(v); }
__device__ __forceinline__ float to_acc(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T> __device__ __forceinline__ T from_acc(float v);
template <> __device__ __forceinline__ float from_acc<float>(float v) { return v; }
template <> __device__ __forceinline__ __half from_acc<__half>(float v) { return __float2half(v); }
template <> __device__ __forceinline__ __nv_bfloat16 from_acc<__nv_bfloat16>(float v) { return __float2bfloat16(v); }
template <typename T> __device__ __forceinline__ T from_acc(double v) { return v; }

template <typename T, int V>
struct alignas(sizeof(T) * V) Vec {
  T v[V];
};

// Load V elements as accumulators, or zeros when the frame is outside the clip.
template <typename T, int V, typename A>
__device__ __forceinline__ void load_or_zero(A (&dst)[V], const T* p, bool valid) {
  if (valid) {
    const Vec<T, V> vec = *reinterpret_cast<const Vec<T, V>*>(p);
#pragma unroll
    for (int i = 0; i < V; ++i) dst[i] = to_acc(vec.v[i]);
  } else {
#pragma unroll
    for (int i = 0; i < V; ++i) dst[i] = A(0);
  }
}

template <typename T, int V, typename A>
__device__ __forceinline__ void store(T* p, const A (&src)[V]) {
  Vec<T, V> vec;
#pragma unroll
  for (int i = 0; i < V; ++i) vec.v[i] = from_acc<T>(src[i]);
  *reinterpret_cast<Vec<T, V>*>(p) = vec;
}

// floor(b) clamped to [-(T+1), T+1] (every source frame is out of range beyond); NaN -> 0.
template <typename A>
__device__ __forceinline__ int64_t clamped_floor(A b, int64_t T) {
  const A k = floor(b);
  const A bound = static_cast<A>(T + 1);
  if (!(k == k)) return 0;
  return static_cast<int64_t>(k < -bound ? -bound : (k > bound ? bound : k));
}

// Elements of group g in one frame (P runs of L), and where element e of them lies in the frame.
__host__ __device__ __forceinline__ int64_t run_length(const Shape& s) { return s.Cs / s.G * s.Q; }
__host__ __device__ __forceinline__ int64_t slab_size(const Shape& s) { return s.P * run_length(s); }
__device__ __forceinline__ int64_t slab_offset(const Shape& s, int64_t g, int64_t e) {
  const int64_t L = run_length(s);
  return (e / L) * (s.C * s.Q) + g * L + e % L;
}

template <typename T, int V>
__global__ void __launch_bounds__(kThreads)
    forward_kernel(const T* __restrict__ x, const T* __restrict__ offset, const T* __restrict__ weight,
                   T* __restrict__ y, Shape s, int64_t chunks) {
  using A = typename Acc<T>::type;
  const int64_t ng = blockIdx.x / chunks, chunk = blockIdx.x % chunks;
  const int64_t n = ng / s.G, g = ng % s.G;
  const int64_t e = (chunk * kThreads + threadIdx.x) * V;  // V divides L: a vector never straddles runs
  if (e >= slab_size(s)) return;
  const A b = to_acc(offset[ng]);
  const A f = b - floor(b), one_minus_f = A(1) - f;
  const int64_t k = clamped_floor(b, s.T);
  const int64_t frame = s.P * s.C * s.Q;  // stride between frames
  const int64_t base = n * s.T * frame + slab_offset(s, g, e);
  A cur[V], prev[V], out[V];
  load_or_zero<T, V>(cur, x + base + (-k - 1) * frame, -k - 1 >= 0 && -k - 1 < s.T);
  for (int64_t t = 0; t < s.T; ++t) {
#pragma unroll
    for (int i = 0; i < V; ++i) prev[i] = cur[i];  // x[t-k-1]
    const int64_t src = t - k;
    load_or_zero<T, V>(cur, x + base + src * frame, src >= 0 && src < s.T);
    const A w = to_acc(weight[(n * s.T + t) * s.G + g]);
#pragma unroll
    for (int i = 0; i < V; ++i) out[i] = w * (one_minus_f * cur[i] + f * prev[i]);
    store<T, V>(y + base + t * frame, out);
  }
}

template <typename A>
__device__ __forceinline__ A warp_sum(A v) {
#pragma unroll
  for (int d = 16; d > 0; d >>= 1) v += __shfl_down_sync(0xffffffffu, v, d);
  return v;
}

template <typename T, int V>
__global__ void __launch_bounds__(kThreads)
    backward_kernel(const T* __restrict__ grad, const T* __restrict__ x, const T* __restrict__ offset,
                    const T* __restrict__ weight, T* __restrict__ grad_x,
                    typename Acc<T>::type* __restrict__ partial, Shape s, int64_t chunks) {
  using A = typename Acc<T>::type;
  extern __shared__ unsigned char smem_raw[];
  A* warp_rows = reinterpret_cast<A*>(smem_raw);  // [kWarps][T + 1]
  const int64_t slots = s.T + 1;
  for (int64_t i = threadIdx.x; i < kWarps * slots; i += kThreads) warp_rows[i] = A(0);
  __syncthreads();

  const int64_t ng = blockIdx.x / chunks, chunk = blockIdx.x % chunks;
  const int64_t n = ng / s.G, g = ng % s.G;
  const int64_t e = (chunk * kThreads + threadIdx.x) * V;
  const bool active = e < slab_size(s);  // inactive threads still join the reductions with zeros
  const A b = to_acc(offset[ng]);
  const A f = b - floor(b), one_minus_f = A(1) - f;
  const int64_t k = clamped_floor(b, s.T);
  const int64_t frame = s.P * s.C * s.Q;
  const int64_t base = n * s.T * frame + slab_offset(s, g, active ? e : 0);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  A* row = warp_rows + warp * slots;

  A g0[V], g1[V], xr[V], gx[V];
  load_or_zero<T, V>(g1, grad + base + k * frame, active && k >= 0 && k < s.T);  // G[t0] for tau = 0
  A b_acc = 0;
  for (int64_t tau = 0; tau < s.T; ++tau) {
    const int64_t t0 = tau + k, t1 = t0 + 1;
    const bool has0 = t0 >= 0 && t0 < s.T, has1 = t1 >= 0 && t1 < s.T;
#pragma unroll
    for (int i = 0; i < V; ++i) g0[i] = g1[i];
    load_or_zero<T, V>(g1, grad + base + t1 * frame, active && has1);
    load_or_zero<T, V>(xr, x + base + tau * frame, active);
    const A w0 = has0 ? to_acc(weight[(n * s.T + t0) * s.G + g]) : A(0);
    const A w1 = has1 ? to_acc(weight[(n * s.T + t1) * s.G + g]) : A(0);
    const A a0 = one_minus_f * w0, a1 = f * w1;
    A p = 0, q = 0;
#pragma unroll
    for (int i = 0; i < V; ++i) {
      gx[i] = a0 * g0[i] + a1 * g1[i];
      p += g0[i] * xr[i];
      q += g1[i] * xr[i];
    }
    if (active) store<T, V>(grad_x + base + tau * frame, gx);
    b_acc += w1 * q - w0 * p;
    // t0, t1 are the same for the whole block (one (n, g) per block): reduce per warp, lane 0 owns the row.
    if (has0) {
      const A ps = warp_sum(p);
      if (lane == 0) row[t0] += one_minus_f * ps;
    }
    if (has1) {
      const A qs = warp_sum(q);
      if (lane == 0) row[t1] += f * qs;
    }
  }
  const A bs = warp_sum(b_acc);
  if (lane == 0) row[s.T] += bs;
  __syncthreads();
  for (int64_t j = threadIdx.x; j < slots; j += kThreads) {
    A sum = 0;
    for (int w = 0; w < kWarps; ++w) sum += warp_rows[w * slots + j];
    partial[(ng * chunks + chunk) * slots + j] = sum;
  }
}

// One thread per (n, g, slot): sum the blocks of the slab in order.
template <typename T>
__global__ void reduce_partials_kernel(const typename Acc<T>::type* __restrict__ partial, T* __restrict__ grad_offset,
                                       T* __restrict__ grad_weight, Shape s, int64_t chunks) {
  using A = typename Acc<T>::type;
  const int64_t slots = s.T + 1;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= s.N * s.G * slots) return;
  const int64_t ng = i / slots, j = i % slots;
  A sum = 0;
  for (int64_t c = 0; c < chunks; ++c) sum += partial[(ng * chunks + c) * slots + j];
  const int64_t n = ng / s.G, g = ng % s.G;
  if (j < s.T) grad_weight[(n * s.T + j) * s.G + g] = from_acc<T>(sum);
  else grad_offset[ng] = from_acc<T>(sum);
}

template <typename T>
int vector_width(const Shape& s, std::initializer_list<const void*> ptrs) {
  constexpr int V = 16 / sizeof(T);
  if (run_length(s) % V != 0 || (s.C * s.Q) % V != 0) return 1;  // vectors inside runs, runs 16-byte aligned
  for (const void* p : ptrs)
    if (reinterpret_cast<uintptr_t>(p) % 16 != 0) return 1;
  return V;
}

template <typename T>
int64_t num_chunks(const Shape& s, int vec) {
  return (slab_size(s) / vec + kThreads - 1) / kThreads;
}

// Channels [Cs, C) of every (n, t, p): one strided device copy.
cudaError_t copy_passthrough(const void* src, void* dst, size_t elem, const Shape& s, cudaStream_t stream) {
  if (s.Cs == s.C) return cudaSuccess;
  const size_t pitch = static_cast<size_t>(s.C * s.Q) * elem;
  const size_t skip = static_cast<size_t>(s.Cs * s.Q) * elem;
  return cudaMemcpy2DAsync(static_cast<char*>(dst) + skip, pitch, static_cast<const char*>(src) + skip, pitch,
                           static_cast<size_t>((s.C - s.Cs) * s.Q) * elem, static_cast<size_t>(s.N * s.T * s.P),
                           cudaMemcpyDeviceToDevice, stream);
}

template <typename T>
cudaError_t forward_typed(const void* x, const void* offset, const void* weight, void* y, const Shape& s,
                          cudaStream_t stream) {
  const int vec = vector_width<T>(s, {x, y});
  const int64_t chunks = num_chunks<T>(s, vec);
  const dim3 grid(static_cast<unsigned>(s.N * s.G * chunks));
  const T* xp = static_cast<const T*>(x);
  const T* op = static_cast<const T*>(offset);
  const T* wp = static_cast<const T*>(weight);
  T* yp = static_cast<T*>(y);
  if (vec > 1) forward_kernel<T, 16 / sizeof(T)><<<grid, kThreads, 0, stream>>>(xp, op, wp, yp, s, chunks);
  else forward_kernel<T, 1><<<grid, kThreads, 0, stream>>>(xp, op, wp, yp, s, chunks);
  cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) return err;
  return copy_passthrough(x, y, sizeof(T), s, stream);
}

template <typename T>
cudaError_t backward_typed(const void* grad, const void* x, const void* offset, const void* weight, void* grad_x,
                           void* grad_offset, void* grad_weight, void* workspace, const Shape& s,
                           cudaStream_t stream) {
  using A = typename Acc<T>::type;
  const int vec = vector_width<T>(s, {grad, x, grad_x});
  const int64_t chunks = num_chunks<T>(s, vec);
  const dim3 grid(static_cast<unsigned>(s.N * s.G * chunks));
  const size_t smem = sizeof(A) * kWarps * (s.T + 1);
  A* partial = static_cast<A*>(workspace);
  const T* gp = static_cast<const T*>(grad);
  const T* xp = static_cast<const T*>(x);
  const T* op = static_cast<const T*>(offset);
  const T* wp = static_cast<const T*>(weight);
  T* gxp = static_cast<T*>(grad_x);
  if (vec > 1)
    backward_kernel<T, 16 / sizeof(T)><<<grid, kThreads, smem, stream>>>(gp, xp, op, wp, gxp, partial, s, chunks);
  else
    backward_kernel<T, 1><<<grid, kThreads, smem, stream>>>(gp, xp, op, wp, gxp, partial, s, chunks);
  cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) return err;
  const int64_t outputs = s.N * s.G * (s.T + 1);
  reduce_partials_kernel<T><<<static_cast<unsigned>((outputs + kThreads - 1) / kThreads), kThreads, 0, stream>>>(
      partial, static_cast<T*>(grad_offset), static_cast<T*>(grad_weight), s, chunks);
  err = cudaGetLastError();
  if (err != cudaSuccess) return err;
  return copy_passthrough(grad, grad_x, sizeof(T), s, stream);
}

}  // namespace

cudaError_t interlace_shift_forward(DType dtype, const void* x, const void* offset, const void* weight, void* y,
                                    const Shape& s, cudaStream_t stream) {
  switch (dtype) {
    case DType::kFloat32: return forward_typed<float>(x, offset, weight, y, s, stream);
    case DType::kFloat64: return forward_typed<double>(x, offset, weight, y, s, stream);
    case DType::kFloat16: return forward_typed<__half>(x, offset, weight, y, s, stream);
    case DType::kBFloat16: return forward_typed<__nv_bfloat16>(x, offset, weight, y, s, stream);
  }
  return cudaErrorInvalidValue;
}

size_t interlace_shift_backward_workspace_bytes(DType dtype, const Shape& s) {
  // Upper bound: the scalar (V = 1) layout has the most chunks.
  const int64_t chunks = (slab_size(s) + kThreads - 1) / kThreads;
  const size_t acc = dtype == DType::kFloat64 ? sizeof(double) : sizeof(float);
  return acc * static_cast<size_t>(s.N * s.G * chunks * (s.T + 1));
}

cudaError_t interlace_shift_backward(DType dtype, const void* grad_out, const void* x, const void* offset,
                                     const void* weight, void* grad_x, void* grad_offset, void* grad_weight,
                                     void* workspace, const Shape& s, cudaStream_t stream) {
  switch (dtype) {
    case DType::kFloat32:
      return backward_typed<float>(grad_out, x, offset, weight, grad_x, grad_offset, grad_weight, workspace, s, stream);
    case DType::kFloat64:
      return backward_typed<double>(grad_out, x, offset, weight, grad_x, grad_offset, grad_weight, workspace, s,
                                    stream);
    case DType::kFloat16:
      return backward_typed<__half>(grad_out, x, offset, weight, grad_x, grad_offset, grad_weight, workspace, s,
                                    stream);
    case DType::kBFloat16:
      return backward_typed<__nv_bfloat16>(grad_out, x, offset, weight, grad_x, grad_offset, grad_weight, workspace,
                                           s, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace cuda
}  // namespace paperlib
