// XXH3-64 with xxHash's AVX2 kernel, for row_hash() (snapshot_index.cpp), which calls it on a CPU
// with AVX2 and keeps the SSE2 kernel otherwise. XXH3's value does not depend on the kernel.
//
// Only this file is built with -mavx2 (host/CMakeLists.txt). It includes nothing but xxhash.h
// (static functions in XXH_INLINE_ALL mode) and C headers, and defines one plain function: no
// inline function with external linkage is emitted here, whose AVX2 copy the linker could pick
// for the whole program on a CPU without AVX2.
#if defined(__x86_64__) // elsewhere this file is empty

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <stddef.h>
#include <stdint.h>

#if !defined(__AVX2__)
#error "row_hash_avx2.cpp must be compiled with -mavx2"
#endif

namespace billdrop::snapshot::detail {

uint64_t row_hash_avx2(const char* data, size_t size) noexcept {
  return XXH3_64bits(data, size);
}

} // namespace billdrop::snapshot::detail

#endif
