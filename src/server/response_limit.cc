#include "server/response_limit.h"

#include <limits>
#include <string>

namespace nearstore::server {

Status ResponseLimit::Check(uint64_t bytes, std::string_view what,
                            std::string_view ask_less) const {
  if (bytes <= max_bytes_) return Status::Ok();
  return Status::InvalidArgument(
      std::string(what) + " would take more than " + std::to_string(max_bytes_) +
      " bytes, the most this server sends (max_response_bytes); " + std::string(ask_less));
}

Status ResponseLimit::CheckEntries(uint64_t entries, uint64_t min_entry_bytes,
                                   std::string_view what, std::string_view ask_less) const {
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(entries, min_entry_bytes, &bytes)) {
    bytes = std::numeric_limits<uint64_t>::max();
  }
  return Check(bytes, what, ask_less);
}

uint64_t ResponseLimit::MinEntryBytes(bool with_distance, bool with_metadata, bool with_vector,
                                      uint32_t dim) {
  uint64_t bytes = sizeof("{\"id\":\"x\"}") - 1 + 1;  // and the comma before the next entry
  if (with_distance) bytes += sizeof(",\"distance\":0") - 1;
  if (with_metadata) bytes += sizeof(",\"metadata\":{}") - 1;
  if (with_vector) bytes += sizeof(",\"vector\":[]") - 1 + 2 * uint64_t{dim} - (dim > 0 ? 1 : 0);
  return bytes;
}

Status ResponseBudget::Spend(uint64_t bytes) {
  bytes_ = bytes > UINT64_MAX - bytes_ ? UINT64_MAX : bytes_ + bytes;
  return limit_.Check(bytes_, "the answer", ask_less_);
}

}  // namespace nearstore::server
