#include "nearstore/verify.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>

#include "engine/segment.h"
#include "nearstore/types.h"
#include "storage/env.h"
#include "storage/filename.h"
#include "storage/log_record.h"
#include "storage/log_replay.h"
#include "storage/manifest.h"
#include "storage/segment_entry.h"
#include "storage/segment_file.h"
#include "storage/wal.h"

namespace nearstore {
namespace {

using storage::JoinPath;

using storage::FileKind;
using storage::ParseFileName;

std::string Plural(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

class Verifier {
 public:
  Verifier(storage::Env* env, std::string dir) : env_(env), dir_(std::move(dir)) {}

  Result<VerifyReport> Run();

 private:
  void Add(std::string file, VerifyFinding finding, std::string detail) {
    report_.files.push_back({std::move(file), finding, std::move(detail)});
  }
  bool IsDir(const std::string& path) { return env_->ListDir(path).ok(); }

  // Checks one collection the MANIFEST lists.
  void CheckCollection(const storage::CollectionEntry& entry);
  // Whether `file` of collection `id`, found missing, was removed by a database that is open
  // while we verify (it seals and compacts in the background): the MANIFEST read again no
  // longer needs it (a segment no longer listed, a log now below min_wal). Verify reads the
  // MANIFEST once, so without this a live database's routine cleanup would look like damage.
  bool RemovedByLiveDatabase(uint64_t id, const std::string& file);
  // When `rel` (file `file` of collection `id`) is gone because a live database removed it,
  // records a note saying so and returns true; false when it is not (the caller reports the
  // problem it found).
  bool NotedAsRemoved(uint64_t id, const std::string& rel, const std::string& file);
  // Checks the files of a collection directory that no (readable) MANIFEST describes:
  // checksums only.
  void CheckOrphanDirectory(const std::string& dir_name, bool manifest_readable);
  // Parses one segment with every checksum; the view's file stays mapped only meanwhile.
  // Returns the view's facts or nullopt (after reporting the damage).
  struct SegmentFacts {
    uint32_t dim, metric;
    storage::SegmentEntry entry;  // what the MANIFEST should say of it (DescribeSegment)
  };
  std::optional<SegmentFacts> ParseSegment(const std::string& rel, VerifyFinding* finding,
                                           std::string* detail);

  storage::Env* const env_;
  const std::string dir_;
  VerifyReport report_;
};

std::optional<Verifier::SegmentFacts> Verifier::ParseSegment(const std::string& rel,
                                                             VerifyFinding* finding,
                                                             std::string* detail) {
  // Opened as the engine opens it: every checksum, and the graph, codes and payload indexes
  // viewed and validated (a section can pass its checksum and still be inconsistent).
  auto segment = engine::Segment::Open(env_, dir_, rel, /*verify_checksums=*/true);
  if (!segment.ok()) {
    *finding = VerifyFinding::kDamaged;
    *detail = segment.status().message();
    return std::nullopt;
  }
  *finding = VerifyFinding::kOk;
  const storage::SegmentView& view = (*segment)->view();
  return SegmentFacts{view.dim(), view.metric(),
                      storage::DescribeSegment(rel, view, (*segment)->size_bytes())};
}

bool Verifier::RemovedByLiveDatabase(uint64_t id, const std::string& file) {
  auto now = storage::ReadManifest(env_, dir_);
  if (!now.ok()) return false;
  for (const auto& c : now->collections) {
    if (c.id != id) continue;
    uint64_t number = 0;
    if (storage::ParseWalFileName(file, &number)) return number < c.min_wal;
    return std::none_of(c.segments.begin(), c.segments.end(),
                        [&](const auto& s) { return s.file == file; });
  }
  return true;  // the collection itself was dropped meanwhile
}

bool Verifier::NotedAsRemoved(uint64_t id, const std::string& rel, const std::string& file) {
  if (env_->FileExists(JoinPath(dir_, rel)) || !RemovedByLiveDatabase(id, file)) return false;
  Add(rel, VerifyFinding::kNote,
      ParseFileName(file).kind == FileKind::kWal
          ? "write-ahead log removed while verifying (the database is open and sealed it into a "
            "segment); not checked"
          : "segment removed while verifying (the database is open and compacted it); not "
            "checked");
  return true;
}

void Verifier::CheckCollection(const storage::CollectionEntry& entry) {
  const std::string& cdir = entry.dir;
  const std::string cpath = JoinPath(dir_, cdir);
  const std::string who = "collection '" + entry.name + "'";
  auto listing = env_->ListDir(cpath);
  if (!listing.ok()) {
    Add(cdir + "/", VerifyFinding::kDamaged,
        who + " is listed in the MANIFEST but its directory cannot be read: " +
            listing.status().message());
    return;
  }
  std::vector<std::string> names = std::move(listing).value();
  std::sort(names.begin(), names.end());
  auto metric = ParseMetric(entry.metric);

  // Listed segments, oldest first, as recovery maps them; their sequence numbers and the
  // logs' are checked by recovery's own rules.
  storage::ReplayChecker replay(entry.last_sealed_seq);
  for (const auto& se : entry.segments) {
    const std::string rel = cdir + "/" + se.file;
    if (std::find(names.begin(), names.end(), se.file) == names.end()) {
      if (!NotedAsRemoved(entry.id, rel, se.file)) {
        Add(rel, VerifyFinding::kDamaged,
            "segment of " + who + " is listed in the MANIFEST but the file is missing");
      }
      continue;
    }
    VerifyFinding finding;
    std::string detail;
    auto facts = ParseSegment(rel, &finding, &detail);
    if (!facts) {
      if (!NotedAsRemoved(entry.id, rel, se.file)) Add(rel, finding, detail);
      continue;
    }
    const storage::SegmentEntry& actual = facts->entry;
    std::vector<std::string> problems;
    auto mismatch = [&](const char* what, uint64_t file_value, uint64_t manifest_value) {
      if (file_value != manifest_value) {
        problems.push_back(std::string(what) + " " + std::to_string(file_value) +
                           " but the MANIFEST says " + std::to_string(manifest_value));
      }
    };
    mismatch("dimension", facts->dim, entry.dim);
    if (metric.ok()) mismatch("metric", facts->metric, static_cast<uint32_t>(*metric));
    for (auto& p : storage::SegmentEntryMismatches(se, actual)) problems.push_back(std::move(p));
    if (Status order = replay.AddSegment(JoinPath(dir_, rel), actual.rows + actual.tombstones,
                                         actual.min_seq, actual.max_seq);
        !order.ok()) {
      problems.push_back(order.message());
    }
    if (!problems.empty()) {
      std::string joined;
      for (const auto& p : problems) joined += (joined.empty() ? "" : "; ") + p;
      Add(rel, VerifyFinding::kDamaged,
          "segment checksums pass but it does not match the MANIFEST: " + joined);
    } else {
      Add(rel, VerifyFinding::kOk,
          "segment: " + Plural(actual.rows, "row", "rows") + ", " +
              Plural(actual.tombstones, "tombstone", "tombstones") + ", dim " +
              std::to_string(facts->dim));
    }
  }

  // Logs still needed, in number order; notes for everything else.
  const std::vector<uint64_t> wals = storage::LogsToReplay(names, entry.min_wal);
  for (const auto& n : names) {
    const std::string rel = cdir + "/" + n;
    const storage::ParsedFileName parsed = ParseFileName(n);
    if (parsed.kind == FileKind::kWal) {
      if (!std::binary_search(wals.begin(), wals.end(), parsed.number)) {
        Add(rel, VerifyFinding::kNote,
            "write-ahead log older than the MANIFEST's min_wal " + std::to_string(entry.min_wal) +
                ": already sealed into segments (the next open removes it); not checked");
      }
    } else if (parsed.kind == FileKind::kSegment) {
      const bool listed = std::any_of(entry.segments.begin(), entry.segments.end(),
                                      [&](const auto& s) { return s.file == n; });
      if (!listed) {
        Add(rel, VerifyFinding::kNote,
            "segment not listed in the MANIFEST (a seal or compaction cut short; its rows are "
            "still in the logs or other segments; the next open removes it); not checked");
      }
    } else if (parsed.kind == FileKind::kTemp) {
      Add(rel, VerifyFinding::kNote,
          "temporary file of a write cut short (the next open removes it)");
    } else {
      Add(rel, VerifyFinding::kNote, "not a nearstore file; ignored");
    }
  }

  for (size_t i = 0; i < wals.size(); ++i) {
    const std::string name = storage::WalFileName(wals[i]);
    const std::string rel = cdir + "/" + name;
    const std::string path = JoinPath(dir_, rel);
    // A log that cannot be read leaves the position unknown: the next log is checked from its
    // own first record (a log a live database sealed away meanwhile is not a gap).
    auto file = env_->MapFile(path);
    if (!file.ok()) {
      if (!NotedAsRemoved(entry.id, rel, name))
        Add(rel, VerifyFinding::kDamaged, file.status().message());
      replay.SkipLog();
      continue;
    }
    auto contents = storage::ParseWal((*file)->data(), path);
    Status problem =
        contents.ok() ? replay.BeginLog(path, *contents, i + 1 == wals.size()) : contents.status();
    uint64_t upserted_rows = 0;
    for (size_t r = 0; problem.ok() && r < contents->records.size(); ++r) {
      auto op = storage::DecodeLogRecord(contents->records[r], entry.dim, path);
      if (!op.ok()) {
        problem = Status::Corruption(
            "record " + std::to_string(r) +
            " passes its checksum but does not decode: " + op.status().message());
        break;
      }
      upserted_rows += op->MaxNewRows();
      if (auto accepted = replay.Accept(op->seq); !accepted.ok()) {
        problem = accepted.status().WithContext("record " + std::to_string(r));
      }
    }
    if (!problem.ok()) {
      Add(rel, VerifyFinding::kDamaged, problem.message());
      replay.SkipLog();
      continue;
    }
    const std::string summary =
        "write-ahead log: " + Plural(contents->records.size(), "record", "records") + " (" +
        Plural(upserted_rows, "row", "rows") + " written)";
    const uint64_t size = (*file)->data().size();
    if (contents->torn_header) {
      Add(rel, VerifyFinding::kWarning,
          "write-ahead log header cut short (" + std::to_string(size) +
              " bytes): a crash while the log was created; nothing in it was acknowledged, "
              "the next open removes it");
    } else if (contents->torn_tail) {
      Add(rel, VerifyFinding::kWarning,
          summary + "; torn tail: " + std::to_string(size - contents->valid_size) +
              " bytes after offset " + std::to_string(contents->valid_size) +
              " hold a write a crash interrupted (never acknowledged); the next open drops them");
    } else {
      Add(rel, VerifyFinding::kOk, summary);
    }
  }
}

void Verifier::CheckOrphanDirectory(const std::string& dir_name, bool manifest_readable) {
  auto listing = env_->ListDir(JoinPath(dir_, dir_name));
  if (!listing.ok()) {
    Add(dir_name + "/", VerifyFinding::kDamaged, listing.status().message());
    return;
  }
  std::vector<std::string> names = std::move(listing).value();
  std::sort(names.begin(), names.end());
  const char* why = manifest_readable
                        ? "collection directory not listed in the MANIFEST (a create or drop cut "
                          "short; the next open removes it)"
                        : "no readable MANIFEST describes this directory";
  if (manifest_readable) {
    Add(dir_name + "/", VerifyFinding::kNote, std::string(why) + "; its files are not checked");
    return;
  }
  // Without the MANIFEST only the files' own checksums, and where a log may end, can be checked.
  const std::vector<uint64_t> wals = storage::LogsToReplay(names, 0);
  for (const auto& n : names) {
    const std::string rel = dir_name + "/" + n;
    const storage::ParsedFileName parsed = ParseFileName(n);
    if (parsed.kind == FileKind::kSegment) {
      VerifyFinding finding;
      std::string detail;
      auto facts = ParseSegment(rel, &finding, &detail);
      if (facts) {
        detail = "segment checksums pass (" + Plural(facts->entry.rows, "row", "rows") + ", dim " +
                 std::to_string(facts->dim) + "); " + why;
      }
      Add(rel, finding, detail);
    } else if (parsed.kind != FileKind::kWal) {
      Add(rel, VerifyFinding::kNote, "not checked; " + std::string(why));
    }
  }
  storage::ReplayChecker replay(0);
  for (size_t i = 0; i < wals.size(); ++i) {
    const std::string rel = dir_name + "/" + storage::WalFileName(wals[i]);
    const std::string path = JoinPath(dir_, rel);
    auto file = env_->MapFile(path);
    if (!file.ok()) {
      Add(rel, VerifyFinding::kDamaged, file.status().message());
      continue;
    }
    auto contents = storage::ParseWal((*file)->data(), path);
    if (!contents.ok()) {
      Add(rel, VerifyFinding::kDamaged, contents.status().message());
    } else if (Status end = replay.BeginLog(path, *contents, i + 1 == wals.size()); !end.ok()) {
      Add(rel, VerifyFinding::kDamaged, end.message() + "; " + why);
    } else if (contents->torn_tail || contents->torn_header) {
      Add(rel, VerifyFinding::kWarning,
          "write-ahead log ends in a partial record at offset " +
              std::to_string(contents->valid_size) + "; " + why);
    } else {
      Add(rel, VerifyFinding::kOk,
          "write-ahead log checksums pass (" +
              Plural(contents->records.size(), "record", "records") + "); " + why);
    }
  }
}

Result<VerifyReport> Verifier::Run() {
  if (!env_->FileExists(dir_)) {
    return Status::InvalidArgument("'" + dir_ + "' does not exist; expected a database directory");
  }
  auto listing = env_->ListDir(dir_);
  if (!listing.ok()) {
    return Status::IOError("cannot read '" + dir_ +
                           "' as a database directory: " + listing.status().message());
  }
  std::vector<std::string> names = std::move(listing).value();
  std::sort(names.begin(), names.end());
  std::vector<std::string> collection_dirs;
  for (const auto& n : names) {
    if (ParseFileName(n).kind == FileKind::kCollectionDir && IsDir(JoinPath(dir_, n))) {
      collection_dirs.push_back(n);
    }
  }

  const bool has_manifest =
      std::find(names.begin(), names.end(), storage::kManifestFileName) != names.end();
  if (!has_manifest && collection_dirs.empty()) {
    return Status::InvalidArgument("'" + dir_ +
                                   "' is not a nearstore database: it has no MANIFEST and no "
                                   "collection directories");
  }

  std::optional<storage::Manifest> manifest;
  if (!has_manifest) {
    Add(storage::kManifestFileName, VerifyFinding::kDamaged,
        "MANIFEST is missing but collection directories exist; the database cannot be opened "
        "(the files below are checked on their own)");
  } else {
    auto read = storage::ReadManifest(env_, dir_);
    if (!read.ok()) {
      Add(storage::kManifestFileName, VerifyFinding::kDamaged,
          read.status().message() + " (the files below are checked on their own)");
    } else {
      manifest = std::move(read).value();
      Add(storage::kManifestFileName, VerifyFinding::kOk,
          Plural(manifest->collections.size(), "collection", "collections"));
    }
  }

  // Top-level entries other than the MANIFEST, the LOCK and collection directories.
  for (const auto& n : names) {
    const FileKind kind = ParseFileName(n).kind;
    if (kind == FileKind::kManifest || kind == FileKind::kLock) continue;
    if (std::find(collection_dirs.begin(), collection_dirs.end(), n) != collection_dirs.end()) {
      continue;
    }
    if (kind == FileKind::kTemp) {
      Add(n, VerifyFinding::kNote,
          "temporary file of a write cut short (the next open ignores it)");
    } else {
      Add(n, VerifyFinding::kNote, "not a nearstore file; ignored");
    }
  }

  if (manifest) {
    for (const auto& entry : manifest->collections) {
      if (std::find(collection_dirs.begin(), collection_dirs.end(), entry.dir) ==
          collection_dirs.end()) {
        Add(entry.dir + "/", VerifyFinding::kDamaged,
            "directory of collection '" + entry.name + "' is listed in the MANIFEST but missing");
        continue;
      }
      CheckCollection(entry);
    }
  }
  for (const auto& d : collection_dirs) {
    const bool listed =
        manifest && std::any_of(manifest->collections.begin(), manifest->collections.end(),
                                [&](const auto& c) { return c.dir == d; });
    if (!listed) CheckOrphanDirectory(d, manifest.has_value());
  }
  return std::move(report_);
}

}  // namespace

const char* FindingName(VerifyFinding finding) {
  switch (finding) {
    case VerifyFinding::kOk:
      return "OK";
    case VerifyFinding::kNote:
      return "NOTE";
    case VerifyFinding::kWarning:
      return "WARNING";
    case VerifyFinding::kDamaged:
      return "DAMAGED";
  }
  return "?";
}

size_t VerifyReport::Count(VerifyFinding finding) const {
  return static_cast<size_t>(std::count_if(
      files.begin(), files.end(), [&](const FileFinding& f) { return f.finding == finding; }));
}

Result<VerifyReport> VerifyDatabase(const std::string& dir, storage::Env* env) {
  return Verifier(env != nullptr ? env : storage::PosixEnv(), dir).Run();
}

std::string FormatVerifyReport(const VerifyReport& report, const std::string& dir) {
  std::string out;
  for (const auto& f : report.files) {
    char label[16];
    std::snprintf(label, sizeof(label), "%-8s", FindingName(f.finding));
    out += label;
    out += f.file;
    if (!f.detail.empty()) out += ": " + f.detail;
    out += '\n';
  }
  const size_t damaged = report.Count(VerifyFinding::kDamaged);
  out += "verify '" + dir + "': " + Plural(report.files.size(), "file", "files") + ", " +
         std::to_string(report.Count(VerifyFinding::kOk)) + " OK, " + std::to_string(damaged) +
         " damaged, " + Plural(report.Count(VerifyFinding::kWarning), "warning", "warnings") +
         ", " + Plural(report.Count(VerifyFinding::kNote), "note", "notes") + " -> " +
         (damaged > 0 ? "DAMAGED" : "intact") + "\n";
  return out;
}

std::string VerifyReportToJson(const VerifyReport& report, const std::string& dir) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : report.files) {
    files.push_back({{"file", f.file}, {"status", FindingName(f.finding)}, {"detail", f.detail}});
  }
  nlohmann::json doc = {{"path", dir},
                        {"ok", !report.damaged()},
                        {"counts",
                         {{"ok", report.Count(VerifyFinding::kOk)},
                          {"damaged", report.Count(VerifyFinding::kDamaged)},
                          {"warning", report.Count(VerifyFinding::kWarning)},
                          {"note", report.Count(VerifyFinding::kNote)}}},
                        {"files", files}};
  return doc.dump(2) + "\n";
}

}  // namespace nearstore
