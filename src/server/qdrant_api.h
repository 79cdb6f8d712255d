// The Qdrant-compatible face: Qdrant's REST paths for the subset that covers the database
// (collections, points, payload, scroll, count, query, payload indexes; docs/SERVER.md lists
// them), with Qdrant's envelope {"result", "status", "time"} and error shape, its ids and its
// filters translated onto the engine's (qdrant_compat.h), so that qdrant-client code runs
// against nearstore unchanged.
#pragma once

#include "nearstore/database.h"
#include "server/router.h"
#include "server/server_options.h"

namespace nearstore::server {

// Adds the Qdrant routes to `router`; `db` must outlive the router.
void AddQdrantRoutes(Database* db, const ServerOptions& options, Router* router);

}  // namespace nearstore::server
