// The rules of replaying a collection's write-ahead logs, in one place: which log files are
// replayed, where a log may end cut short, and which sequence number may follow which, across
// log files and relative to the MANIFEST and the segments. Recovery (which refuses to open on
// a broken rule) and `nearstore verify` (which reports it) both check through this, so a
// directory that opens is never reported damaged and one that does not open never passes.
//
// The rules (docs/FORMATS.md, "Recovery rules"):
//   - Segments hold ascending, disjoint ranges of sequence numbers, in the MANIFEST's order.
//   - Logs numbered at or above the MANIFEST's min_wal are replayed, in number order; lower
//     ones hold nothing that is not in a segment.
//   - A log may end in a torn tail (or a torn header) only if it is the newest: a write that a
//     crash interrupted was never acknowledged, and no later log is started before the one
//     before it is synced whole.
//   - Records at or below the MANIFEST's last_sealed_seq are already in a segment: skipped.
//   - Every other record must carry exactly the next sequence number: the one after the
//     highest sealed (last_sealed_seq, or a segment's max_seq if higher), then after the record
//     before it, across log files. Every write takes the next number and is logged, so a gap
//     means records were lost (a log cut at a record boundary, or a missing log) and a step back
//     that the logs are not this collection's.
// Thread-safety: a ReplayChecker is used by one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nearstore/status.h"
#include "storage/wal.h"

namespace nearstore::storage {

// The numbers of the logs to replay among `names` (the entries of a collection directory):
// the log names (storage/filename.h) numbered at or above `min_wal`, ascending.
std::vector<uint64_t> LogsToReplay(const std::vector<std::string>& names, uint64_t min_wal);

class ReplayChecker {
 public:
  // `last_sealed_seq`: the collection's MANIFEST entry's.
  explicit ReplayChecker(uint64_t last_sealed_seq);

  // Adds the next segment the MANIFEST lists (oldest first), at `path`, holding `entries` rows
  // and tombstones with sequence numbers from `min_seq` to `max_seq`. Corruption when they
  // overlap those of the segments before it (segments are in sequence order); the segment is
  // then not added.
  [[nodiscard]] Status AddSegment(const std::string& path, uint64_t entries, uint64_t min_seq,
                                  uint64_t max_seq);

  // Starts the log at `path`, parsed as `contents`; `newest` when no later log is replayed.
  // Corruption when it ends cut short but is not the newest. On error the log is not started:
  // call SkipLog (to go on checking, as verify does) or stop.
  [[nodiscard]] Status BeginLog(const std::string& path, const WalContents& contents, bool newest);

  // Checks the next record of the current log, whose sequence number is `seq`: true when it
  // is to be replayed, false when it is already in a segment. Corruption (naming the log, the
  // numbers, and the log before it when the record is the first of its log) for a gap or a
  // step back; the position is then unchanged.
  [[nodiscard]] Result<bool> Accept(uint64_t seq);

  // Forgets the position after a log that could not be read (verify goes on with the next):
  // the next record to replay sets it again instead of being checked against it.
  void SkipLog();

  // The sequence number the next record to replay must carry (after the last one accepted).
  uint64_t next_seq() const { return next_seq_; }

 private:
  const uint64_t last_sealed_seq_;
  uint64_t segments_max_seq_ = 0;  // the highest sequence number in the segments added
  bool any_segment_ = false;
  uint64_t next_seq_;
  bool position_known_ = true;
  std::string path_;           // the current log
  std::string previous_path_;  // the log before it ("" for the first)
  bool first_record_ = true;   // no record of the current log accepted yet
};

}  // namespace nearstore::storage
