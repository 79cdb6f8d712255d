#include "storage/filename.h"

#include <cstdio>

namespace nearstore::storage {
namespace {

constexpr std::string_view kWalPrefix = "wal-", kWalSuffix = ".log";
constexpr std::string_view kSegmentPrefix = "seg-", kSegmentSuffix = ".nss";
constexpr std::string_view kCollectionPrefix = "c";

// `prefix` + the number in at least six digits + `suffix`.
std::string Numbered(std::string_view prefix, uint64_t number, std::string_view suffix) {
  char digits[24];
  std::snprintf(digits, sizeof(digits), "%06llu", static_cast<unsigned long long>(number));
  std::string out(prefix);
  out += digits;
  out += suffix;
  return out;
}

// Whether `name` is exactly what Numbered(prefix, n, suffix) writes for some n; sets *number.
// The digits are read at full width (more than 20 digits, or a value past 2^64 - 1, is not a
// number of ours), then the name is rebuilt and compared, so padding other than the builder's
// ("wal-7.log", "wal-0000007.log") is refused too.
bool ParseNumbered(std::string_view name, std::string_view prefix, std::string_view suffix,
                   uint64_t* number) {
  if (name.size() <= prefix.size() + suffix.size()) return false;
  if (!name.starts_with(prefix) || !name.ends_with(suffix)) return false;
  const std::string_view digits =
      name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (digits.size() > 20) return false;
  uint64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - d) / 10) return false;  // would wrap past 2^64 - 1
    value = value * 10 + d;
  }
  if (Numbered(prefix, value, suffix) != name) return false;
  *number = value;
  return true;
}

}  // namespace

std::string WalFileName(uint64_t number) { return Numbered(kWalPrefix, number, kWalSuffix); }

std::string SegmentFileName(uint64_t number) {
  return Numbered(kSegmentPrefix, number, kSegmentSuffix);
}

std::string CollectionDirName(uint64_t id) { return Numbered(kCollectionPrefix, id, ""); }

std::string TempFileName(std::string_view name) { return std::string(name) + kTempSuffix; }

ParsedFileName ParseFileName(std::string_view name) {
  ParsedFileName out;
  const std::string_view temp_suffix = kTempSuffix;
  if (name == kManifestFileName) {
    out.kind = FileKind::kManifest;
  } else if (name == kLockFileName) {
    out.kind = FileKind::kLock;
  } else if (name.size() > temp_suffix.size() && name.ends_with(temp_suffix)) {
    out.kind = FileKind::kTemp;
  } else if (ParseNumbered(name, kWalPrefix, kWalSuffix, &out.number)) {
    out.kind = FileKind::kWal;
  } else if (ParseNumbered(name, kSegmentPrefix, kSegmentSuffix, &out.number)) {
    out.kind = FileKind::kSegment;
  } else if (ParseNumbered(name, kCollectionPrefix, "", &out.number)) {
    out.kind = FileKind::kCollectionDir;
  }
  return out;
}

namespace {

bool ParseAs(std::string_view name, FileKind kind, uint64_t* number) {
  const ParsedFileName parsed = ParseFileName(name);
  if (parsed.kind != kind) return false;
  *number = parsed.number;
  return true;
}

}  // namespace

bool ParseWalFileName(std::string_view name, uint64_t* number) {
  return ParseAs(name, FileKind::kWal, number);
}

bool ParseSegmentFileName(std::string_view name, uint64_t* number) {
  return ParseAs(name, FileKind::kSegment, number);
}

bool ParseCollectionDirName(std::string_view name, uint64_t* id) {
  return ParseAs(name, FileKind::kCollectionDir, id);
}

}  // namespace nearstore::storage
