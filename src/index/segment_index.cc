#include "index/segment_index.h"

#include <optional>
#include <variant>

#include "index/codes.h"

namespace nearstore::index {

Result<SegmentIndexSections> BuildSegmentIndex(const float* vectors, uint64_t n, uint32_t dim,
                                               GraphMetric metric, const HnswOptions& options,
                                               int threads, size_t code_kind) {
  const CodeSet codes = TrainCodes(code_kind, vectors, n, dim);
  const Sq8Codes* build_codes = std::get_if<Sq8Codes>(&codes);
  std::optional<Sq8Codes> trained_for_build;
  if (build_codes == nullptr)
    build_codes = &trained_for_build.emplace(Sq8Codes::Train(vectors, n, dim));
  NEARSTORE_ASSIGN_OR_RETURN(
      auto graph, HnswGraph::Build(vectors, n, dim, metric, options, threads, build_codes));
  return SegmentIndexSections{graph.Encode(), EncodeCodes(codes)};
}

}  // namespace nearstore::index
