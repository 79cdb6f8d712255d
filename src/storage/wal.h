// The write-ahead log: a file of CRC32C-framed records (format in docs/FORMATS.md).
//
// The engine appends one record per write operation (a batch is one record, so a batch is
// all-or-nothing across a crash), syncs, and only then acknowledges. Replay reads the records
// back; a record cut short at the end of the newest log (a write the crash interrupted, never
// acknowledged) is a torn tail and is dropped; anything else that fails its checksum is
// corruption and is reported with the file and offset, never skipped.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nearstore/status.h"
#include "storage/env.h"

namespace nearstore::storage {

inline constexpr size_t kWalHeaderSize = 16;
inline constexpr size_t kWalRecordHeaderSize = 12;
// Upper bound of one record's payload; larger batches are refused before they reach the log.
inline constexpr uint64_t kWalMaxRecordSize = uint64_t{1} << 31;

class WalWriter {
 public:
  // Creates a new, empty log at `path` (header written and synced).
  [[nodiscard]] static Result<std::unique_ptr<WalWriter>> Create(Env* env, const std::string& path);
  // Reopens an existing log (already replayed and trimmed to its valid size) to append to it.
  [[nodiscard]] static Result<std::unique_ptr<WalWriter>> OpenForAppend(Env* env,
                                                                        const std::string& path);

  // Appends the framing of one record with this payload to `out`, so that several records
  // can reach the file in one write.
  static void EncodeRecord(std::string_view payload, std::string* out);

  // Appends already framed records (no sync).
  [[nodiscard]] Status Append(std::string_view framed_records) {
    return file_->Append(framed_records);
  }
  [[nodiscard]] Status Sync() { return file_->Sync(); }
  [[nodiscard]] Status Close() { return file_->Close(); }
  uint64_t Size() const { return file_->Size(); }
  const std::string& path() const { return path_; }

 private:
  WalWriter(std::string path, std::unique_ptr<WritableFile> file)
      : path_(std::move(path)), file_(std::move(file)) {}
  std::string path_;
  std::unique_ptr<WritableFile> file_;
};

struct WalContents {
  std::vector<std::string_view> records;  // payloads, viewing the bytes given to ParseWal
  uint64_t valid_size = 0;                // end of the last whole record (or of the header)
  bool torn_tail = false;                 // bytes past valid_size held an interrupted write
  bool torn_header = false;               // the file is shorter than its header
};

// Parses the bytes of a log file. Returns Corruption, naming `path` and the offset, for a bad
// header or a record whose checksum fails although it is whole.
[[nodiscard]] Result<WalContents> ParseWal(std::string_view data, const std::string& path);

}  // namespace nearstore::storage
