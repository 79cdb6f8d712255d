#include "server/metrics.h"

#include <cstdio>

namespace nearstore::server {
namespace {

// A label value escaped for the text format (backslash, quote, newline).
std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

}  // namespace

void Metrics::Observe(const std::string& method, const std::string& route, unsigned status,
                      double seconds) {
  base::MutexLock lock(mu_);
  ++requests_[{method, route, status}];
  Histogram& h = durations_[{method, route}];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++h.counts[i];
      break;
    }
  }
  ++h.count;
  h.sum += seconds;
}

std::string Metrics::Render(Database* db) const {
  std::string out;
  {
    base::MutexLock lock(mu_);
    out += "# HELP nearstore_http_requests_total Requests answered, by route and status.\n";
    out += "# TYPE nearstore_http_requests_total counter\n";
    for (const auto& [key, n] : requests_) {
      const auto& [method, route, status] = key;
      out += "nearstore_http_requests_total{method=\"" + Escape(method) + "\",route=\"" +
             Escape(route) + "\",status=\"" + std::to_string(status) + "\"} " + std::to_string(n) +
             "\n";
    }
    out +=
        "# HELP nearstore_http_request_duration_seconds Time from a request's headers to "
        "its response written.\n";
    out += "# TYPE nearstore_http_request_duration_seconds histogram\n";
    for (const auto& [key, h] : durations_) {
      const std::string labels =
          "method=\"" + Escape(key.first) + "\",route=\"" + Escape(key.second) + "\"";
      uint64_t cumulative = 0;
      for (size_t i = 0; i < kBuckets.size(); ++i) {
        cumulative += h.counts[i];
        out += "nearstore_http_request_duration_seconds_bucket{" + labels + ",le=\"" +
               Number(kBuckets[i]) + "\"} " + std::to_string(cumulative) + "\n";
      }
      out += "nearstore_http_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} " +
             std::to_string(h.count) + "\n";
      out += "nearstore_http_request_duration_seconds_sum{" + labels + "} " + Number(h.sum) + "\n";
      out += "nearstore_http_request_duration_seconds_count{" + labels + "} " +
             std::to_string(h.count) + "\n";
    }
  }
  out += "# HELP nearstore_http_connections Open client connections.\n";
  out += "# TYPE nearstore_http_connections gauge\n";
  out += "nearstore_http_connections " + std::to_string(connections.load()) + "\n";
  out += "# HELP nearstore_http_requests_in_flight Requests read and not yet answered.\n";
  out += "# TYPE nearstore_http_requests_in_flight gauge\n";
  out += "nearstore_http_requests_in_flight " + std::to_string(in_flight.load()) + "\n";

  const auto collections = db->ListCollections();
  struct Gauge {
    const char* name;
    const char* help;
    uint64_t (*value)(const CollectionInfo&);
  };
  const Gauge gauges[] = {
      {"nearstore_collection_points", "Live points.",
       [](const CollectionInfo& i) { return i.count; }},
      {"nearstore_collection_segments", "Sealed segment files.",
       [](const CollectionInfo& i) { return i.segments; }},
      {"nearstore_collection_memtable_rows", "Rows written and not yet sealed.",
       [](const CollectionInfo& i) { return i.memtable_rows; }},
      {"nearstore_collection_disk_bytes", "Bytes of segment files and write-ahead logs.",
       [](const CollectionInfo& i) { return i.disk_bytes; }},
      {"nearstore_collection_wal_bytes", "Bytes of write-ahead logs (not yet sealed).",
       [](const CollectionInfo& i) { return i.wal_bytes; }},
  };
  for (const auto& g : gauges) {
    out += std::string("# HELP ") + g.name + " " + g.help + "\n";
    out += std::string("# TYPE ") + g.name + " gauge\n";
    for (const auto& c : collections) {
      out += std::string(g.name) + "{collection=\"" + Escape(c.name) + "\"} " +
             std::to_string(g.value(c)) + "\n";
    }
  }
  return out;
}

}  // namespace nearstore::server
