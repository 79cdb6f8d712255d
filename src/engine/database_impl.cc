#include "engine/database_impl.h"

#include <thread>

#include "engine/index_settings.h"
#include "engine/validate.h"
#include "storage/filename.h"
#include "storage/mem_env.h"

namespace nearstore {

Result<std::unique_ptr<Database>> Database::Open(const std::string& path,
                                                 const DatabaseOptions& options) {
  if (path.empty()) {
    return Status::InvalidArgument(
        "database path is empty; pass a directory, or use OpenInMemory()");
  }
  return engine::DatabaseImpl::OpenWith(path, options, nullptr);
}

Result<std::unique_ptr<Database>> Database::OpenInMemory(const DatabaseOptions& options) {
  DatabaseOptions o = options;
  auto env = storage::NewMemEnv();
  o.env = env.get();
  o.durability = Durability::kNoSync;  // nothing outlives the process anyway
  return engine::DatabaseImpl::OpenWith("", o, std::move(env));
}

namespace engine {
namespace {

int SearchThreads(const DatabaseOptions& options) {
  if (options.search_threads > 0) return options.search_threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

DatabaseImpl::DatabaseImpl(std::string path, std::string display_path,
                           const DatabaseOptions& options, std::unique_ptr<storage::Env> owned_env)
    : path_(std::move(path)),
      display_path_(std::move(display_path)),
      options_(options),
      owned_env_(std::move(owned_env)),
      env_(options.env != nullptr ? options.env : storage::PosixEnv()),
      pool_(std::make_unique<ThreadPool>(SearchThreads(options))),
      background_(std::make_unique<BackgroundWorker>()) {}

Result<std::unique_ptr<Database>> DatabaseImpl::OpenWith(const std::string& path,
                                                         const DatabaseOptions& options,
                                                         std::unique_ptr<storage::Env> owned_env) {
  const std::string dir = path.empty() ? std::string("/memory") : path;
  std::unique_ptr<DatabaseImpl> db(new DatabaseImpl(dir, path, options, std::move(owned_env)));
  Status s = db->Recover();
  if (!s.ok()) return s.WithContext("cannot open database '" + path + "'");
  return std::unique_ptr<Database>(std::move(db));
}

Status DatabaseImpl::Recover() {
  NEARSTORE_RETURN_IF_ERROR(env_->CreateDirs(path_));
  NEARSTORE_ASSIGN_OR_RETURN(lock_,
                             env_->LockFile(storage::JoinPath(path_, storage::kLockFileName)));
  auto read = storage::ReadManifest(env_, path_);
  storage::Manifest manifest;
  if (read.ok()) {
    manifest = std::move(read).value();
  } else if (read.status().code() == StatusCode::kNotFound) {
    // A new database, unless collection directories say a manifest was lost.
    NEARSTORE_ASSIGN_OR_RETURN(auto names, env_->ListDir(path_));
    for (const auto& n : names) {
      uint64_t id = 0;
      if (storage::ParseCollectionDirName(n, &id)) {
        return Status::Corruption("'" + storage::JoinPath(path_, storage::kManifestFileName) +
                                  "' is missing but collection directory '" + n +
                                  "' exists; refusing to start empty over existing data");
      }
    }
    NEARSTORE_RETURN_IF_ERROR(storage::WriteManifest(env_, path_, manifest));
  } else {
    return read.status();
  }
  manifest_ = std::make_unique<ManifestStore>(env_, path_, manifest);

  // Directories of collections that were being created or dropped when a crash came.
  NEARSTORE_ASSIGN_OR_RETURN(auto names, env_->ListDir(path_));
  for (const auto& n : names) {
    uint64_t id = 0;
    if (!storage::ParseCollectionDirName(n, &id)) continue;
    const bool listed = std::any_of(manifest.collections.begin(), manifest.collections.end(),
                                    [&](const auto& c) { return c.dir == n; });
    if (!listed) NEARSTORE_RETURN_IF_ERROR(env_->RemoveDirAll(storage::JoinPath(path_, n)));
  }
  for (const auto& entry : manifest.collections) {
    NEARSTORE_ASSIGN_OR_RETURN(auto c, CollectionImpl::Recover(ContextFor(entry), entry));
    base::MutexLock lock(mu_);  // no other thread has the database yet: for the analysis
    collections_.emplace(entry.name, std::move(c));
  }
  return Status::Ok();
}

DatabaseImpl::~DatabaseImpl() { (void)Close(); }

CollectionImpl::Context DatabaseImpl::ContextFor(const storage::CollectionEntry& entry) {
  CollectionImpl::Context ctx;
  ctx.env = env_;
  ctx.dir = storage::JoinPath(path_, entry.dir);
  ctx.manifest = manifest_.get();
  ctx.background = background_.get();
  ctx.pool = pool_.get();
  ctx.options = options_;
  return ctx;
}

Status DatabaseImpl::CheckOpen() const {
  if (closed_) {
    return Status::FailedPrecondition(display_path_.empty()
                                          ? std::string("in-memory database is closed")
                                          : "database '" + display_path_ + "' is closed");
  }
  return Status::Ok();
}

Status DatabaseImpl::Close() {
  std::map<std::string, std::shared_ptr<CollectionImpl>, std::less<>> collections;
  {
    base::MutexLock lock(mu_);
    if (closed_) return Status::Ok();
    closed_ = true;
    collections.swap(collections_);
  }
  for (auto& [name, c] : collections) {
    c->Shutdown("collection '" + name + "' belongs to a closed database", false);
  }
  // Pending seals still run: they only make the next open faster (the logs hold the data).
  background_->Stop();
  lock_.reset();
  return Status::Ok();
}

Result<std::shared_ptr<Collection>> DatabaseImpl::CreateCollection(const std::string& name,
                                                                   uint32_t dim, Metric metric,
                                                                   const IndexOptions& asked) {
  NEARSTORE_RETURN_IF_ERROR(ValidateCollectionName(name));
  NEARSTORE_RETURN_IF_ERROR(ValidateDimension(dim));
  const IndexOptions index = WithDefaults(asked);
  NEARSTORE_RETURN_IF_ERROR(ValidateIndexOptions(index));
  base::MutexLock lock(mu_);
  NEARSTORE_RETURN_IF_ERROR(CheckOpen());
  if (collections_.count(name) != 0) {
    return Status::AlreadyExists("collection '" + name + "' already exists");
  }
  storage::CollectionEntry entry;
  entry.name = name;
  entry.id = manifest_->Get().next_collection_id;
  entry.dir = storage::CollectionDirName(entry.id);
  entry.dim = dim;
  entry.metric = MetricName(metric);
  entry.index = IndexEntryOf(index);
  entry.min_wal = 1;
  entry.next_file = 2;
  // Files first, then the manifest: a crash in between leaves a directory that the next
  // open removes as unlisted.
  NEARSTORE_ASSIGN_OR_RETURN(auto c, CollectionImpl::Create(ContextFor(entry), entry));
  Status s = manifest_->Update([&](storage::Manifest& m) {
    m.next_collection_id = entry.id + 1;
    m.collections.push_back(entry);
    return Status::Ok();
  });
  if (!s.ok()) {
    c->Shutdown("collection '" + name + "' could not be created", true);
    (void)env_->RemoveDirAll(storage::JoinPath(path_, entry.dir));
    return s;
  }
  collections_.emplace(name, c);
  return std::shared_ptr<Collection>(c);
}

Result<std::shared_ptr<Collection>> DatabaseImpl::GetCollection(std::string_view name) {
  base::MutexLock lock(mu_);
  NEARSTORE_RETURN_IF_ERROR(CheckOpen());
  // A name no collection can have is refused as such (as the server's routes do), not looked up.
  NEARSTORE_RETURN_IF_ERROR(ValidateCollectionName(name));
  auto it = collections_.find(name);
  if (it == collections_.end()) {
    std::string known;
    for (const auto& [n, c] : collections_) known += (known.empty() ? "" : ", ") + n;
    return Status::NotFound(
        "collection '" + std::string(name) + "' does not exist" +
        (known.empty() ? " (the database has none)" : " (existing: " + known + ")"));
  }
  return std::shared_ptr<Collection>(it->second);
}

std::vector<CollectionInfo> DatabaseImpl::ListCollections() {
  std::vector<std::shared_ptr<CollectionImpl>> cs;
  {
    base::MutexLock lock(mu_);
    for (const auto& [n, c] : collections_) cs.push_back(c);
  }
  std::vector<CollectionInfo> out;
  for (const auto& c : cs) out.push_back(c->Info());
  return out;
}

Status DatabaseImpl::DropCollection(std::string_view name) {
  std::shared_ptr<CollectionImpl> c;
  std::string dir;
  {
    base::MutexLock lock(mu_);
    NEARSTORE_RETURN_IF_ERROR(CheckOpen());
    NEARSTORE_RETURN_IF_ERROR(ValidateCollectionName(name));
    auto it = collections_.find(name);
    if (it == collections_.end()) {
      return Status::NotFound("collection '" + std::string(name) + "' does not exist");
    }
    c = it->second;
    for (const auto& e : manifest_->Get().collections) {
      if (e.name == name) dir = storage::JoinPath(path_, e.dir);
    }
    NEARSTORE_RETURN_IF_ERROR(manifest_->Update([&](storage::Manifest& m) {
      std::erase_if(m.collections, [&](const auto& e) { return e.name == name; });
      return Status::Ok();
    }));
    collections_.erase(it);
  }
  c->Shutdown("collection '" + std::string(name) + "' was dropped", true);
  // Removed on the background thread, after any seal of this collection already queued; if
  // the removal is cut short, the next open removes the unlisted directory.
  storage::Env* env = env_;
  if (!background_->Schedule([env, dir] { (void)env->RemoveDirAll(dir); })) {
    (void)env->RemoveDirAll(dir);
  }
  return Status::Ok();
}

}  // namespace engine
}  // namespace nearstore
