#include "server/serve.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "nearstore/database.h"
#include "server/http_server.h"
#include "server/json_io.h"
#include "server/native_api.h"
#include "server/openapi.h"
#include "server/qdrant_api.h"
#include "server/qdrant_compat.h"

namespace nearstore::server {

void AddServiceRoutes(Database* db, Metrics* metrics, std::function<bool()> draining,
                      Router* router) {
  constexpr Access kRead = Access::kReadOnly;
  // Qdrant's clients read "version" to check that they speak the server's API, and warn when
  // its major or minor differ from theirs: it is the Qdrant API level that the Qdrant face
  // follows (qdrant::kApiVersion); nearstore's own version is "nearstore_version".
  router
      ->Add(Method::kGet, "/", kRead,
            [](const Request&) {
              return JsonResponse({{"title", "nearstore"},
                                   {"version", qdrant::kApiVersion},
                                   {"nearstore_version", NEARSTORE_VERSION}});
            })
      .work = Work::kInline;
  auto ok = [](const Request&) { return JsonResponse({{"status", "ok"}}); };
  router->Add(Method::kGet, "/healthz", kRead, ok, /*open=*/true).work = Work::kInline;
  router->Add(Method::kGet, "/livez", kRead, ok, /*open=*/true).work = Work::kInline;
  router
      ->Add(
          Method::kGet, "/readyz", kRead,
          [draining = std::move(draining)](const Request&) {
            if (draining())
              return ErrorResponse(503, "ShuttingDown", "the server is shutting down");
            return JsonResponse({{"status", "ok"}});
          },
          /*open=*/true)
      .work = Work::kInline;
  router->Add(Method::kGet, "/openapi.json", kRead, [](const Request&) {
    return Response{200, std::string(OpenApiJson())};
  });
  router->Add(Method::kGet, "/metrics", kRead, [db, metrics](const Request&) {
    return Response{200, metrics->Render(db), "text/plain; version=0.0.4; charset=utf-8"};
  });
}

Status Serve(const std::string& path, const ServerOptions& options) {
  NEARSTORE_RETURN_IF_ERROR(ValidateOptions(options));
  NEARSTORE_ASSIGN_OR_RETURN(auto db, Database::Open(path));
  Metrics metrics;
  Router router;
  HttpServer* server_ptr = nullptr;
  AddServiceRoutes(
      db.get(), &metrics, [&server_ptr] { return server_ptr->draining(); }, &router);
  AddNativeRoutes(db.get(), options, &router);
  AddQdrantRoutes(db.get(), options, &router);
  HttpServer server(&router, Authorizer(options.api_keys), options, &metrics);
  server_ptr = &server;
  NEARSTORE_RETURN_IF_ERROR(server.Listen());
  const char* scheme = options.tls_cert_file.empty() ? "http" : "https";
  std::printf("nearstore serve: listening on %s://%s:%u (database %s)\n", scheme,
              options.address.c_str(), static_cast<unsigned>(server.port()), path.c_str());
  std::fflush(stdout);
  server.Run(/*handle_signals=*/true);
  std::printf("nearstore serve: drained; closing the database\n");
  std::fflush(stdout);
  return db->Close();
}

}  // namespace nearstore::server
