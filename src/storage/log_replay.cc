#include "storage/log_replay.h"

#include <algorithm>

#include "storage/filename.h"

namespace nearstore::storage {

std::vector<uint64_t> LogsToReplay(const std::vector<std::string>& names, uint64_t min_wal) {
  std::vector<uint64_t> out;
  for (const auto& n : names) {
    uint64_t number = 0;
    if (ParseWalFileName(n, &number) && number >= min_wal) out.push_back(number);
  }
  std::sort(out.begin(), out.end());
  return out;
}

ReplayChecker::ReplayChecker(uint64_t last_sealed_seq)
    : last_sealed_seq_(last_sealed_seq), next_seq_(last_sealed_seq + 1) {}

Status ReplayChecker::AddSegment(const std::string& path, uint64_t entries, uint64_t min_seq,
                                 uint64_t max_seq) {
  if (entries > 0 && any_segment_ && min_seq <= segments_max_seq_) {
    return Status::Corruption("segment '" + path + "' holds sequence numbers from " +
                              std::to_string(min_seq) + ", which overlap the segment before it " +
                              "(up to " + std::to_string(segments_max_seq_) +
                              "): segments must be in sequence order");
  }
  any_segment_ = true;
  segments_max_seq_ = std::max(segments_max_seq_, max_seq);
  next_seq_ = std::max(last_sealed_seq_, segments_max_seq_) + 1;
  return Status::Ok();
}

Status ReplayChecker::BeginLog(const std::string& path, const WalContents& contents, bool newest) {
  if ((contents.torn_tail || contents.torn_header) && !newest) {
    return Status::Corruption("write-ahead log '" + path +
                              "' ends in a partial record (at offset " +
                              std::to_string(contents.valid_size) +
                              ") but is not the newest log: it was complete once, so bytes "
                              "were lost");
  }
  if (!path_.empty()) previous_path_ = path_;
  path_ = path;
  first_record_ = true;
  return Status::Ok();
}

Result<bool> ReplayChecker::Accept(uint64_t seq) {
  if (seq <= last_sealed_seq_) return false;  // already in a segment
  if (!position_known_) {
    position_known_ = true;
    next_seq_ = seq;
  }
  if (seq != next_seq_) {
    const std::string where = "write-ahead log '" + path_ + "' has sequence number " +
                              std::to_string(seq) + " where " + std::to_string(next_seq_) +
                              " was expected: ";
    if (seq > next_seq_) {
      const std::string before = first_record_ && !previous_path_.empty()
                                     ? " or at the end of '" + previous_path_ + "'"
                                     : "";
      return Status::Corruption(where + "writes are missing before it" + before +
                                " (a log was cut short or lost)");
    }
    return Status::Corruption(where +
                              "a step back, out of order (the log holds writes that "
                              "are not this collection's, or a log was copied in)");
  }
  next_seq_ = seq + 1;
  first_record_ = false;
  return true;
}

void ReplayChecker::SkipLog() {
  position_known_ = false;
  first_record_ = true;
}

}  // namespace nearstore::storage
