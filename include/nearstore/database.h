// Database: a directory of collections, or an in-memory equivalent.
//
// One process at a time may open a directory: a second gets Busy ("database is locked").
// The lock is an flock on DIR/LOCK that the kernel drops when the process dies, so a crash
// never leaves a stale lock.
//
// Thread-safety: safe to call from several threads at once. Collections handed out stay
// valid objects after DropCollection or Close, but every call on them then fails with
// FailedPrecondition.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nearstore/collection.h"
#include "nearstore/options.h"
#include "nearstore/status.h"
#include "nearstore/types.h"

namespace nearstore {

class Database {
 public:
  // Opens the database in directory `path`, creating it if missing, and recovers: reads the
  // MANIFEST, maps the segments, replays the write-ahead logs. Errors: Busy when another
  // process has it open; Corruption (naming the file) when a file is damaged in a way a
  // crash cannot explain; IOError.
  [[nodiscard]] static Result<std::unique_ptr<Database>> Open(const std::string& path,
                                                              const DatabaseOptions& options = {});
  // A database that lives in RAM only and is gone when closed.
  [[nodiscard]] static Result<std::unique_ptr<Database>> OpenInMemory(
      const DatabaseOptions& options = {});

  // Closes (waits for background work; flushes nothing that is not already durable, since
  // every acknowledged write already is). Called by the destructor if not called before.
  virtual ~Database() = default;
  [[nodiscard]] virtual Status Close() = 0;

  // Creates a collection. Name: 1..128 bytes of letters, digits, '_', '-', '.'; dim:
  // 1..kMaxDimension; `index` as documented in IndexOptions (InvalidArgument when out of
  // range). AlreadyExists when the name is taken.
  [[nodiscard]] virtual Result<std::shared_ptr<Collection>> CreateCollection(
      const std::string& name, uint32_t dim, Metric metric, const IndexOptions& index) = 0;
  // A flat (exact search) collection.
  [[nodiscard]] Result<std::shared_ptr<Collection>> CreateCollection(const std::string& name,
                                                                     uint32_t dim, Metric metric) {
    return CreateCollection(name, dim, metric, IndexOptions{});
  }
  // InvalidArgument when `name` breaks CreateCollection's rule (no collection can have it);
  // NotFound when there is no collection of that name.
  [[nodiscard]] virtual Result<std::shared_ptr<Collection>> GetCollection(
      std::string_view name) = 0;
  // OK while open; FailedPrecondition after Close(). ListCollections() cannot fail (it is
  // empty once closed): ask this first where it matters.
  [[nodiscard]] virtual Status CheckUsable() const = 0;

  // Sorted by name.
  virtual std::vector<CollectionInfo> ListCollections() = 0;
  // Deletes the collection and its files. InvalidArgument for a name no collection can have
  // (as GetCollection); NotFound when there is none of that name.
  [[nodiscard]] virtual Status DropCollection(std::string_view name) = 0;

  // The directory ("" when in memory).
  virtual const std::string& path() const = 0;
};

}  // namespace nearstore
