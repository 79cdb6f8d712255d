// DatabaseImpl: the engine behind nearstore::Database. Owns the directory lock, the
// MANIFEST, the background maintenance thread, the search thread pool, and the collections.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "engine/background.h"
#include "engine/collection_impl.h"
#include "engine/manifest_store.h"
#include "engine/thread_pool.h"
#include "nearstore/database.h"

namespace nearstore::engine {

class DatabaseImpl final : public Database {
 public:
  // `owned_env` is set for in-memory databases (then env == owned_env.get()).
  [[nodiscard]] static Result<std::unique_ptr<Database>> OpenWith(
      const std::string& path, const DatabaseOptions& options,
      std::unique_ptr<storage::Env> owned_env);
  ~DatabaseImpl() override;

  Status Close() override;
  using Database::CreateCollection;
  Result<std::shared_ptr<Collection>> CreateCollection(const std::string& name, uint32_t dim,
                                                       Metric metric,
                                                       const IndexOptions& index) override;
  Result<std::shared_ptr<Collection>> GetCollection(std::string_view name) override;
  Status CheckUsable() const override {
    base::MutexLock lock(mu_);
    return CheckOpen();
  }
  std::vector<CollectionInfo> ListCollections() override;
  Status DropCollection(std::string_view name) override;
  const std::string& path() const override { return display_path_; }

 private:
  DatabaseImpl(std::string path, std::string display_path, const DatabaseOptions& options,
               std::unique_ptr<storage::Env> owned_env);
  CollectionImpl::Context ContextFor(const storage::CollectionEntry& entry);
  Status Recover();
  Status CheckOpen() const REQUIRES(mu_);

  const std::string path_;          // directory used with env_
  const std::string display_path_;  // what path() reports ("" in memory)
  DatabaseOptions options_;
  std::unique_ptr<storage::Env> owned_env_;
  storage::Env* env_;
  std::unique_ptr<storage::FileLock> lock_;
  std::unique_ptr<ManifestStore> manifest_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<BackgroundWorker> background_;

  mutable base::Mutex mu_;  // also serialises create and drop
  std::map<std::string, std::shared_ptr<CollectionImpl>, std::less<>> collections_ GUARDED_BY(mu_);
  bool closed_ GUARDED_BY(mu_) = false;
};

}  // namespace nearstore::engine
