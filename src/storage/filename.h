// Every name the engine gives a file or directory in a database, built and parsed in one place
// (LevelDB's filename.h), so that the writer, recovery, maintenance, `nearstore verify` and
// `nearstore info` cannot disagree about which files are whose. Layout in docs/FORMATS.md:
//
//   DB/LOCK, DB/MANIFEST, DB/MANIFEST.tmp (a replacement being written),
//   DB/c000001/ (one directory per collection, named after its id),
//   DB/c000001/wal-000007.log (write-ahead logs), DB/c000001/seg-000005.nss (segments).
//
// Numbered names are written with at least six digits ("%06llu"); a name is parsed only in
// exactly the form the builder writes it ("wal-7.log", "wal-000007.log.bak", "c1-backup" are
// not ours), and numbers that do not fit in 64 bits are refused.
// Thread-safety: free functions over values; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace nearstore::storage {

inline constexpr char kManifestFileName[] = "MANIFEST";
inline constexpr char kLockFileName[] = "LOCK";
inline constexpr char kTempSuffix[] = ".tmp";

enum class FileKind {
  kUnknown,        // not a name the engine writes (left alone)
  kManifest,       // "MANIFEST"
  kLock,           // "LOCK"
  kTemp,           // "<anything>.tmp": a file being replaced when a crash came
  kCollectionDir,  // "c000001"
  kWal,            // "wal-000007.log"
  kSegment,        // "seg-000005.nss"
};

struct ParsedFileName {
  FileKind kind = FileKind::kUnknown;
  uint64_t number = 0;  // the file number (kWal, kSegment) or collection id (kCollectionDir)
};

// "wal-000007.log": the write-ahead log numbered `number` inside a collection directory.
std::string WalFileName(uint64_t number);
// "seg-000005.nss": a sealed segment file inside a collection directory.
std::string SegmentFileName(uint64_t number);
// "c000001": the directory of the collection with id `id`, inside the database directory.
std::string CollectionDirName(uint64_t id);
// `name` + ".tmp": where a file is written before it is renamed over `name`.
std::string TempFileName(std::string_view name);

// What `name` (a name, not a path) is. kUnknown for anything the builders above would not
// have written, including near misses ("wal-.log", "wal-12.log.tmp" is kTemp, "seg-1.nss").
ParsedFileName ParseFileName(std::string_view name);

// Shorthands: whether `name` is a log (a segment, a collection directory) name, and its number.
bool ParseWalFileName(std::string_view name, uint64_t* number);
bool ParseSegmentFileName(std::string_view name, uint64_t* number);
bool ParseCollectionDirName(std::string_view name, uint64_t* id);

}  // namespace nearstore::storage
