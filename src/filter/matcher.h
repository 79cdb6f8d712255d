// RowMatcher: one Filter prepared for one set of rows (a segment or a memtable), answering
// "does row r pass?" and "which rows could pass?" from the set's payload indexes where they
// hold the field, and from the row's stored metadata where they do not.
//
// Each condition on an indexed field is answered from the index when the index can decide it:
// the field is missing, or holds a value of the index's kind (and for $exists always). For a
// row whose value is of another kind, and for fields without an index, the row's metadata is
// parsed (once per row and call) and the condition evaluated on it, so an index never changes
// an answer, it only makes it cheaper.
//
// Thread-safety: immutable after construction; Matches may be called from many threads.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "filter/filter.h"
#include "filter/payload_index.h"

namespace nearstore::filter {

class RowMatcher {
 public:
  using MetadataFn = std::function<std::string_view(uint64_t row)>;
  using IdFn = std::function<std::string_view(uint64_t row)>;

  // `index` may be null (no payload index: every condition reads the metadata). The filter,
  // the index and whatever `metadata` and `id` read must outlive the matcher. Conditions on
  // $id are answered from `id`; those that list ids ($eq, $in) read every row's id here, once,
  // so that they can list their rows as candidates.
  RowMatcher(const Filter& filter, const PayloadIndex* index, uint64_t rows, MetadataFn metadata,
             IdFn id);
  RowMatcher(RowMatcher&&) noexcept;
  RowMatcher& operator=(RowMatcher&&) noexcept;
  ~RowMatcher();

  bool Matches(uint64_t row) const;
  // An upper bound of the rows that pass, from the indexes (all rows when they cannot tell).
  uint64_t Estimate() const;
  // The rows that may pass (each once, in no set order), when the indexes narrow them; nullopt when
  // they cannot (every row may pass). `exact` when they are exactly the passing rows (the
  // filter is one indexed condition, an interval of one number index, or an $or of such):
  // then Matches need not be asked of them.
  struct Candidates {
    std::vector<uint32_t> rows;
    bool exact = false;
  };
  std::optional<Candidates> CandidateRows() const;

  struct Compiled;  // matcher.cc

 private:
  std::unique_ptr<Compiled> root_;
  uint64_t rows_;
  MetadataFn metadata_;
  IdFn id_;
};

}  // namespace nearstore::filter
