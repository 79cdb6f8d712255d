#include "index/codes_header.h"

#include "storage/coding.h"

namespace nearstore::index {

void PutCodesHeader(std::string* out, uint32_t magic, uint32_t version, uint32_t dim, uint64_t n) {
  storage::PutU32(*out, magic);
  storage::PutU32(*out, version);
  storage::PutU32(*out, dim);
  storage::PutU32(*out, 0);
  storage::PutU64(*out, n);
  storage::PutU64(*out, 0);
}

Status CheckCodesHeader(std::string_view bytes, uint32_t magic, uint32_t version, uint64_t n,
                        uint32_t dim,
                        const std::function<uint64_t(uint64_t, uint32_t)>& total_bytes,
                        const std::string& kind, const std::string& path) {
  auto damaged = [&](const std::string& what) {
    return Status::Corruption(kind + " in " + path + ": " + what);
  };
  if (bytes.size() < kCodesHeaderBytes) return damaged("header cut short");
  if (reinterpret_cast<uintptr_t>(bytes.data()) % 8 != 0) {
    return damaged("bytes are not 8-byte aligned");
  }
  const char* p = bytes.data();
  if (storage::LoadU32(p) != magic) return damaged("bad magic");
  if (storage::LoadU32(p + 4) != version) {
    return damaged("format version " + std::to_string(storage::LoadU32(p + 4)) + ", expected " +
                   std::to_string(version));
  }
  if (storage::LoadU32(p + 8) != dim || storage::LoadU64(p + 16) != n) {
    return damaged("covers " + std::to_string(storage::LoadU64(p + 16)) + " rows of " +
                   std::to_string(storage::LoadU32(p + 8)) + " dimensions, expected " +
                   std::to_string(n) + " of " + std::to_string(dim));
  }
  if (n > bytes.size()) return damaged("row count exceeds the size");
  const uint64_t total = total_bytes(n, dim);
  if (bytes.size() != total) {
    return damaged("size " + std::to_string(bytes.size()) + " bytes, expected " +
                   std::to_string(total));
  }
  return Status::Ok();
}

}  // namespace nearstore::index
