#include "cli/info.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "nearstore/database.h"
#include "storage/env.h"
#include "storage/filename.h"
#include "storage/log_record.h"
#include "storage/log_replay.h"
#include "storage/manifest.h"
#include "storage/wal.h"

namespace nearstore::cli {
namespace {

using storage::JoinPath;

// Rows logged after the last seal in the logs the collection still needs; nullopt when one
// cannot be read or parsed (`verify` says why).
std::optional<uint64_t> UnsealedLoggedRows(storage::Env* env, const std::string& cdir,
                                           const storage::CollectionEntry& entry,
                                           const std::vector<std::string>& names) {
  uint64_t rows = 0;
  for (uint64_t number : storage::LogsToReplay(names, entry.min_wal)) {
    const std::string path = JoinPath(cdir, storage::WalFileName(number));
    auto file = env->MapFile(path);
    if (!file.ok()) return std::nullopt;
    auto contents = storage::ParseWal((*file)->data(), path);
    if (!contents.ok()) return std::nullopt;
    for (std::string_view payload : contents->records) {
      auto op = storage::DecodeLogRecord(payload, entry.dim, path);
      if (!op.ok()) return std::nullopt;
      if (op->seq > entry.last_sealed_seq) rows += op->MaxNewRows();
    }
  }
  return rows;
}

Result<DatabaseSummary> FromManifest(const std::string& path, std::string lock_message) {
  storage::Env* env = storage::PosixEnv();
  NEARSTORE_ASSIGN_OR_RETURN(storage::Manifest manifest, storage::ReadManifest(env, path));
  DatabaseSummary out;
  out.path = path;
  out.opened = false;
  out.lock_message = std::move(lock_message);
  for (const auto& entry : manifest.collections) {
    CollectionSummary c;
    c.name = entry.name;
    c.dim = entry.dim;
    c.metric = entry.metric;
    c.index = entry.index.kind;
    c.segments = entry.segments.size();
    for (const auto& p : entry.payload_indexes) {
      auto kind = ParsePayloadIndexKind(p.kind);
      if (kind.ok()) c.payload_indexes.push_back({p.field, *kind});
    }
    const std::string cdir = JoinPath(path, entry.dir);
    for (const auto& s : entry.segments) {
      c.segment_rows += s.rows;
      auto size = env->FileSize(JoinPath(cdir, s.file));
      c.disk_bytes += size.ok() ? *size : s.size_bytes;
    }
    auto names = env->ListDir(cdir);
    if (names.ok()) {
      for (const auto& n : *names) {
        uint64_t number = 0;
        if (!storage::ParseWalFileName(n, &number)) continue;
        auto size = env->FileSize(JoinPath(cdir, n));
        if (size.ok()) c.disk_bytes += *size;
      }
      c.memtable_rows = UnsealedLoggedRows(env, cdir, entry, *names);
    }
    out.collections.push_back(std::move(c));
  }
  std::sort(out.collections.begin(), out.collections.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::string HumanBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  size_t u = 0;
  while (v >= 1024 && u + 1 < std::size(kUnits)) v /= 1024, ++u;
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof(buf), "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f %s", v, kUnits[u]);
  }
  return buf;
}

std::string Num(const std::optional<uint64_t>& v) { return v ? std::to_string(*v) : "?"; }

nlohmann::json JsonNum(const std::optional<uint64_t>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

struct Totals {
  std::optional<uint64_t> live = 0, memtable_rows = 0;
  uint64_t segments = 0, segment_rows = 0, disk_bytes = 0;
};

Totals Sum(const DatabaseSummary& s) {
  Totals t;
  for (const auto& c : s.collections) {
    t.live = (t.live && c.live) ? std::optional<uint64_t>(*t.live + *c.live) : std::nullopt;
    t.memtable_rows = (t.memtable_rows && c.memtable_rows)
                          ? std::optional<uint64_t>(*t.memtable_rows + *c.memtable_rows)
                          : std::nullopt;
    t.segments += c.segments;
    t.segment_rows += c.segment_rows;
    t.disk_bytes += c.disk_bytes;
  }
  return t;
}

}  // namespace

Result<DatabaseSummary> GatherInfo(const std::string& path) {
  storage::Env* env = storage::PosixEnv();
  if (!env->FileExists(path)) {
    return Status::InvalidArgument("'" + path + "' does not exist; expected a database directory");
  }
  if (!env->FileExists(JoinPath(path, storage::kManifestFileName))) {
    return Status::InvalidArgument("'" + path + "' is not a nearstore database: it has no " +
                                   storage::kManifestFileName);
  }
  DatabaseOptions options;
  options.search_threads = 1;                // no searches: no pool threads
  options.verify_checksums_on_open = false;  // `verify` does that; info stays fast
  auto db = Database::Open(path, options);
  if (!db.ok()) {
    if (db.status().code() == StatusCode::kBusy) return FromManifest(path, db.status().message());
    return db.status();
  }
  DatabaseSummary out;
  out.path = path;
  out.opened = true;
  for (const CollectionInfo& info : (*db)->ListCollections()) {
    CollectionSummary c;
    c.name = info.name;
    c.dim = info.dim;
    c.metric = MetricName(info.metric);
    c.index = IndexKindName(info.index.kind);
    c.live = info.count;
    c.segments = info.segments;
    c.segment_rows = info.segment_rows;
    c.memtable_rows = info.memtable_rows;
    c.disk_bytes = info.disk_bytes;
    auto collection = (*db)->GetCollection(info.name);
    if (collection.ok()) c.payload_indexes = (*collection)->ListPayloadIndexes();
    out.collections.push_back(std::move(c));
  }
  NEARSTORE_RETURN_IF_ERROR((*db)->Close());
  return out;
}

std::string FormatInfo(const DatabaseSummary& s) {
  std::string out;
  if (!s.opened) {
    out +=
        "note: the database is locked by another process, so it was not opened; what follows "
        "comes from the MANIFEST, the logs and the file sizes (live counts unknown: '?'; "
        "memtable rows = rows logged since the last seal).\n      (" +
        s.lock_message + ")\n";
  }
  out += "database '" + s.path + "': " + std::to_string(s.collections.size()) +
         (s.collections.size() == 1 ? " collection\n" : " collections\n");
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"collection", "dim", "metric", "index", "live", "segments", "segment rows",
                  "memtable rows", "on disk"});
  for (const auto& c : s.collections) {
    rows.push_back({c.name, std::to_string(c.dim), c.metric, c.index, Num(c.live),
                    std::to_string(c.segments), std::to_string(c.segment_rows),
                    Num(c.memtable_rows), HumanBytes(c.disk_bytes)});
  }
  const Totals t = Sum(s);
  rows.push_back({"total", "", "", "", Num(t.live), std::to_string(t.segments),
                  std::to_string(t.segment_rows), Num(t.memtable_rows), HumanBytes(t.disk_bytes)});
  std::vector<size_t> width(rows.front().size(), 0);
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      // Names and words left-aligned, numbers right-aligned.
      const bool left = i <= 3;
      const std::string pad(width[i] - r[i].size(), ' ');
      line += left ? r[i] + pad : pad + r[i];
      if (i + 1 < r.size()) line += "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  for (const auto& c : s.collections) {
    if (c.payload_indexes.empty()) continue;
    out += "payload indexes of '" + c.name + "':";
    for (const auto& p : c.payload_indexes) {
      out += " " + p.field + " (" + PayloadIndexKindName(p.kind) + ")";
    }
    out += "\n";
  }
  return out;
}

std::string InfoToJson(const DatabaseSummary& s) {
  nlohmann::json collections = nlohmann::json::array();
  for (const auto& c : s.collections) {
    nlohmann::json payload_indexes = nlohmann::json::array();
    for (const auto& p : c.payload_indexes) {
      payload_indexes.push_back({{"field", p.field}, {"kind", PayloadIndexKindName(p.kind)}});
    }
    collections.push_back({{"name", c.name},
                           {"dim", c.dim},
                           {"metric", c.metric},
                           {"index", c.index},
                           {"live", JsonNum(c.live)},
                           {"segments", c.segments},
                           {"segment_rows", c.segment_rows},
                           {"memtable_rows", JsonNum(c.memtable_rows)},
                           {"disk_bytes", c.disk_bytes},
                           {"payload_indexes", payload_indexes}});
  }
  const Totals t = Sum(s);
  nlohmann::json doc = {
      {"path", s.path},
      {"opened", s.opened},
      {"lock_message", s.opened ? nlohmann::json(nullptr) : nlohmann::json(s.lock_message)},
      {"collections", collections},
      {"total",
       {{"live", JsonNum(t.live)},
        {"segments", t.segments},
        {"segment_rows", t.segment_rows},
        {"memtable_rows", JsonNum(t.memtable_rows)},
        {"disk_bytes", t.disk_bytes}}}};
  return doc.dump(2) + "\n";
}

}  // namespace nearstore::cli
