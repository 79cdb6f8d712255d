// Env: the one interface through which the storage layer touches files (LevelDB's Env).
//
// The WAL, segments, manifest and lock go through it, so tests can substitute an Env that
// keeps files in memory, injects I/O errors, or forgets everything that was not synced (a
// power cut). PosixEnv() is the real file system; NewMemEnv() keeps files in RAM and backs
// in-memory databases.
// Thread-safety: an Env is safe to use from several threads at once; a WritableFile is not.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nearstore/status.h"

namespace nearstore::storage {

// An open file that is only ever appended to.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Appends data (to the OS, not yet durable).
  [[nodiscard]] virtual Status Append(std::string_view data) = 0;
  // Makes everything appended so far durable (fdatasync).
  [[nodiscard]] virtual Status Sync() = 0;
  [[nodiscard]] virtual Status Close() = 0;
  virtual uint64_t Size() const = 0;
};

// A read-only view of a whole file, memory-mapped where the Env can. The bytes stay valid as
// long as the object lives, even if the file is deleted meanwhile.
class MappedFile {
 public:
  virtual ~MappedFile() = default;
  virtual std::string_view data() const = 0;
  // A hint that `range` (inside data()) will be read at random, a few bytes here and there:
  // a page fault there should read that page only, not the pages after it. Without the hint,
  // the kernel reads ahead around each fault, which under memory pressure evicts pages that
  // are needed to make room for ones that are not.
  virtual void AdviseRandomAccess(std::string_view /*range*/) const {}
};

// Held while the process owns a database directory for writing; released on destruction or
// when the process dies.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  // Creates (or truncates) `path` for appending.
  [[nodiscard]] virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path) = 0;
  // Opens an existing file for appending at its end.
  [[nodiscard]] virtual Result<std::unique_ptr<WritableFile>> NewAppendableFile(
      const std::string& path) = 0;
  [[nodiscard]] virtual Result<std::shared_ptr<MappedFile>> MapFile(const std::string& path) = 0;
  [[nodiscard]] virtual Result<std::string> ReadFile(const std::string& path) = 0;

  virtual bool FileExists(const std::string& path) = 0;
  [[nodiscard]] virtual Result<uint64_t> FileSize(const std::string& path) = 0;
  // Names (not paths) of the entries of a directory.
  [[nodiscard]] virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  // Creates the directory and its parents; OK if it exists.
  [[nodiscard]] virtual Status CreateDirs(const std::string& dir) = 0;
  [[nodiscard]] virtual Status RemoveFile(const std::string& path) = 0;
  // Removes an (empty or not) directory tree; OK if it does not exist.
  [[nodiscard]] virtual Status RemoveDirAll(const std::string& dir) = 0;
  // Atomically replaces `to` with `from`.
  [[nodiscard]] virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  [[nodiscard]] virtual Status TruncateFile(const std::string& path, uint64_t size) = 0;
  // Makes the directory's entries (creations, renames, removals) durable.
  [[nodiscard]] virtual Status SyncDir(const std::string& dir) = 0;
  // Takes an exclusive advisory lock on `path` (creating it). Busy if another process holds it.
  [[nodiscard]] virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;
};

// The real file system. The returned object lives forever.
Env* PosixEnv();

// A fresh in-memory file system (Sync is a no-op; locks always succeed).
std::unique_ptr<Env> NewMemEnv();

// Writes `contents` to `path` durably and atomically: a temporary file is written and synced,
// renamed over `path`, and the directory synced. Readers see the old or the new file, never
// a mix.
[[nodiscard]] Status WriteFileAtomically(Env* env, const std::string& path,
                                         std::string_view contents);

// Joins a directory and a file name.
std::string JoinPath(const std::string& dir, const std::string& name);

}  // namespace nearstore::storage
