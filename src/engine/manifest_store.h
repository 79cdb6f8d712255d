// ManifestStore: the database's MANIFEST in memory, and the only way to change it. Each
// change is applied to a copy, written atomically to disk, and only then made current, so
// memory never runs ahead of what a crash would recover.
// Thread-safety: safe to call from several threads at once (changes are serialised).
#pragma once

#include <functional>
#include <string>

#include "base/mutex.h"
#include "storage/env.h"
#include "storage/manifest.h"

namespace nearstore::engine {

class ManifestStore {
 public:
  ManifestStore(storage::Env* env, std::string dir, storage::Manifest initial)
      : env_(env), dir_(std::move(dir)), manifest_(std::move(initial)) {}

  storage::Manifest Get() const {
    base::MutexLock lock(mu_);
    return manifest_;
  }

  // Applies `change` to a copy of the manifest and persists it. A change that returns an
  // error leaves everything as it was.
  [[nodiscard]] Status Update(const std::function<Status(storage::Manifest&)>& change) {
    base::MutexLock lock(mu_);
    storage::Manifest next = manifest_;
    NEARSTORE_RETURN_IF_ERROR(change(next));
    NEARSTORE_RETURN_IF_ERROR(storage::WriteManifest(env_, dir_, next));
    manifest_ = std::move(next);
    return Status::Ok();
  }

  // Changes the entry of collection `id`; NotFound when it is gone (dropped meanwhile).
  [[nodiscard]] Status UpdateCollection(
      uint64_t id, const std::function<void(storage::CollectionEntry&)>& change) {
    return Update([&](storage::Manifest& m) {
      for (auto& c : m.collections) {
        if (c.id == id) {
          change(c);
          return Status::Ok();
        }
      }
      return Status::NotFound("collection #" + std::to_string(id) +
                              " is no longer in the manifest");
    });
  }

 private:
  storage::Env* const env_;
  const std::string dir_;
  mutable base::Mutex mu_;
  storage::Manifest manifest_ GUARDED_BY(mu_);
};

}  // namespace nearstore::engine
