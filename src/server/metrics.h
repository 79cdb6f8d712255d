// Metrics: what the server counts, rendered in Prometheus' text format at /metrics:
//   nearstore_http_requests_total{method,route,status}        counter
//   nearstore_http_request_duration_seconds{method,route}      histogram
//   nearstore_http_connections, nearstore_http_requests_in_flight  gauges
//   nearstore_collection_points / _segments / _memtable_rows / _disk_bytes / _wal_bytes
//     {collection}  gauges
// Routes are labelled by their pattern ("/v1/collections/{collection}/search"), never by the
// raw path, so that the number of series stays bounded whatever clients send.
//
// Thread-safety: Observe and Render may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "nearstore/database.h"

namespace nearstore::server {

class Metrics {
 public:
  // One finished request (route "" for requests no route matched).
  void Observe(const std::string& method, const std::string& route, unsigned status,
               double seconds);
  std::atomic<int64_t> connections{0};
  std::atomic<int64_t> in_flight{0};

  // The text exposition, with per-collection gauges read from `db`.
  std::string Render(Database* db) const;

 private:
  static constexpr std::array<double, 14> kBuckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0};
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> counts{};  // per bucket (not cumulative)
    uint64_t count = 0;
    double sum = 0;
  };
  mutable base::Mutex mu_;
  std::map<std::tuple<std::string, std::string, unsigned>, uint64_t> requests_ GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, Histogram> durations_ GUARDED_BY(mu_);
};

}  // namespace nearstore::server
