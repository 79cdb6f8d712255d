// Encoded bytes (a graph, codes, payload indexes) for the tests of the views over them: copied
// into aligned storage, and damaged the ways files go bad.
#pragma once

#include <cstdint>
#include <cstring>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace nearstore::test_support {

// Bytes copied into 8-byte-aligned storage, as a mapped segment's section is: the views refuse
// unaligned bytes.
struct Aligned {
  explicit Aligned(const std::string& bytes) : words((bytes.size() + 7) / 8), size(bytes.size()) {
    if (!bytes.empty())
      std::memcpy(words.data(), bytes.data(), bytes.size());  // data() may be null
  }
  std::string_view view() const { return {reinterpret_cast<const char*>(words.data()), size}; }
  char* data() { return reinterpret_cast<char*>(words.data()); }
  std::vector<uint64_t> words;
  size_t size;
};

// `bytes` with a few bytes overwritten, or a few bits flipped, or cut short, or with a 32-bit
// field replaced by a value near a limit (`rows`: the rows the bytes describe): the ways a file
// goes bad. Seeded by the caller, so that a failure can be replayed.
inline std::string Damage(const std::string& bytes, std::mt19937_64& rng, uint32_t rows) {
  std::string out = bytes;
  switch (rng() % 4) {
    case 0:
      for (int i = 0, n = 1 + static_cast<int>(rng() % 8); i < n; ++i) {
        out[rng() % out.size()] = static_cast<char>(rng());
      }
      break;
    case 1:
      for (int i = 0, n = 1 + static_cast<int>(rng() % 4); i < n; ++i) {
        out[rng() % out.size()] ^= static_cast<char>(1u << (rng() % 8));
      }
      break;
    case 2:
      out.resize(rng() % out.size());
      break;
    default: {
      const uint32_t values[] = {0, 1, 0x7fffffff, 0xffffffff, rows, rows - 1, 64, 255};
      const uint32_t v = values[rng() % std::size(values)];
      std::memcpy(out.data() + (rng() % (out.size() / 4)) * 4, &v, 4);
    }
  }
  return out;
}

}  // namespace nearstore::test_support
