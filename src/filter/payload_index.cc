#include "filter/payload_index.h"

#include <algorithm>

#include "filter/filter_node.h"

namespace nearstore::filter {

using nlohmann::json;

FieldIndex::FieldIndex(PayloadIndexInfo info, std::vector<std::string> path, uint32_t rows)
    : info_(std::move(info)), path_(std::move(path)), tags_(rows, 0) {
  if (numeric()) {
    numbers_.resize(rows);
  } else {
    terms_.resize(rows);
  }
  if (info_.kind == PayloadIndexKind::kBool) postings_.resize(2);  // term 0: false, 1: true
}

bool FieldIndex::HoldsKind(const json& value) const {
  switch (info_.kind) {
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
  auto it = term_ids_.find(value.get_ref<const std::string&>());
  if (it == term_ids_.end()) return std::nullopt;
  return it->second;
}

std::span<const FieldIndex::NumberRow> FieldIndex::Range(double lo, bool lo_inclusive, double hi,
                                                         bool hi_inclusive) const {
  auto first = lo_inclusive
                   ? std::lower_bound(sorted_.begin(), sorted_.end(), lo,
                                      [](const NumberRow& e, double v) { return e.value < v; })
                   : std::upper_bound(sorted_.begin(), sorted_.end(), lo,
                                      [](double v, const NumberRow& e) { return v < e.value; });
  auto last = hi_inclusive
                  ? std::upper_bound(first, sorted_.end(), hi,
                                     [](double v, const NumberRow& e) { return v < e.value; })
                  : std::lower_bound(first, sorted_.end(), hi,
                                     [](const NumberRow& e, double v) { return e.value < v; });
  if (last < first) last = first;
  return {first, last};
}

void FieldIndex::Add(uint32_t row, const json& metadata) {
  const json* value = Lookup(metadata, path_);
  if (value == nullptr) return;  // tags_ start as kMissing
  if (!HoldsKind(*value)) {
    tags_[row] = static_cast<uint8_t>(Tag::kOther);
    return;
  }
  tags_[row] = static_cast<uint8_t>(Tag::kTyped);
  if (numeric()) {
    numbers_[row] = value->get<double>();
    sorted_.push_back({numbers_[row], row});
    return;
  }
  uint32_t term;
  if (info_.kind == PayloadIndexKind::kBool) {
    term = value->get<bool>() ? 1 : 0;
  } else {
    auto [it, fresh] =
        term_ids_.try_emplace(value->get<std::string>(), static_cast<uint32_t>(postings_.size()));
    if (fresh) postings_.emplace_back();
    term = it->second;
  }
  terms_[row] = term;
  postings_[term].push_back(row);  // rows arrive in ascending order
}

void FieldIndex::Finish() {
  std::sort(sorted_.begin(), sorted_.end(), [](const NumberRow& a, const NumberRow& b) {
    return a.value < b.value || (a.value == b.value && a.row < b.row);
  });
  sorted_.shrink_to_fit();
  for (auto& p : postings_) p.shrink_to_fit();
}

uint64_t FieldIndex::memory_bytes() const {
  uint64_t bytes = tags_.size() + terms_.size() * sizeof(uint32_t) +
                   numbers_.size() * sizeof(double) + sorted_.size() * sizeof(NumberRow);
  for (const auto& p : postings_) bytes += p.size() * sizeof(uint32_t);
  for (const auto& [term, id] : term_ids_) bytes += term.size() + 32;
  return bytes;
}

Result<std::shared_ptr<const PayloadIndex>> PayloadIndex::Build(
    std::span<const PayloadIndexInfo> fields, uint32_t rows,
    const std::function<std::string_view(uint32_t)>& metadata) {
  auto index = std::make_shared<PayloadIndex>();
  for (const auto& f : fields) {
    NEARSTORE_ASSIGN_OR_RETURN(auto path, SplitFieldPath(f.field));
    index->fields_.emplace_back(f, std::move(path), rows);
  }
  if (!index->fields_.empty()) {
    for (uint32_t row = 0; row < rows; ++row) {
      const json parsed = ParseMetadata(metadata(row));
      for (auto& field : index->fields_) field.Add(row, parsed);
    }
  }
  for (auto& field : index->fields_) field.Finish();
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
