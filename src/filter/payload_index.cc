#include "filter/payload_index.h"

#include <algorithm>
#include <cstring>

#include "filter/payload_index_format.h"

namespace nearstore::filter {

using nlohmann::json;

FieldIndex::FieldIndex(PayloadIndexInfo info, std::vector<std::string> path, Arrays arrays,
                       uint64_t bytes)
    : info_(std::move(info)), path_(std::move(path)), a_(arrays), bytes_(bytes) {}

bool IsNumericKind(PayloadIndexKind kind) {
  return kind == PayloadIndexKind::kInt || kind == PayloadIndexKind::kFloat;
}

bool HoldsKind(PayloadIndexKind kind, const json& value) {
  switch (kind) {
    case PayloadIndexKind::kKeyword:
      return value.is_string();
    case PayloadIndexKind::kInt:
    case PayloadIndexKind::kFloat:
      return value.is_number();
    case PayloadIndexKind::kBool:
      return value.is_boolean();
  }
  return false;
}

std::optional<uint32_t> FieldIndex::TermOf(const json& value) const {
  if (info_.kind == PayloadIndexKind::kBool) return value.get<bool>() ? 1u : 0u;
  // Keyword values are stored in ascending order: a binary search.
  const std::string_view wanted = value.get_ref<const std::string&>();
  uint32_t lo = 0, hi = a_.num_terms;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    if (Term(mid) < wanted) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == a_.num_terms || Term(lo) != wanted) return std::nullopt;
  return lo;
}

std::span<const FieldIndex::NumberRow> FieldIndex::Range(double lo, bool lo_inclusive, double hi,
                                                         bool hi_inclusive) const {
  const auto& sorted = a_.sorted;
  auto first = lo_inclusive
                   ? std::lower_bound(sorted.begin(), sorted.end(), lo,
                                      [](const NumberRow& e, double v) { return e.value < v; })
                   : std::upper_bound(sorted.begin(), sorted.end(), lo,
                                      [](double v, const NumberRow& e) { return v < e.value; });
  auto last = hi_inclusive
                  ? std::upper_bound(first, sorted.end(), hi,
                                     [](double v, const NumberRow& e) { return v < e.value; })
                  : std::lower_bound(first, sorted.end(), hi,
                                     [](const NumberRow& e, double v) { return e.value < v; });
  if (last < first) last = first;
  return {first, last};
}

Result<std::shared_ptr<const PayloadIndex>> PayloadIndex::Assemble(
    std::span<const PayloadIndexInfo> wanted, const std::shared_ptr<const PayloadIndex>& stored,
    uint32_t rows, const MetadataFn& metadata) {
  auto stored_field = [&](const PayloadIndexInfo& w) -> const FieldIndex* {
    if (stored == nullptr) return nullptr;
    for (const auto& f : stored->fields_) {
      if (f.info().field == w.field && f.info().kind == w.kind) return &f;
    }
    return nullptr;
  };
  std::vector<PayloadIndexInfo> missing;
  for (const auto& w : wanted) {
    if (stored_field(w) == nullptr) missing.push_back(w);
  }
  if (missing.empty() && stored != nullptr && stored->fields_.size() == wanted.size()) {
    bool same_order = true;
    for (size_t i = 0; i < wanted.size(); ++i) {
      same_order &= stored->fields_[i].info().field == wanted[i].field;
    }
    if (same_order) return stored;
  }

  auto index = std::make_shared<PayloadIndex>();
  std::shared_ptr<const PayloadIndex> built;
  if (!missing.empty()) {
    NEARSTORE_ASSIGN_OR_RETURN(const std::string bytes,
                               EncodePayloadIndex(missing, rows, metadata));
    // Viewed in place like a file's section, so 8-byte-aligned storage.
    auto words = std::make_shared<std::vector<uint64_t>>((bytes.size() + 7) / 8);
    std::memcpy(words->data(), bytes.data(), bytes.size());
    NEARSTORE_ASSIGN_OR_RETURN(
        built,
        View({reinterpret_cast<const char*>(words->data()), bytes.size()}, rows, words, "memory"));
  }
  for (const auto& w : wanted) {
    const FieldIndex* f = stored_field(w);
    for (size_t i = 0; f == nullptr && i < missing.size(); ++i) {
      if (missing[i].field == w.field) f = &built->fields_[i];  // built in `missing`'s order
    }
    index->fields_.push_back(*f);
  }
  for (const auto* from : {stored.get(), built.get()}) {
    if (from != nullptr) {
      index->owners_.insert(index->owners_.end(), from->owners_.begin(), from->owners_.end());
    }
  }
  return std::shared_ptr<const PayloadIndex>(std::move(index));
}

Result<std::shared_ptr<const PayloadIndex>> PayloadIndex::Build(
    std::span<const PayloadIndexInfo> fields, uint32_t rows, const MetadataFn& metadata) {
  return Assemble(fields, nullptr, rows, metadata);
}

Result<std::shared_ptr<const PayloadIndex>> PayloadIndex::View(std::string_view bytes,
                                                               uint64_t rows,
                                                               std::shared_ptr<const void> owner,
                                                               const std::string& path) {
  NEARSTORE_ASSIGN_OR_RETURN(auto fields, ViewPayloadIndex(bytes, rows, path));
  auto index = std::make_shared<PayloadIndex>();
  index->fields_ = std::move(fields);
  index->owners_.push_back(std::move(owner));
  return std::shared_ptr<const PayloadIndex>(std::move(index));
}

const FieldIndex* PayloadIndex::Find(const std::vector<std::string>& path) const {
  for (const auto& f : fields_) {
    if (f.path() == path) return &f;
  }
  return nullptr;
}

uint64_t PayloadIndex::memory_bytes() const {
  uint64_t bytes = 0;
  for (const auto& f : fields_) bytes += f.memory_bytes();
  return bytes;
}

}  // namespace nearstore::filter
