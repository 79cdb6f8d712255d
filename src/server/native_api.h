// The native REST face, under /v1/: the embedded API one to one (docs/SERVER.md), so that the
// Python client (nearstore.connect) offers exactly what an embedded Database does.
#pragma once

#include <memory>

#include "nearstore/database.h"
#include "server/router.h"
#include "server/server_options.h"

namespace nearstore::server {

// Adds the /v1/ routes to `router`; `db` must outlive the router.
void AddNativeRoutes(Database* db, const ServerOptions& options, Router* router);

}  // namespace nearstore::server
