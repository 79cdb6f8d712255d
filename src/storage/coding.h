// Fixed-width little-endian encoding helpers for every on-disk format (docs/FORMATS.md).
// The readers never trust a length: ByteReader checks each read against the bytes left.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace nearstore::storage {

static_assert(
    std::endian::native == std::endian::little,
    "nearstore's formats are little-endian and so far only little-endian hosts are supported");

// `bytes` rounded up to a multiple of 8 (the alignment of the arrays inside an encoded index).
inline uint64_t PadTo8(uint64_t bytes) { return (bytes + 7) & ~uint64_t{7}; }

inline void PutU8(std::string& out, uint8_t v) { out.push_back(static_cast<char>(v)); }
inline void PutU16(std::string& out, uint16_t v) {
  out.append(reinterpret_cast<const char*>(&v), 2);
}
inline void PutU32(std::string& out, uint32_t v) {
  out.append(reinterpret_cast<const char*>(&v), 4);
}
inline void PutU64(std::string& out, uint64_t v) {
  out.append(reinterpret_cast<const char*>(&v), 8);
}
inline void PutBytes(std::string& out, const void* p, size_t n) {
  out.append(static_cast<const char*>(p), n);
}

inline uint32_t LoadU32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t LoadU64(const void* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline void StoreU32(void* p, uint32_t v) { std::memcpy(p, &v, 4); }

// Sequential bounds-checked reader over a byte span. Each Read* returns false (and reads
// nothing) when fewer bytes are left than asked for.
class ByteReader {
 public:
  explicit ByteReader(std::string_view data) : data_(data) {}

  size_t remaining() const { return data_.size() - pos_; }
  size_t position() const { return pos_; }

  bool ReadU8(uint8_t* v) { return ReadRaw(v, 1); }
  bool ReadU16(uint16_t* v) { return ReadRaw(v, 2); }
  bool ReadU32(uint32_t* v) { return ReadRaw(v, 4); }
  bool ReadU64(uint64_t* v) { return ReadRaw(v, 8); }
  bool ReadRaw(void* dst, size_t n) {
    if (remaining() < n) return false;
    std::memcpy(dst, data_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  // A view of the next n bytes (no copy).
  bool ReadView(size_t n, std::string_view* out) {
    if (remaining() < n) return false;
    *out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

}  // namespace nearstore::storage
