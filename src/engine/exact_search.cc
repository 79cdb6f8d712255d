#include "engine/exact_search.h"

#include <algorithm>

#include "engine/distance.h"
#include "simd/distance.h"

namespace nearstore::engine {
namespace {

// Rows per parallel task: big enough that scheduling costs nothing next to the scan.
constexpr uint64_t kRowsPerTask = 16384;
// Rows per kernel call for a batch: the scores of one call (rows x queries) stay in cache.
// One query scans its whole range in one call instead: the rows are streamed from memory
// once, and a call that large takes the kernel's streaming loop (see kernels_generic.h),
// which reaches ~90% of the memory bandwidth where cache-sized calls reach ~60%.
constexpr uint64_t kBatchRowsPerCall = 1024;

struct Range {
  const RowSource* source;
  uint64_t first_row;
  uint64_t rows;
  const float* vectors;
};

std::vector<Range> SplitIntoRanges(const Snapshot& snapshot, uint32_t dim) {
  std::vector<Range> ranges;
  std::vector<VectorBlock> blocks;
  for (const auto& source : snapshot.version->sources) {
    blocks.clear();
    source->Blocks(source->NumRows(), &blocks);
    for (const auto& b : blocks) {
      for (uint64_t off = 0; off < b.rows; off += kRowsPerTask) {
        const uint64_t n = std::min(kRowsPerTask, b.rows - off);
        ranges.push_back({source.get(), b.first_row + off, n, b.vectors + off * dim});
      }
    }
  }
  return ranges;
}

// Offers rows [0, n) of a kernel call's scores to the TopK of one query.
void Collect(const float* scores, size_t n, const Range& range, uint64_t first, uint64_t seq,
             TopK* top) {
  float threshold = top->threshold();
  for (size_t i = 0; i < n; ++i) {
    if (scores[i] > threshold) continue;
    const uint64_t row = first + i;
    if (!range.source->VisibleAt(row, seq)) continue;
    top->Push({scores[i], range.source->Id(row), range.source, row});
    threshold = top->threshold();
  }
}

void ScanRange(const Range& range, const float* queries, size_t nq, uint32_t dim, Metric metric,
               uint64_t seq, std::vector<TopK>* tops) {
  const auto& kernels = simd::Kernels();
  const bool by_dot = metric != Metric::kL2;  // cosine and dot: the kernel's inner product
  const uint64_t rows_per_call = nq == 1 ? kRowsPerTask : kBatchRowsPerCall;
  thread_local std::vector<float> scores;  // reused: the scan path allocates nothing
  scores.resize(rows_per_call * nq);
  for (uint64_t off = 0; off < range.rows; off += rows_per_call) {
    const uint64_t n = std::min(rows_per_call, range.rows - off);
    const float* rows = range.vectors + off * dim;
    if (nq == 1) {
      (by_dot ? kernels.dot_many : kernels.l2sq_many)(queries, rows, n, dim, scores.data());
    } else {
      (by_dot ? kernels.dot_block : kernels.l2sq_block)(queries, nq, rows, n, dim, scores.data());
    }
    for (size_t q = 0; q < nq; ++q) {
      float* s = scores.data() + q * n;
      // Rank by the distance the user sees, not the kernel's value: conversion rounds
      // (1 - cos, sqrt), and two rows whose reported distances tie must be ordered by id.
      KernelValuesToUserDistances(metric, s, n);
      Collect(s, n, range, range.first_row + off, seq, &(*tops)[q]);
    }
  }
}

}  // namespace

std::vector<std::vector<Candidate>> ExactSearch(const Snapshot& snapshot, const float* queries,
                                                size_t nq, uint32_t dim, Metric metric, size_t k,
                                                ThreadPool* pool) {
  const std::vector<Range> ranges = SplitIntoRanges(snapshot, dim);
  // One TopK per (range, query); ranges run in parallel, then merge per query.
  std::vector<std::vector<TopK>> partial(ranges.size(), std::vector<TopK>(nq, TopK(k)));
  auto scan = [&](size_t r) {
    ScanRange(ranges[r], queries, nq, dim, metric, snapshot.seq, &partial[r]);
  };
  if (pool != nullptr && ranges.size() > 1) {
    pool->ParallelFor(ranges.size(), scan);
  } else {
    for (size_t r = 0; r < ranges.size(); ++r) scan(r);
  }
  std::vector<std::vector<Candidate>> out(nq);
  for (size_t q = 0; q < nq; ++q) {
    TopK merged(k);
    for (auto& p : partial) merged.Merge(p[q]);
    out[q] = merged.TakeSorted();
  }
  return out;
}

}  // namespace nearstore::engine
