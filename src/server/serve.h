// `nearstore serve PATH`: opens the database directory (the same one the embedded API opens)
// and serves it over HTTP until SIGTERM or SIGINT, then drains, closes the database (the
// write-ahead log is synced: nothing acknowledged is lost) and returns.
#pragma once

#include <string>

#include "nearstore/status.h"
#include "server/metrics.h"
#include "server/router.h"
#include "server/server_options.h"

namespace nearstore {
class Database;
}

namespace nearstore::server {

// Adds /, /healthz, /livez, /readyz (503 once `draining` says so), /openapi.json and /metrics.
void AddServiceRoutes(Database* db, Metrics* metrics, std::function<bool()> draining,
                      Router* router);

// Serves `path` with `options`; prints "listening on http://ADDRESS:PORT" on stdout once
// bound. Returns when drained, with the status of closing the database.
[[nodiscard]] Status Serve(const std::string& path, const ServerOptions& options);

}  // namespace nearstore::server
