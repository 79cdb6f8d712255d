// VerifyDatabase: the check behind `nearstore verify` (and nearstore.verify in Python). It reads a
// database directory and checks every file the MANIFEST lists (and every other file it finds)
// without opening the database: it takes no lock and never writes, renames or removes anything, so
// it may run while another process has the database open (a file that changes under it may then be
// reported as it was at the moment it was read).
//
// What is checked, per collection in the MANIFEST:
//   - each listed segment exists, parses with every section checksum verified, and agrees with
//     its MANIFEST entry (dimension, rows, tombstones, sequence range, size) and with the
//     segments before it (sequence numbers ascend);
//   - each wal-N.log with N >= min_wal parses (every record checksum) and every record decodes
//     as a write for the collection's dimension, in ascending sequence order. A record cut
//     short at the end of the newest log is a torn tail: a write that a crash interrupted and
//     that was never acknowledged; recovery drops it, so it is a warning, not damage. A torn
//     log that is not the newest is damage (recovery refuses it).
// Files nobody lists (older logs, unlisted segments, *.tmp, collection directories that a cut
// short create or drop left behind) are notes: the next open removes them.
//
// Thread-safety: a free function over its arguments; safe to call from several threads.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "nearstore/status.h"

namespace nearstore {

namespace storage {
class Env;
}

enum class VerifyFinding {
  kOk,       // the file is intact
  kNote,     // not part of the database (leftover or unknown); harmless
  kWarning,  // damaged in a way recovery handles by itself (a torn log tail)
  kDamaged,  // damaged: opening the database would fail, or data is lost
};

// "OK", "NOTE", "WARNING" or "DAMAGED".
const char* FindingName(VerifyFinding finding);

struct FileFinding {
  std::string file;  // relative to the database directory, e.g. "c000001/seg-000004.nss"
  VerifyFinding finding = VerifyFinding::kOk;
  std::string detail;  // why (for OK: what the file holds, e.g. "segment: 1000 rows")
};

struct VerifyReport {
  std::vector<FileFinding> files;  // in the order checked: MANIFEST, then per directory by name

  size_t Count(VerifyFinding finding) const;
  // Whether any file is damaged (what `nearstore verify` turns into exit code 1).
  bool damaged() const { return Count(VerifyFinding::kDamaged) > 0; }
};

// Verifies the database in directory `dir` through `env` (nullptr = the real file system, as in
// Options::env; read-only use: MapFile, ReadFile, ListDir, FileExists, FileSize). Damage is
// reported in the VerifyReport, never as an error. Errors: InvalidArgument when `dir` is not a
// directory or holds neither a MANIFEST nor any collection directory (it is not a nearstore
// database); IOError when `dir` cannot be listed.
[[nodiscard]] Result<VerifyReport> VerifyDatabase(const std::string& dir,
                                                  storage::Env* env = nullptr);

// One line per file, "DAMAGED  c000001/wal-000003.log: <detail>", then a summary line.
std::string FormatVerifyReport(const VerifyReport& report, const std::string& dir);
// The same as a JSON document: {"path", "ok", "counts": {...}, "files": [{file, status, detail}]}.
std::string VerifyReportToJson(const VerifyReport& report, const std::string& dir);

}  // namespace nearstore
