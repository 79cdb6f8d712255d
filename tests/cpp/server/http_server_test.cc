// HttpServer in-process over an in-memory database (the routes of `nearstore serve`), spoken to
// with plain POSIX sockets on 127.0.0.1: the native API, keep-alive, the limits' statuses,
// API keys, metrics and the drain. Every socket has a receive timeout: nothing can hang.
#include "server/http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "http_test_util.h"

namespace nearstore::server {
namespace {

using namespace http_test;
using nlohmann::json;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

const char kRwKey[] = "read-write-key-0123456789";
const char kRoKey[] = "read-only-key-0123456789";

// ---------------------------------------------------------------------------------------------

TEST(HttpServerTest, NativeApiOnOneKeepAliveConnection) {
  TestServer server({});
  ASSERT_NO_FATAL_FAILURE(server.Start());
  Connection c(server.port());
  ASSERT_TRUE(c.connected());

  HttpResponse r =
      c.Call("POST", "/v1/collections", R"({"name": "docs", "dim": 3, "metric": "l2"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/json");
  EXPECT_EQ(r.Header("connection"), "");  // HTTP/1.1: kept alive
  EXPECT_EQ(r.Json()["name"], "docs");
  EXPECT_EQ(r.Json()["dim"], 3);

  // Every following request on the same connection: keep-alive works.
  r = c.Call("POST", "/v1/collections/docs/upsert", R"({"points": [
      {"id": "a", "vector": [0, 0, 0]},
      {"id": "b", "vector": [1, 0, 0], "metadata": {"tag": "x"}},
      {"id": "c", "vector": [5, 5, 5]}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json(), json({{"upserted", 3}}));

  r = c.Call("POST", "/v1/collections/docs/search", R"({"vector": [0.9, 0, 0], "k": 2})");
  ASSERT_EQ(r.status, 200) << r.body;
  json hits = r.Json()["hits"];
  ASSERT_EQ(hits.size(), 2u) << r.body;
  EXPECT_EQ(hits[0]["id"], "b");
  EXPECT_NEAR(hits[0]["distance"].get<double>(), 0.1, 1e-6);
  EXPECT_EQ(hits[0]["metadata"], json({{"tag", "x"}}));
  EXPECT_FALSE(hits[0].contains("vector"));
  EXPECT_EQ(hits[1]["id"], "a");
  EXPECT_NEAR(hits[1]["distance"].get<double>(), 0.9, 1e-6);

  // The same query as base64 float32 (the Python client's form), with vectors back.
  r = c.Call("POST", "/v1/collections/docs/search",
             R"({"vector_f32": ")" + Base64Floats({0.9f, 0, 0}) +
                 R"(", "k": 1, "with_vectors": true, "with_metadata": false})");
  ASSERT_EQ(r.status, 200) << r.body;
  hits = r.Json()["hits"];
  ASSERT_EQ(hits.size(), 1u) << r.body;
  EXPECT_EQ(hits[0]["id"], "b");
  EXPECT_EQ(hits[0]["vector"], json::parse("[1, 0, 0]"));
  EXPECT_FALSE(hits[0].contains("metadata"));

  r = c.Call("POST", "/v1/collections/docs/get", R"({"ids": ["c", "zz"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json(), json::parse(R"({"points": [{"id": "c", "metadata": {}, "vector": [5, 5, 5]},
                                                null]})"));

  r = c.Call("POST", "/v1/collections/docs/count", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json(), json({{"count", 3}}));

  r = c.Call("GET", "/v1/collections");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.Json()["collections"].size(), 1u);
  EXPECT_EQ(r.Json()["collections"][0]["count"], 3);

  // A handler's 400 keeps the connection.
  r = c.Call("POST", "/v1/collections/docs/upsert",
             R"({"points": [{"id": "x", "vector": [1, "two", 3]}]})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.ErrorCode(), "InvalidArgument");
  EXPECT_THAT(r.Json()["error"]["message"].get<std::string>(), HasSubstr("'points[0].vector[1]'"));

  r = c.Call("POST", "/v1/collections", R"({"name": "docs", "dim": 3})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.ErrorCode(), "AlreadyExists");

  // A handle to another incarnation of the collection is refused as in-process.
  r = c.Call("POST", "/v1/collections/docs/count", "", "x-nearstore-collection: 987654321\r\n");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.ErrorCode(), "FailedPrecondition");

  r = c.Call("DELETE", "/v1/collections/docs");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json(), json({{"dropped", true}}));
  r = c.Call("GET", "/v1/collections/docs");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(r.ErrorCode(), "NotFound");
  EXPECT_EQ(server.db().ListCollections().size(), 0u);
}

TEST(HttpServerTest, RoutingErrors) {
  TestServer server({});
  ASSERT_NO_FATAL_FAILURE(server.Start());
  {
    Connection c(server.port());
    const HttpResponse r = c.Call("GET", "/nope");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.ErrorCode(), "NotFound");
    EXPECT_THAT(r.body, HasSubstr("no route for /nope"));
    EXPECT_EQ(r.Header("connection"), "close");
    EXPECT_TRUE(c.ClosedByServer());
  }
  {
    Connection c(server.port());
    const HttpResponse r = c.Call("GET", "/v1/collections/docs/search");
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.ErrorCode(), "MethodNotAllowed");
    EXPECT_THAT(r.body, HasSubstr("GET is not allowed on /v1/collections/docs/search"));
  }
  {
    Connection c(server.port());
    const HttpResponse r = c.Call("PUT", "/v1/collections");
    EXPECT_EQ(r.status, 405);
  }
  for (const char* name : {"%2E%2E", "a%2Fb", "%zz"}) {
    Connection c(server.port());
    const HttpResponse r = c.Call("GET", std::string("/v1/collections/") + name);
    EXPECT_EQ(r.status, 400) << name;
    EXPECT_EQ(r.ErrorCode(), "InvalidArgument") << name;
    EXPECT_THAT(r.body, HasSubstr("is not a valid collection name")) << name;
  }
  {
    // The query string is not part of the path.
    Connection c(server.port());
    const HttpResponse r = c.Call("GET", "/healthz?verbose=1");
    EXPECT_EQ(r.status, 200) << r.body;
  }
  {
    Connection c(server.port());
    const HttpResponse r = c.Call("GET", "/v1/collections/nope");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.ErrorCode(), "NotFound");
  }
}

TEST(HttpServerTest, MalformedRequests) {
  TestServer server({});
  ASSERT_NO_FATAL_FAILURE(server.Start());
  {
    Connection c(server.port());
    HttpResponse r = c.Call("POST", "/v1/collections", "{not json");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.ErrorCode(), "InvalidArgument");
    EXPECT_THAT(r.body, HasSubstr("not valid JSON"));
    r = c.Call("POST", "/v1/collections", "");
    EXPECT_EQ(r.status, 400);
    EXPECT_THAT(r.body, HasSubstr("it had none"));
    r = c.Call("POST", "/v1/collections", std::string(100000, '['));
    EXPECT_EQ(r.status, 400);
    EXPECT_THAT(r.body, HasSubstr("nests deeper than"));
    r = c.Call("POST", "/v1/collections", R"({"name": "x", "dim": 3, "colour": 1})");
    EXPECT_EQ(r.status, 400);
    EXPECT_THAT(r.body, HasSubstr("unknown field 'colour'"));
  }
  {
    Connection c(server.port());
    ASSERT_TRUE(c.Send("GARBAGE\r\n\r\n"));
    const HttpResponse r = c.Read();
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.ErrorCode(), "BadRequest");
  }
  {
    Connection c(server.port());
    const HttpResponse r =
        c.Call("GET", "/healthz", "", "X-Big: " + std::string(20000, 'x') + "\r\n");
    EXPECT_EQ(r.status, 431);
    EXPECT_EQ(r.ErrorCode(), "HeadersTooLarge");
  }
}

TEST(HttpServerTest, BodiesOverTheLimitGet413) {
  ServerOptions options;
  options.max_body_bytes = 1024;
  TestServer server(options);
  ASSERT_NO_FATAL_FAILURE(server.Start());
  {
    // Announced: refused on the headers, before the body is read.
    Connection c(server.port());
    ASSERT_TRUE(c.Send(
        "POST /v1/collections/docs/upsert HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n"));
    const HttpResponse r = c.Read();
    EXPECT_EQ(r.status, 413);
    EXPECT_EQ(r.ErrorCode(), "PayloadTooLarge");
    EXPECT_THAT(r.body, HasSubstr("1024 bytes"));
  }
  {
    // Chunked: refused once the body passes the limit.
    Connection c(server.port());
    ASSERT_TRUE(
        c.Send("POST /v1/collections HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: "
               "chunked\r\n\r\n800\r\n" +
               std::string(0x800, ' ') + "\r\n0\r\n\r\n"));
    const HttpResponse r = c.Read();
    EXPECT_EQ(r.status, 413);
    EXPECT_EQ(r.ErrorCode(), "PayloadTooLarge");
  }
  {
    // Under the limit: served.
    Connection c(server.port());
    const std::string body = R"({"name": "docs", "dim": 2})" + std::string(900, ' ');
    const HttpResponse r = c.Call("POST", "/v1/collections", body);
    EXPECT_EQ(r.status, 201) << r.body;
  }
}

TEST(HttpServerTest, ApiKeys) {
  ServerOptions options;
  options.api_keys = {ApiKey{kRwKey, Access::kReadWrite, {}},
                      ApiKey{kRoKey, Access::kReadOnly, {}}};
  TestServer server(options);
  ASSERT_NO_FATAL_FAILURE(server.Start());
  auto call = [&](const std::string& method, const std::string& path, const std::string& headers,
                  const std::string& body = "") {
    Connection c(server.port());
    return c.Call(method, path, body, headers);
  };

  HttpResponse r = call("GET", "/v1/collections", "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.ErrorCode(), "Unauthorized");
  EXPECT_THAT(r.body, HasSubstr("needs an API key"));

  r = call("GET", "/v1/collections", "api-key: not-a-configured-key-000\r\n");
  EXPECT_EQ(r.status, 401);
  EXPECT_THAT(r.body, HasSubstr("not valid"));

  r = call("GET", "/v1/collections", std::string("Authorization: Basic ") + kRwKey + "\r\n");
  EXPECT_EQ(r.status, 401);

  // An unknown key is refused before the body is read, whatever the body.
  r = call("POST", "/v1/collections", "api-key: not-a-configured-key-000\r\n", "{not json");
  EXPECT_EQ(r.status, 401);

  r = call("GET", "/healthz", "");  // open
  EXPECT_EQ(r.status, 200);
  r = call("GET", "/metrics", "");  // not open
  EXPECT_EQ(r.status, 401);

  r = call("GET", "/v1/collections", std::string("Authorization: Bearer ") + kRoKey + "\r\n");
  EXPECT_EQ(r.status, 200) << r.body;
  r = call("GET", "/v1/collections", std::string("authorization: bearer ") + kRoKey + "\r\n");
  EXPECT_EQ(r.status, 200) << r.body;

  r = call("POST", "/v1/collections", std::string("api-key: ") + kRoKey + "\r\n",
           R"({"name": "docs", "dim": 2})");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.ErrorCode(), "Forbidden");
  EXPECT_THAT(r.body, HasSubstr("may not write"));

  r = call("POST", "/v1/collections", std::string("api-key: ") + kRwKey + "\r\n",
           R"({"name": "docs", "dim": 2})");
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(server.db().ListCollections().size(), 1u);
}

TEST(HttpServerTest, MetricsCountServedRequests) {
  TestServer server({});
  ASSERT_NO_FATAL_FAILURE(server.Start());
  Connection c(server.port());
  ASSERT_EQ(c.Call("POST", "/v1/collections", R"({"name": "docs", "dim": 1})").status, 201);
  ASSERT_EQ(c.Call("POST", "/v1/collections/docs/upsert",
                   R"({"points": [{"id": "a", "vector": [1]}, {"id": "b", "vector": [2]}]})")
                .status,
            200);
  ASSERT_EQ(c.Call("GET", "/v1/collections/nope").status, 404);
  // Observed when the response is written, before the next request on the connection is read.
  const HttpResponse r = c.Call("GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.Header("content-type"), HasSubstr("text/plain"));
  EXPECT_THAT(r.body, HasSubstr("\nnearstore_http_requests_total{method=\"POST\",route=\"/v1/"
                                "collections\",status=\"201\"} 1\n"));
  EXPECT_THAT(r.body, HasSubstr("\nnearstore_http_requests_total{method=\"GET\",route=\"/v1/"
                                "collections/{collection}\",status=\"404\"} 1\n"));
  EXPECT_THAT(r.body, HasSubstr("\nnearstore_collection_points{collection=\"docs\"} 2\n"));
  EXPECT_THAT(r.body, HasSubstr("\nnearstore_http_connections 1\n"));
  EXPECT_THAT(r.body, HasSubstr("\nnearstore_http_requests_in_flight 1\n"));  // this one
}

TEST(HttpServerTest, ServiceRoutes) {
  TestServer server({});
  ASSERT_NO_FATAL_FAILURE(server.Start());
  Connection c(server.port());
  HttpResponse r = c.Call("GET", "/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Json()["title"], "nearstore");
  EXPECT_TRUE(r.Json()["version"].is_string());
  for (const char* path : {"/healthz", "/livez", "/readyz"}) {
    r = c.Call("GET", path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.Json(), json({{"status", "ok"}})) << path;
  }
}

TEST(ServiceRoutesTest, ReadyzAnswers503WhileDraining) {
  auto db = Database::OpenInMemory();
  ASSERT_TRUE(db.ok());
  Metrics metrics;
  Router router;
  bool draining = false;
  AddServiceRoutes(
      db->get(), &metrics, [&draining] { return draining; }, &router);
  const Router::Match m = router.Find(Method::kGet, "/readyz");
  ASSERT_NE(m.route, nullptr);
  EXPECT_TRUE(m.route->open);
  EXPECT_EQ(m.route->handler(Request{}).status, 200u);
  draining = true;
  const Response r = m.route->handler(Request{});
  EXPECT_EQ(r.status, 503u);
  EXPECT_THAT(r.body, HasSubstr("ShuttingDown"));
  EXPECT_EQ(router.Find(Method::kGet, "/healthz").route->handler(Request{}).status, 200u);
  EXPECT_FALSE(router.Find(Method::kGet, "/metrics").route->open);
  EXPECT_TRUE((*db)->Close().ok());
}

TEST(HttpServerTest, ConnectionsOverTheLimitGet429) {
  ServerOptions options;
  options.max_connections = 1;
  TestServer server(options);
  ASSERT_NO_FATAL_FAILURE(server.Start());
  {
    Connection first(server.port());
    ASSERT_EQ(first.Call("GET", "/healthz").status, 200);  // accepted, and kept open
    Connection second(server.port());
    ASSERT_TRUE(second.connected());
    const HttpResponse r = second.Read();  // answered without a request
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(r.ErrorCode(), "TooManyConnections");
    EXPECT_TRUE(second.ClosedByServer());
  }
  // Both closed: a new connection is served once the server has seen them go.
  int status = 0;
  for (int attempt = 0; attempt < 100 && status != 200; ++attempt) {
    std::this_thread::sleep_for(10ms);
    Connection again(server.port());
    status = again.Call("GET", "/healthz").status;
  }
  EXPECT_EQ(status, 200);
}

TEST(HttpServerTest, SlowRequestsGet408AndIdleConnectionsClose) {
  ServerOptions options;
  options.request_timeout_ms = 150;
  options.idle_timeout_ms = 150;
  TestServer server(options);
  ASSERT_NO_FATAL_FAILURE(server.Start());
  Connection slow(server.port());
  Connection idle(server.port());
  ASSERT_TRUE(slow.Send("GET /healthz HTTP/1.1\r\nHost:"));  // and nothing more
  const auto start = std::chrono::steady_clock::now();
  const HttpResponse r = slow.Read();
  EXPECT_EQ(r.status, 408);
  EXPECT_EQ(r.ErrorCode(), "RequestTimeout");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
  EXPECT_TRUE(idle.ClosedByServer());  // closed without an answer, well before 2 s
}

TEST(HttpServerTest, DrainReturnsWithIdleConnectionsOpen) {
  TestServer server({});
  ASSERT_NO_FATAL_FAILURE(server.Start());
  Connection idle(server.port());
  ASSERT_EQ(idle.Call("GET", "/healthz").status, 200);
  EXPECT_FALSE(server.server().draining());
  EXPECT_TRUE(server.DrainReturnsWithin(2s));
  EXPECT_TRUE(server.server().draining());
  Connection late(server.port());
  EXPECT_FALSE(late.connected());  // the listening socket is closed
}

// I/O threads that poll before sleeping serve the same answers, time out slow requests, and
// stop on a drain while polling.
TEST(HttpServerTest, BusyPollingServesTimesOutAndDrains) {
  ServerOptions options;
  options.busy_poll_us = 2000;
  options.request_timeout_ms = 100;
  TestServer server(options);
  ASSERT_NO_FATAL_FAILURE(server.Start());
  Connection a(server.port()), b(server.port());  // one per I/O thread
  ASSERT_EQ(a.Call("POST", "/v1/collections", R"({"name": "p", "dim": 2})").status, 201);
  ASSERT_EQ(
      b.Call("POST", "/v1/collections/p/upsert", R"({"points": [{"id": "x", "vector": [1, 0]}]})")
          .status,
      200);
  for (int i = 0; i < 20; ++i) {
    const HttpResponse r =
        (i % 2 ? a : b).Call("POST", "/v1/collections/p/search", R"({"vector": [1, 0], "k": 1})");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.Json()["hits"][0]["id"], "x");
  }
  Connection slow(server.port());
  slow.Send("POST /v1/collections/p/search HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n{");
  EXPECT_EQ(slow.Read().status, 408);
  EXPECT_TRUE(server.DrainReturnsWithin(2s));
}

// Integers from a request are judged at their full width before they are narrowed: k
// 4294967301 was searched as k 5, and -4294967295 as k 1.
TEST(HttpServerTest, IntegersAreCheckedAtFullWidth) {
  for (const uint32_t max_limit : {100000u, 1000u}) {
    ServerOptions options;
    options.max_limit = max_limit;
    TestServer server(options);
    ASSERT_NO_FATAL_FAILURE(server.Start());
    Connection c(server.port());
    ASSERT_EQ(c.Call("POST", "/v1/collections", R"({"name": "docs", "dim": 2})").status, 201);
    ASSERT_EQ(c.Call("POST", "/v1/collections/docs/upsert",
                     R"({"points": [{"id": "a", "vector": [1, 0]}, {"id": "b", "vector": [0, 1]},
                                    {"id": "c", "vector": [1, 1]}]})")
                  .status,
              200);
    const std::string limit =
        max_limit == 1000 ? "1..1000 on this server (max_limit)" : "1..100000";
    for (const char* k : {"4294967301", "18446744073709551615", "-4294967295", "2147483648",
                          "-2147483649", "100001"}) {
      for (const std::string& body : {std::string(R"({"vector": [1, 0], "k": )") + k + "}",
                                      std::string(R"({"vectors": [[1, 0]], "k": )") + k + "}"}) {
        const std::string path = body.find("vectors") != std::string::npos
                                     ? "/v1/collections/docs/search_batch"
                                     : "/v1/collections/docs/search";
        const HttpResponse r = c.Call("POST", path, body);
        EXPECT_EQ(r.status, 400) << path << " k " << k << ": " << r.body;
        EXPECT_EQ(r.Json()["error"].value("message", ""), "k must be " + limit + ", got " + k)
            << path;
      }
    }
    const HttpResponse r =
        c.Call("POST", "/v1/collections/docs/search", R"({"vector": [1, 0], "k": 2})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Json()["hits"].size(), 2u);
  }
}

// Base64 vectors longer than the decoder's block (1 MiB of text) decode whole.
TEST(HttpServerTest, LongBase64VectorsDecodeWhole) {
  TestServer server({});
  ASSERT_NO_FATAL_FAILURE(server.Start());
  Connection c(server.port());
  ASSERT_EQ(
      c.Call("POST", "/v1/collections", R"({"name": "wide", "dim": 65536, "metric": "l2"})").status,
      201);
  std::vector<float> values(5 * 65536);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i % 1000) + 0.5f;
  const std::string text = Base64Floats(values);
  ASSERT_GT(text.size(), size_t{1} << 20);
  HttpResponse r = c.Call(
      "POST", "/v1/collections/wide/upsert",
      R"({"ids": ["0", "1", "2", "3", "4"], "vectors_f32": ")" + text + R"(", "dim": 65536})");
  ASSERT_EQ(r.status, 200) << r.body;
  for (const int row : {3, 4}) {  // rows decoded from the second block
    auto point = server.db().GetCollection("wide").value()->Get(std::to_string(row));
    ASSERT_TRUE(point.ok() && point->has_value());
    EXPECT_TRUE(std::equal(values.begin() + row * 65536, values.begin() + (row + 1) * 65536,
                           (*point)->vector.begin()))
        << "row " << row;
  }
}

// A dot collection holding [1e30] searched with [1e30] has distance -dot = -1e60, -inf as a
// float32 (the engine accepts both vectors: they are finite): the body must still be JSON.
TEST(HttpServerTest, InfiniteDistanceStillGivesJson) {
  TestServer server({});
  ASSERT_NO_FATAL_FAILURE(server.Start());
  Connection c(server.port());
  ASSERT_EQ(c.Call("POST", "/v1/collections", R"({"name": "d", "dim": 1, "metric": "dot"})").status,
            201);
  ASSERT_EQ(
      c.Call("POST", "/v1/collections/d/upsert", R"({"points": [{"id": "a", "vector": [1e30]}]})")
          .status,
      200);
  const HttpResponse r = c.Call("POST", "/v1/collections/d/search", R"({"vector": [1e30]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(r.Json().is_discarded()) << r.body;
}

}  // namespace
}  // namespace nearstore::server
