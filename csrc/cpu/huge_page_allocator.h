// CPU allocator for the op's large outputs: 2 MiB-aligned, madvise(MADV_HUGEPAGE).
// A fresh 4 KiB-page output costs one page fault per 4 KiB on first touch, which makes an out-of-place
// CPU op 3-5x slower than its kernel (shift-performance.md section 4); transparent huge pages cut that.
// Same policy as torch's THP_MEM_ALLOC_ENABLE=1, applied to this op's outputs only. Storage stays resizable.
#pragma once
#include <ATen/EmptyTensor.h>
#include <c10/core/Allocator.h>
#include <sys/mman.h>

#include <cstdlib>
#include <cstring>

namespace paperlib {

struct HugePageAllocator final : c10::Allocator {
  static constexpr size_t kHugePage = size_t(2) << 20;

  static void release(void* p) { std::free(p); }

  c10::DataPtr allocate(size_t n) override {
    void* p = nullptr;
    if (n > 0) {
      const size_t align = n >= kHugePage ? kHugePage : 64;
      TORCH_CHECK(posix_memalign(&p, align, n) == 0, "paperlib: out of memory allocating ", n, " bytes");
      if (n >= kHugePage) madvise(p, n, MADV_HUGEPAGE);  // best effort: "never" THP mode just ignores it
    }
    return {p, p, &release, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &release; }

  void copy_data(void* dest, const void* src, std::size_t count) const override { std::memcpy(dest, src, count); }
};

inline at::Tensor empty_cpu_huge_pages(c10::IntArrayRef sizes, c10::ScalarType dtype) {
  static HugePageAllocator allocator;
  return at::detail::empty_generic(sizes, &allocator, c10::DispatchKeySet(c10::DispatchKey::CPU), dtype,
                                   at::MemoryFormat::Contiguous);
}

}  // namespace paperlib
