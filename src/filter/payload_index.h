// PayloadIndex: the payload indexes of one immutable set of rows (a sealed segment), one
// FieldIndex per indexed metadata field.
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
// A FieldIndex is a view over its encoded bytes (payload_index_format.h): the bytes a segment
// file stores (mapped, nothing rebuilt on open) or those built in memory from the rows'
// metadata when the file has no index of that field. The PayloadIndex keeps whichever bytes
// its fields view alive.
//
// Thread-safety: immutable once assembled; read from any number of threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nearstore/types.h"

namespace nearstore::filter {

// Whether an index of `kind` holds numbers (int, float).
bool IsNumericKind(PayloadIndexKind kind);
// Whether `value` is of `kind`'s type (a string, a number or a boolean).
bool HoldsKind(PayloadIndexKind kind, const nlohmann::json& value);

class FieldIndex {
 public:
  enum class Tag : uint8_t { kMissing = 0, kTyped = 1, kOther = 2 };
  // One entry of a number index, as stored (16 bytes, `reserved` zero).
  struct NumberRow {
    double value;
    uint32_t row;
    uint32_t reserved;
  };
  static_assert(sizeof(NumberRow) == 16);

  // The arrays a field's index is made of, borrowed (see payload_index_format.h for their
  // invariants, which whoever fills them must have checked).
  struct Arrays {
    uint32_t rows = 0;
    const uint8_t* tags = nullptr;              // rows
    const uint32_t* terms = nullptr;            // keyword, bool: rows
    const double* numbers = nullptr;            // int, float: rows
    uint32_t num_terms = 0;                     // keyword: distinct values; bool: 2
    const uint64_t* term_offsets = nullptr;     // keyword: num_terms + 1, into term_bytes
    const char* term_bytes = nullptr;           // keyword: the values, ascending
    const uint64_t* posting_offsets = nullptr;  // keyword, bool: num_terms + 1, into postings
    const uint32_t* postings = nullptr;         // ascending rows per term
    std::span<const NumberRow> sorted;          // int, float: by value, then row
  };

  FieldIndex(PayloadIndexInfo info, std::vector<std::string> path, Arrays arrays, uint64_t bytes);

  const PayloadIndexInfo& info() const { return info_; }
  const std::vector<std::string>& path() const { return path_; }
  bool numeric() const { return IsNumericKind(info_.kind); }
  // Whether `value` is of this index's kind.
  bool HoldsKind(const nlohmann::json& value) const { return filter::HoldsKind(info_.kind, value); }

  Tag tag(uint32_t row) const { return static_cast<Tag>(a_.tags[row]); }
  // Forward values. REQUIRES: tag(row) == kTyped.
  uint32_t term(uint32_t row) const { return a_.terms[row]; }  // keyword, bool
  double number(uint32_t row) const { return a_.numbers[row]; }

  // Keyword and bool: the term of `value` (a value of this kind), nullopt when no row holds it.
  std::optional<uint32_t> TermOf(const nlohmann::json& value) const;
  std::span<const uint32_t> Rows(uint32_t term) const {
    return {a_.postings + a_.posting_offsets[term], a_.postings + a_.posting_offsets[term + 1]};
  }
  // Numbers: the entries with lo <(=) value <(=) hi, sorted by value.
  std::span<const NumberRow> Range(double lo, bool lo_inclusive, double hi,
                                   bool hi_inclusive) const;
  // Bytes of its encoding (mapped from a file, or in memory).
  uint64_t memory_bytes() const { return bytes_; }

 private:
  std::string_view Term(uint32_t t) const {
    return {a_.term_bytes + a_.term_offsets[t], a_.term_offsets[t + 1] - a_.term_offsets[t]};
  }

  PayloadIndexInfo info_;
  std::vector<std::string> path_;
  Arrays a_;
  uint64_t bytes_;
};

class PayloadIndex {
 public:
  using MetadataFn = std::function<std::string_view(uint32_t)>;

  // The indexes of `wanted`, in that order: each taken from `stored` (the fields a segment
  // file holds; may be null) when it has the field with the same kind, and built from the
  // rows' metadata otherwise (`metadata(row)` is a row's stored JSON text, each row parsed
  // once for all fields built). `stored` itself when it holds exactly `wanted`.
  [[nodiscard]] static Result<std::shared_ptr<const PayloadIndex>> Assemble(
      std::span<const PayloadIndexInfo> wanted, const std::shared_ptr<const PayloadIndex>& stored,
      uint32_t rows, const MetadataFn& metadata);
  // Assemble with nothing stored.
  [[nodiscard]] static Result<std::shared_ptr<const PayloadIndex>> Build(
      std::span<const PayloadIndexInfo> fields, uint32_t rows, const MetadataFn& metadata);
  // The fields of the encoded bytes `bytes` of `rows` rows (payload_index_format.h), validated
  // (Corruption naming `path` otherwise); `owner` keeps the bytes alive.
  [[nodiscard]] static Result<std::shared_ptr<const PayloadIndex>> View(
      std::string_view bytes, uint64_t rows, std::shared_ptr<const void> owner,
      const std::string& path);

  // The index of the field at `path`, or nullptr.
  const FieldIndex* Find(const std::vector<std::string>& path) const;
  const std::vector<FieldIndex>& fields() const { return fields_; }
  uint64_t memory_bytes() const;

 private:
  std::vector<FieldIndex> fields_;
  std::vector<std::shared_ptr<const void>> owners_;  // the bytes the fields view
};

}  // namespace nearstore::filter
