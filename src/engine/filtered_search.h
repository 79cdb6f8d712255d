// Filtered reads of a snapshot: search, count and listing of the rows that pass a Filter.
//
// A filter is prepared once per source (segment or memtable) as a RowMatcher over the source's
// payload indexes. Per sealed segment with a graph, a planner picks the cheaper of two plans
// from the indexes' estimate of the passing rows:
//   few  -> exact: the candidate rows the indexes list (or every row) are measured and checked;
//   many -> a graph walk that goes through rows failing the filter without returning them
//           (they still route the search; the walk widens until its result list is full).
//           Should the walk return fewer than k rows, the segment is searched exactly instead.
// The contract: k hits whenever at least k visible rows pass, and never a row that fails.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "engine/exact_search.h"
#include "engine/graph_search.h"
#include "engine/version.h"
#include "filter/filter.h"
#include "filter/matcher.h"

namespace nearstore::engine {

// A filter prepared for one source of a snapshot.
struct SourceFilter {
  const RowSource* source = nullptr;
  std::shared_ptr<const filter::PayloadIndex> payload;  // kept alive for the matcher
  std::unique_ptr<filter::RowMatcher> matcher;
  // Rows that may pass, when the indexes narrow them; nullopt = all.
  std::optional<filter::RowMatcher::Candidates> candidates;
  // Set when the search plan is the graph walk of this segment.
  const Segment* walk = nullptr;
  // Every row is visible at the snapshot (a segment with no row deleted or replaced, and none
  // newer than the snapshot): no visibility check per row, which costs two cache misses.
  bool all_visible = false;

  // Whether `row` is visible at snapshot `seq` and passes; `listed` when the row was taken
  // from `candidates` (exact candidates pass without asking the filter).
  bool Passes(uint64_t row, uint64_t seq, bool listed) const {
    if (!all_visible && !source->VisibleAt(row, seq)) return false;
    return (listed && candidates->exact) || matcher->Matches(row);
  }
};

// The plan of `filter` for each source of `snapshot`. With `plan_walks`, sealed segments with
// a graph get the walk when the indexes cannot show that few rows pass.
std::vector<SourceFilter> PrepareFilter(const Snapshot& snapshot, const filter::Filter& filter,
                                        bool plan_walks);

// Calls `fn(source, row)` for every row of `prepared` visible at `seq` that passes.
void ForEachMatch(const std::vector<SourceFilter>& prepared, uint64_t seq,
                  const std::function<void(const RowSource&, uint64_t)>& fn);

// For each of the nq queries (prepared as stored), the k closest visible rows that pass.
std::vector<std::vector<Candidate>> FilteredSearch(const Snapshot& snapshot,
                                                   const filter::Filter& filter,
                                                   const float* queries, size_t nq, uint32_t dim,
                                                   Metric metric, const GraphSearchOptions& options,
                                                   bool use_graphs, ThreadPool* pool);

}  // namespace nearstore::engine
