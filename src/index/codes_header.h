// The header that both kinds of quantized codes (sq8.h, binary_codes.h) start with, 32 bytes:
//     magic u32, format version u32, dimension u32, 0 u32, rows u64, 0 u64.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "nearstore/status.h"

namespace nearstore::index {

inline constexpr size_t kCodesHeaderBytes = 32;

void PutCodesHeader(std::string* out, uint32_t magic, uint32_t version, uint32_t dim, uint64_t n);

// Checks that `bytes` are 8-byte aligned, start with this header for n rows of dim dimensions,
// and are exactly total_bytes(n, dim) long. Corruption "<kind> in <path>: what is wrong"
// otherwise. (total_bytes is called only once n is known not to exceed the size, so it cannot
// overflow.)
[[nodiscard]] Status CheckCodesHeader(
    std::string_view bytes, uint32_t magic, uint32_t version, uint64_t n, uint32_t dim,
    const std::function<uint64_t(uint64_t, uint32_t)>& total_bytes, const std::string& kind,
    const std::string& path);

}  // namespace nearstore::index
