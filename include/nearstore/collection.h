// Collection: a named set of points of one dimension and metric, inside a Database.
//
// Thread-safety: safe to call from several threads at once. Writes are serialised in
// sequence-number order and acknowledged (returned) only once durable per the database's
// Durability; searches and reads never wait for a write's fsync: each sees a consistent
// snapshot of all writes acknowledged before it started.
//
// Errors: InvalidArgument for bad input (wrong dimension, NaN/Inf, zero vector in a cosine
// collection, empty or over-long id, metadata that is not a JSON object, k out of range);
// FailedPrecondition after the collection was dropped or the database closed, or after an
// I/O error made the collection refuse writes; IOError when the disk fails. A refused call
// changes nothing; a batch is applied whole or not at all.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nearstore/status.h"
#include "nearstore/types.h"

namespace nearstore {

class Collection {
 public:
  virtual ~Collection() = default;

  virtual const std::string& name() const = 0;
  // Distinct for every collection ever created in its database: a collection dropped and
  // created again under the same name gets a new one (so a stale handle can be told apart).
  virtual uint64_t incarnation() const = 0;
  virtual uint32_t dim() const = 0;
  virtual Metric metric() const = 0;

  // Inserts the point, or replaces the one with the same id.
  [[nodiscard]] virtual Status Upsert(const Point& point) = 0;
  // Inserts or replaces all points atomically. When an id repeats, the last one wins.
  [[nodiscard]] virtual Status Upsert(std::span<const Point> points) = 0;
  // The same from columns: `vectors` holds ids.size() * dim() floats, row after row;
  // `metadata` is empty (all "{}") or holds one JSON object text per id.
  [[nodiscard]] virtual Status UpsertColumns(std::span<const std::string> ids,
                                             std::span<const float> vectors,
                                             std::span<const std::string> metadata) = 0;

  // The point with this id, or nullopt when there is none.
  [[nodiscard]] virtual Result<std::optional<Point>> Get(std::string_view id) const = 0;
  // One entry per id, in order.
  [[nodiscard]] virtual Result<std::vector<std::optional<Point>>> GetMany(
      std::span<const std::string> ids) const = 0;

  // Replaces the fields set in `update`. Returns false (and changes nothing) when no point
  // has this id.
  [[nodiscard]] virtual Result<bool> Update(std::string_view id, const PointUpdate& update) = 0;

  // Returns whether a point with this id existed.
  [[nodiscard]] virtual Result<bool> Delete(std::string_view id) = 0;
  // Deletes atomically; entry i says whether ids[i] existed.
  [[nodiscard]] virtual Result<std::vector<bool>> DeleteMany(std::span<const std::string> ids) = 0;

  // OK while the collection can be used; FailedPrecondition (saying why) once it was dropped
  // or its database closed. Count() and Info() cannot fail: ask this first where it matters.
  [[nodiscard]] virtual Status CheckUsable() const = 0;

  // Number of live points.
  virtual uint64_t Count() const = 0;
  // Number of live points whose metadata passes `filter` (docs/FILTERS.md; "" = all).
  // InvalidArgument for a bad filter.
  [[nodiscard]] virtual Result<uint64_t> CountWhere(std::string_view filter) const = 0;
  // Deletes, in one atomic write, the points that pass `filter` when the call starts, and
  // returns how many it deleted; a point written again meanwhile is left alone (its new
  // version was not judged). A bad filter (or "", which would delete everything: use "{}"
  // for that) is refused and nothing changes.
  [[nodiscard]] virtual Result<uint64_t> DeleteWhere(std::string_view filter) = 0;

  // Payload indexes (docs/FILTERS.md, "Payload indexes"): filters on an indexed field are
  // answered from the index instead of the stored metadata, and the search planner uses them
  // to count the points a filter passes. Creating builds the index over the existing points
  // and waits for it; sealed segments keep it from then on, and the index's definition is in
  // the MANIFEST. Creating one that exists with the same kind is a no-op; with another kind,
  // AlreadyExists (drop it first).
  [[nodiscard]] virtual Status CreatePayloadIndex(std::string_view field,
                                                  PayloadIndexKind kind) = 0;
  // Whether there was an index on `field` (dropped now).
  [[nodiscard]] virtual Result<bool> DropPayloadIndex(std::string_view field) = 0;
  virtual std::vector<PayloadIndexInfo> ListPayloadIndexes() const = 0;

  // A page of points in ascending id order (see ScrollPage).
  [[nodiscard]] virtual Result<ScrollPage> Scroll(const ScrollOptions& options) const = 0;

  // The k nearest points to `query` that pass options.filter, closest first; ties are broken
  // by id. Exact in a flat collection; in an hnsw one, approximate over sealed segments (the
  // graph walk, IndexKind in types.h) and exact over the rows not sealed yet.
  [[nodiscard]] virtual Result<std::vector<Hit>> Search(std::span<const float> query,
                                                        const SearchOptions& options) const = 0;
  // Many queries at once (`queries` holds n * dim() floats): one result list per query.
  [[nodiscard]] virtual Result<std::vector<std::vector<Hit>>> SearchBatch(
      std::span<const float> queries, const SearchOptions& options) const = 0;

  // Counts and sizes, for tools.
  virtual CollectionInfo Info() const = 0;

  // Seals the memtable into a segment file now and waits for it (normally done in the
  // background when the memtable is full).
  [[nodiscard]] virtual Status Flush() = 0;
  // Rewrites all segments into one without deleted points, and waits for it.
  [[nodiscard]] virtual Status Compact() = 0;
};

// The shape checks both the Python package and the server make before handing columns to a
// collection (InvalidArgument saying what was expected otherwise): `ids` ids with `rows`
// vectors of `width` numbers for an upsert; queries of `width` numbers for a batch search.
[[nodiscard]] Status CheckUpsertShape(const Collection& collection, size_t ids, size_t rows,
                                      size_t width);
[[nodiscard]] Status CheckQueryWidth(const Collection& collection, size_t width);

}  // namespace nearstore
