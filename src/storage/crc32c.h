// CRC32C (Castagnoli), the checksum of every record and file section on disk.
// Uses the SSE4.2 crc32 instruction when the CPU has it (chosen at run time), else a table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace nearstore::storage {

// CRC32C of data[0..n), continuing from `crc` (pass 0 to start; pass a previous result to
// extend it over more bytes).
uint32_t Crc32c(const void* data, size_t n, uint32_t crc = 0);
inline uint32_t Crc32c(std::string_view s, uint32_t crc = 0) {
  return Crc32c(s.data(), s.size(), crc);
}

// The portable table implementation; exposed so tests can check the hardware path against it.
uint32_t Crc32cPortable(const void* data, size_t n, uint32_t crc);

}  // namespace nearstore::storage
