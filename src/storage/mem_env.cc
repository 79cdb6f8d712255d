#include "storage/mem_env.h"

namespace nearstore::storage {
namespace {

std::string Normalise(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

class SharedStringMapping final : public MappedFile {
 public:
  explicit SharedStringMapping(std::shared_ptr<const std::string> data) : data_(std::move(data)) {}
  std::string_view data() const override { return *data_; }

 private:
  std::shared_ptr<const std::string> data_;
};

class NoLock final : public FileLock {};

}  // namespace

class MemWritableFile final : public WritableFile {
 public:
  MemWritableFile(MemEnv* env, std::string path) : env_(env), path_(std::move(path)) {}

  Status Append(std::string_view data) override {
    base::MutexLock lock(env_->mu_);
    if (env_->fail_writes_) return Status::IOError("injected write error on '" + path_ + "'");
    auto it = env_->files_.find(path_);
    if (it == env_->files_.end()) return Status::IOError("file '" + path_ + "' was removed");
    auto& file = it->second;
    const uint64_t used = env_->UsedLocked();
    const uint64_t room = used >= env_->space_limit_ ? 0 : env_->space_limit_ - used;
    const bool fits = data.size() <= room;
    // Copy on write: a mapping handed out earlier keeps seeing the bytes it was given.
    if (file.data.use_count() > 1) file.data = std::make_shared<std::string>(*file.data);
    file.data->append(fits ? data : data.substr(0, room));
    if (!fits) {
      return Status::IOError("cannot write '" + path_ +
                             "': No space left on device (injected: the disk holds " +
                             std::to_string(env_->space_limit_) + " bytes)");
    }
    return Status::Ok();
  }

  Status Sync() override {
    base::MutexLock lock(env_->mu_);
    if (env_->fail_writes_ || env_->fail_syncs_) {
      return Status::IOError("injected sync error on '" + path_ + "'");
    }
    auto it = env_->files_.find(path_);
    if (it != env_->files_.end()) it->second.synced = it->second.data->size();
    return Status::Ok();
  }

  Status Close() override { return Status::Ok(); }

  uint64_t Size() const override {
    base::MutexLock lock(env_->mu_);
    auto it = env_->files_.find(path_);
    return it == env_->files_.end() ? 0 : it->second.data->size();
  }

 private:
  MemEnv* env_;
  std::string path_;
};

Result<std::unique_ptr<WritableFile>> MemEnv::NewWritableFile(const std::string& path) {
  base::MutexLock lock(mu_);
  if (fail_writes_) return Status::IOError("injected error creating '" + path + "'");
  if (!fail_creating_.empty() && path.find(fail_creating_) != std::string::npos) {
    return Status::IOError("cannot create '" + path + "': No space left on device (injected)");
  }
  files_[Normalise(path)] = File{};
  return std::unique_ptr<WritableFile>(new MemWritableFile(this, Normalise(path)));
}

Result<std::unique_ptr<WritableFile>> MemEnv::NewAppendableFile(const std::string& path) {
  base::MutexLock lock(mu_);
  if (files_.count(Normalise(path)) == 0) {
    return Status::IOError("cannot open for appending '" + path + "': no such file");
  }
  return std::unique_ptr<WritableFile>(new MemWritableFile(this, Normalise(path)));
}

Result<std::shared_ptr<MappedFile>> MemEnv::MapFile(const std::string& path) {
  base::MutexLock lock(mu_);
  auto it = files_.find(Normalise(path));
  if (it == files_.end()) return Status::IOError("cannot open '" + path + "': no such file");
  return std::shared_ptr<MappedFile>(new SharedStringMapping(it->second.data));
}

Result<std::string> MemEnv::ReadFile(const std::string& path) {
  base::MutexLock lock(mu_);
  auto it = files_.find(Normalise(path));
  if (it == files_.end()) return Status::IOError("cannot open '" + path + "': no such file");
  return *it->second.data;
}

bool MemEnv::FileExists(const std::string& path) {
  base::MutexLock lock(mu_);
  const std::string p = Normalise(path);
  if (files_.count(p) != 0) return true;
  auto it = files_.lower_bound(p + "/");  // a directory exists when something is inside it
  return it != files_.end() && it->first.compare(0, p.size() + 1, p + "/") == 0;
}

Result<uint64_t> MemEnv::FileSize(const std::string& path) {
  base::MutexLock lock(mu_);
  auto it = files_.find(Normalise(path));
  if (it == files_.end()) return Status::IOError("cannot stat '" + path + "': no such file");
  return static_cast<uint64_t>(it->second.data->size());
}

Result<std::vector<std::string>> MemEnv::ListDir(const std::string& dir) {
  base::MutexLock lock(mu_);
  const std::string prefix = Normalise(dir) + "/";
  std::vector<std::string> names;
  for (auto it = files_.lower_bound(prefix);
       it != files_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    std::string rest = it->first.substr(prefix.size());
    rest = rest.substr(0, rest.find('/'));
    if (names.empty() || names.back() != rest) names.push_back(rest);
  }
  return names;
}

Status MemEnv::CreateDirs(const std::string&) { return Status::Ok(); }

Status MemEnv::RemoveFile(const std::string& path) {
  base::MutexLock lock(mu_);
  if (files_.erase(Normalise(path)) == 0) {
    return Status::IOError("cannot remove '" + path + "': no such file");
  }
  return Status::Ok();
}

Status MemEnv::RemoveDirAll(const std::string& dir) {
  base::MutexLock lock(mu_);
  const std::string prefix = Normalise(dir) + "/";
  auto it = files_.lower_bound(prefix);
  while (it != files_.end() && it->first.compare(0, prefix.size(), prefix) == 0) {
    it = files_.erase(it);
  }
  return Status::Ok();
}

Status MemEnv::RenameFile(const std::string& from, const std::string& to) {
  base::MutexLock lock(mu_);
  auto it = files_.find(Normalise(from));
  if (it == files_.end()) return Status::IOError("cannot rename '" + from + "': no such file");
  File f = it->second;
  files_.erase(it);
  files_[Normalise(to)] = std::move(f);
  return Status::Ok();
}

Status MemEnv::TruncateFile(const std::string& path, uint64_t size) {
  base::MutexLock lock(mu_);
  auto it = files_.find(Normalise(path));
  if (it == files_.end()) return Status::IOError("cannot truncate '" + path + "': no such file");
  auto& file = it->second;
  if (file.data.use_count() > 1) file.data = std::make_shared<std::string>(*file.data);
  file.data->resize(size);
  file.synced = std::min<size_t>(file.synced, size);
  return Status::Ok();
}

Status MemEnv::SyncDir(const std::string&) { return Status::Ok(); }

Result<std::unique_ptr<FileLock>> MemEnv::LockFile(const std::string&) {
  return std::unique_ptr<FileLock>(new NoLock());
}

void MemEnv::DropUnsyncedData() {
  base::MutexLock lock(mu_);
  for (auto& [path, file] : files_) {
    if (file.data->size() > file.synced) {
      file.data = std::make_shared<std::string>(file.data->substr(0, file.synced));
    }
  }
}

void MemEnv::SetFailWrites(bool fail) {
  base::MutexLock lock(mu_);
  fail_writes_ = fail;
}

void MemEnv::SetFailSyncs(bool fail) {
  base::MutexLock lock(mu_);
  fail_syncs_ = fail;
}

void MemEnv::SetSpaceLimit(uint64_t bytes) {
  base::MutexLock lock(mu_);
  space_limit_ = bytes;
}

void MemEnv::SetFailCreating(std::string path_part) {
  base::MutexLock lock(mu_);
  fail_creating_ = std::move(path_part);
}

uint64_t MemEnv::UsedSpace() {
  base::MutexLock lock(mu_);
  return UsedLocked();
}

uint64_t MemEnv::UsedLocked() const {
  uint64_t used = 0;
  for (const auto& [path, file] : files_) used += file.data->size();
  return used;
}

Status MemEnv::Poke(const std::string& path, uint64_t offset, std::string_view bytes) {
  base::MutexLock lock(mu_);
  auto it = files_.find(Normalise(path));
  if (it == files_.end()) return Status::IOError("cannot poke '" + path + "': no such file");
  auto& file = it->second;
  if (offset + bytes.size() > file.data->size()) return Status::InvalidArgument("poke past end");
  file.data = std::make_shared<std::string>(*file.data);
  file.data->replace(offset, bytes.size(), bytes);
  return Status::Ok();
}

std::unique_ptr<Env> NewMemEnv() { return std::make_unique<MemEnv>(); }

}  // namespace nearstore::storage
