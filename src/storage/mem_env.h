// An Env whose files live in RAM: it backs in-memory databases, and with its fault hooks it
// lets tests cut the power (forget everything not synced) or make the disk fail.
// Directory operations (create, rename, remove) are durable at once; file contents are durable
// up to the last Sync of that file.
// Thread-safety: safe to use from several threads at once.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "storage/env.h"

namespace nearstore::storage {

class MemEnv final : public Env {
 public:
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;
  Result<std::shared_ptr<MappedFile>> MapFile(const std::string& path) override;
  Result<std::string> ReadFile(const std::string& path) override;
  bool FileExists(const std::string& path) override;
  Result<uint64_t> FileSize(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& dir) override;
  Status CreateDirs(const std::string& dir) override;
  Status RemoveFile(const std::string& path) override;
  Status RemoveDirAll(const std::string& dir) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status TruncateFile(const std::string& path, uint64_t size) override;
  Status SyncDir(const std::string& dir) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override;

  // Test hooks.
  // Truncates every file to what its last Sync made durable, as a power cut would.
  void DropUnsyncedData();
  // While set, every Append and Sync fails with an IOError.
  void SetFailWrites(bool fail);
  // While set, every Sync fails with an IOError (what was appended stays, not durable), as
  // fsync does when the file system cannot allocate the blocks it delayed.
  void SetFailSyncs(bool fail);
  // The disk holds at most `bytes` bytes in all files together (kUnlimitedSpace: no limit). An
  // Append past it stores the bytes that fit and fails with an IOError saying "No space left
  // on device", as write(2) does with ENOSPC after a short write. Removing or truncating files
  // frees space.
  static constexpr uint64_t kUnlimitedSpace = UINT64_MAX;
  void SetSpaceLimit(uint64_t bytes);
  // Bytes held by all files now.
  uint64_t UsedSpace();
  // While not empty, creating a file (NewWritableFile) whose path contains `path_part` fails
  // with an IOError, as when the disk is full (e.g. "MANIFEST.tmp": the MANIFEST cannot be
  // replaced).
  void SetFailCreating(std::string path_part);
  // Overwrites bytes of a file in place (for corruption tests).
  Status Poke(const std::string& path, uint64_t offset, std::string_view bytes);

  struct File {
    std::shared_ptr<std::string> data = std::make_shared<std::string>();
    size_t synced = 0;
  };

 private:
  friend class MemWritableFile;
  base::Mutex mu_;
  // Bytes in all files.
  uint64_t UsedLocked() const REQUIRES(mu_);

  std::map<std::string, File> files_ GUARDED_BY(mu_);  // keyed by normalised path
  bool fail_writes_ GUARDED_BY(mu_) = false;
  bool fail_syncs_ GUARDED_BY(mu_) = false;
  uint64_t space_limit_ GUARDED_BY(mu_) = kUnlimitedSpace;
  std::string fail_creating_ GUARDED_BY(mu_);
};

}  // namespace nearstore::storage
