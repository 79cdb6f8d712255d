// ServerOptions: how `nearstore serve` listens and what it allows, from a JSON config file
// and command-line flags (flags win). docs/SERVER.md lists every key.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "nearstore/status.h"

namespace nearstore::server {

enum class Access { kReadOnly, kReadWrite };

struct ApiKey {
  std::string key;
  Access access = Access::kReadWrite;
  // The collections the key may touch; empty = all. A limited key cannot list, create or
  // drop collections other than these.
  std::vector<std::string> collections;
};

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 6333;  // 0 = any free port (printed when listening)
  // threads reading and writing connections, and running short reads (one per core, at least 2)
  int io_threads = static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
  int worker_threads = 0;  // threads running the other requests (0 = one per core)

  // TLS: both PEM files, or neither (plain HTTP).
  std::string tls_cert_file;  // the certificate chain
  std::string tls_key_file;

  // Every route but the health checks needs a key when any is configured.
  std::vector<ApiKey> api_keys;

  // Limits: over them a request gets 413 / 429 / 408 / 400, never a crash. (Filters have the
  // engine's own limits on size, depth and conditions: docs/FILTERS.md.)
  uint64_t max_body_bytes = 64ull << 20;
  uint32_t max_header_bytes = 16 << 10;
  uint32_t max_batch_points = 100000;  // points per upsert, ids per get/delete, queries per batch
  uint32_t max_limit = 100000;         // k of a search, limit of a scroll (the engine's kMaxK)
  // The most bytes of one response body (400 over it, naming this limit): judged on what a
  // request asks for before the engine runs, and again while the body is built
  // (server/response_limit.h). The default matches max_body_bytes.
  uint64_t max_response_bytes = 64ull << 20;
  uint32_t max_connections = 1024;
  uint32_t max_pending_requests = 1024;  // waiting for a worker thread; more get 429
  uint32_t request_timeout_ms = 30000;   // reading one request, and writing its response
  uint32_t idle_timeout_ms = 60000;      // a keep-alive connection with no request
  uint32_t drain_timeout_ms = 30000;     // SIGTERM: how long in-flight requests may finish
  // After an I/O thread handles something, it polls its connections for this long before it
  // sleeps again (0: it sleeps at once). A client waiting on each answer sends its next request
  // within a round trip; a thread that slept meanwhile starts it on a core whose caches went
  // cold (on a VM, the core may have run another guest). Costs CPU: a busy thread spins.
  uint32_t busy_poll_us = 0;

  bool access_log = true;  // one JSON line per request on stderr
};

// Reads the JSON config file at `path` into `options` (keys not in the file keep their
// value). InvalidArgument naming the key for an unknown key or a bad value.
[[nodiscard]] Status LoadConfigFile(const std::string& path, ServerOptions* options);
// Checks ranges and API keys (non-empty, distinct, collection names valid).
[[nodiscard]] Status ValidateOptions(const ServerOptions& options);

}  // namespace nearstore::server
