#include "engine/segment.h"

namespace nearstore::engine {

Segment::Segment(std::shared_ptr<storage::MappedFile> file, storage::SegmentView view,
                 std::string name, std::optional<index::HnswGraph> graph, index::CodeSet codes,
                 std::shared_ptr<const filter::PayloadIndex> stored_payload)
    : file_(std::move(file)),
      view_(view),
      file_name_(std::move(name)),
      deleted_at_(new std::atomic<uint64_t>[view.rows()]),
      graph_(std::move(graph)),
      codes_(std::move(codes)),
      stored_payload_(std::move(stored_payload)) {
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
  std::optional<index::HnswGraph> graph;
  if (!view.graph().empty()) {
    if (view.metric() > static_cast<uint32_t>(Metric::kDot)) {
      return Status::Corruption("segment '" + path + "' is damaged: unknown metric " +
                                std::to_string(view.metric()));
    }
    const auto metric = static_cast<Metric>(view.metric());
    NEARSTORE_ASSIGN_OR_RETURN(auto g, index::HnswGraph::View(view.graph(), view.rows(), view.dim(),
                                                              GraphMetricFor(metric), path));
    graph.emplace(std::move(g));
  }
  NEARSTORE_ASSIGN_OR_RETURN(
      auto codes, index::ViewCodes(view.codes(), view.vectors(), view.rows(), view.dim(), path));
  std::shared_ptr<const filter::PayloadIndex> payload;
  if (!view.payload().empty()) {
    NEARSTORE_ASSIGN_OR_RETURN(payload,
                               filter::PayloadIndex::View(view.payload(), view.rows(), file, path));
  }
  if (index::IsQuantized(codes)) {
    // Walks read the codes; the float vectors are read only to re-rank a few rows per query.
    file->AdviseRandomAccess(
        {reinterpret_cast<const char*>(view.vectors()), view.rows() * view.dim() * sizeof(float)});
  }
  return std::shared_ptr<Segment>(new Segment(std::move(file), view, file_name, std::move(graph),
                                              std::move(codes), std::move(payload)));
}

}  // namespace nearstore::engine
