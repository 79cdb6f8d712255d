// Encoded bytes (a graph, codes) copied into 8-byte-aligned storage, as a mapped segment's
// section is: the views refuse unaligned bytes. For the tests of src/index.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace nearstore::index {

struct Aligned {
  explicit Aligned(const std::string& bytes) : words((bytes.size() + 7) / 8), size(bytes.size()) {
    std::memcpy(words.data(), bytes.data(), bytes.size());
  }
  std::string_view view() const { return {reinterpret_cast<const char*>(words.data()), size}; }
  char* data() { return reinterpret_cast<char*>(words.data()); }
  std::vector<uint64_t> words;
  size_t size;
};

}  // namespace nearstore::index
