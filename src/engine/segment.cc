#include "engine/segment.h"

namespace nearstore::engine {

Segment::Segment(std::shared_ptr<storage::MappedFile> file, storage::SegmentView view,
                 std::string name)
    : file_(std::move(file)),
      view_(view),
      file_name_(std::move(name)),
      deleted_at_(new std::atomic<uint64_t>[view.rows()]) {
  for (uint64_t i = 0; i < view.rows(); ++i) {
    deleted_at_[i].store(kNeverDeleted, std::memory_order_relaxed);
  }
}

Result<std::shared_ptr<Segment>> Segment::Open(storage::Env* env, const std::string& dir,
                                               const std::string& file_name,
                                               bool verify_checksums) {
  const std::string path = storage::JoinPath(dir, file_name);
  if (!env->FileExists(path)) {
    return Status::Corruption("segment '" + path +
                              "' is listed in the manifest but missing from the directory");
  }
  NEARSTORE_ASSIGN_OR_RETURN(auto file, env->MapFile(path));
  NEARSTORE_ASSIGN_OR_RETURN(auto view,
                             storage::SegmentView::Parse(file->data(), path, verify_checksums));
  return std::shared_ptr<Segment>(new Segment(std::move(file), view, file_name));
}

}  // namespace nearstore::engine
