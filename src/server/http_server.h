// HttpServer: HTTP/1.1 over TCP (Boost.Beast + Asio) in front of a Router.
//
// I/O threads read and write connections (keep-alive); each request is read in two steps, so
// that a request is judged on its headers before its body is read: the route (404/405), the
// API key (401/403) and the declared body size (413) are checked first. A routed request is
// then run: a short read (Route::work kInline: one search, one lookup, health) on the I/O
// thread that read it; anything else is handed to a bounded pool of worker threads (429 when
// max_pending_requests wait already), and its response written back on the connection's
// strand.
//
// Limits answer with a status instead of falling over: 431 for headers over max_header_bytes,
// 413 for a body over max_body_bytes, 408 for a request not read within request_timeout_ms,
// 429 for a connection over max_connections or a request over max_pending_requests; an idle
// keep-alive connection is closed after idle_timeout_ms.
//
// Drain (SIGTERM, or Drain()): the listening socket closes, /readyz answers 503, requests
// already read are answered, new ones on open connections get 503 with "Connection: close",
// and Run returns once none is in flight (or drain_timeout_ms passed).
#pragma once

#include <cstdint>
#include <memory>

#include "nearstore/status.h"
#include "server/api_keys.h"
#include "server/metrics.h"
#include "server/router.h"
#include "server/server_options.h"

namespace nearstore::server {

class HttpServer {
 public:
  // `router` and `metrics` must outlive the server.
  HttpServer(const Router* router, Authorizer authorizer, ServerOptions options, Metrics* metrics);
  ~HttpServer();

  // Binds the address and port; port() is then the one bound (useful with port 0).
  [[nodiscard]] Status Listen();
  uint16_t port() const;
  // Serves until drained; drains on SIGINT and SIGTERM when `handle_signals`.
  void Run(bool handle_signals);
  // Starts draining (thread-safe; returns at once).
  void Drain();
  bool draining() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace nearstore::server
