// PayloadIndex: the payload indexes of one immutable set of rows (a sealed segment), one
// FieldIndex per indexed metadata field, built from the rows' stored metadata.
//
// A FieldIndex knows, for every row, whether the field is missing, holds a value of the
// index's kind, or holds something else (tag), and holds both directions:
//   forward  (row -> value): answers a condition on one row in O(1) during a graph walk;
//   inverted (value -> rows): keyword and bool fields map each value to its sorted rows,
//            number fields keep (value, row) pairs sorted by value, so the rows passing a
//            condition are found, and counted, without touching the others.
// Rows whose value is of another kind are not in the inverted lists; the matcher reads their
// metadata instead (see matcher.h), so an index never changes a filter's answer.
//
// Thread-safety: immutable after Build; read from any number of threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "nearstore/types.h"

namespace nearstore::filter {

class FieldIndex {
 public:
  enum class Tag : uint8_t { kMissing = 0, kTyped = 1, kOther = 2 };
  struct NumberRow {
    double value;
    uint32_t row;
  };

  FieldIndex(PayloadIndexInfo info, std::vector<std::string> path, uint32_t rows);

  const PayloadIndexInfo& info() const { return info_; }
  const std::vector<std::string>& path() const { return path_; }
  bool numeric() const {
    return info_.kind == PayloadIndexKind::kInt || info_.kind == PayloadIndexKind::kFloat;
  }
  // Whether `value` is of this index's kind (a string, a number or a boolean).
  bool HoldsKind(const nlohmann::json& value) const;

  Tag tag(uint32_t row) const { return static_cast<Tag>(tags_[row]); }
  // Forward values. REQUIRES: tag(row) == kTyped.
  uint32_t term(uint32_t row) const { return terms_[row]; }  // keyword, bool
  double number(uint32_t row) const { return numbers_[row]; }

  // Keyword and bool: the term of `value` (a value of this kind), nullopt when no row holds it.
  std::optional<uint32_t> TermOf(const nlohmann::json& value) const;
  std::span<const uint32_t> Rows(uint32_t term) const { return postings_[term]; }
  // Numbers: the entries with lo <(=) value <(=) hi, sorted by value.
  std::span<const NumberRow> Range(double lo, bool lo_inclusive, double hi,
                                   bool hi_inclusive) const;
  uint64_t memory_bytes() const;

  // Building: rows in ascending order, then Finish once.
  void Add(uint32_t row, const nlohmann::json& metadata);
  void Finish();

 private:
  PayloadIndexInfo info_;
  std::vector<std::string> path_;
  std::vector<uint8_t> tags_;
  std::vector<uint32_t> terms_;
  std::vector<double> numbers_;
  std::unordered_map<std::string, uint32_t> term_ids_;  // keyword
  std::vector<std::vector<uint32_t>> postings_;         // per term, ascending rows
  std::vector<NumberRow> sorted_;                       // numbers, by value then row
};

class PayloadIndex {
 public:
  // Indexes `rows` rows for each of `fields`; `metadata(row)` is a row's stored JSON text
  // (each row's text is parsed once for all fields). InvalidArgument for a bad field path.
  [[nodiscard]] static Result<std::shared_ptr<const PayloadIndex>> Build(
      std::span<const PayloadIndexInfo> fields, uint32_t rows,
      const std::function<std::string_view(uint32_t)>& metadata);

  // The index of the field at `path`, or nullptr.
  const FieldIndex* Find(const std::vector<std::string>& path) const;
  const std::vector<FieldIndex>& fields() const { return fields_; }
  uint64_t memory_bytes() const;

 private:
  std::vector<FieldIndex> fields_;
};

}  // namespace nearstore::filter
