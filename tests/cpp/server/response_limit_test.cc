// max_response_bytes: a small request may not make the server build a large answer. Answers
// certain to pass the limit are refused before the engine runs, the others once their body
// passes it; a get renders each distinct id once; a batch is searched in parts; the Qdrant
// face is bounded too.
#include "server/response_limit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "http_test_util.h"
#include "server/json_io.h"

namespace nearstore::server {
namespace {

using namespace http_test;
using nlohmann::json;
using ::testing::HasSubstr;

constexpr uint64_t kLimit = 64 << 10;

// The least an entry takes is what the smallest entry renders to, and its comma.
TEST(ResponseLimitTest, MinEntryBytesIsTheSmallestEntry) {
  for (const uint32_t dim : {1u, 3u, 100u}) {
    for (const bool distance : {false, true}) {
      for (const bool metadata : {false, true}) {
        for (const bool vector : {false, true}) {
          std::string text;
          const std::vector<float> zeros(dim, 0.0f);
          if (distance) {
            AppendHit(Hit{"x", 0.0f, "{}", zeros}, metadata, vector, &text);
          } else {
            AppendPoint(Point{"x", zeros, "{}"}, metadata, vector, &text);
          }
          EXPECT_EQ(ResponseLimit::MinEntryBytes(distance, metadata, vector, dim), text.size() + 1)
              << text;
        }
      }
    }
  }
}

TEST(ResponseLimitTest, ChecksAndNamesTheLimit) {
  const ResponseLimit limit(1000);
  EXPECT_TRUE(limit.Check(1000, "the answer", "ask for less").ok());
  const Status s = limit.Check(1001, "the answer", "ask for less");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "the answer would take more than 1000 bytes, the most this server sends "
            "(max_response_bytes); ask for less");
  EXPECT_TRUE(limit.CheckEntries(10, 100, "x", "y").ok());
  EXPECT_FALSE(limit.CheckEntries(11, 100, "x", "y").ok());
  // A product past 2^64 saturates: refused, not wrapped to a small number.
  EXPECT_FALSE(limit.CheckEntries(uint64_t{1} << 33, (uint64_t{1} << 31) + 1, "x", "y").ok());
}

class ResponseLimitServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.max_response_bytes = kLimit;
    options.max_limit = 1000;
    server_ = std::make_unique<TestServer>(options);
    ASSERT_NO_FATAL_FAILURE(server_->Start());
    c_ = std::make_unique<Connection>(server_->port());
    ASSERT_TRUE(c_->connected());
  }

  // Creates collection `name` with `n` points `prefix` + "0".. of `dim` dimensions, each with
  // metadata {"text": <metadata_bytes bytes>}.
  void Fill(const std::string& name, uint32_t dim, int n, size_t metadata_bytes,
            const std::string& prefix = "p") {
    auto col = server_->db().CreateCollection(name, dim, Metric::kL2);
    ASSERT_TRUE(col.ok()) << col.status().ToString();
    std::vector<Point> points;
    for (int i = 0; i < n; ++i) {
      std::vector<float> v(dim);
      for (uint32_t d = 0; d < dim; ++d) v[d] = static_cast<float>((i * 7 + d * 3) % 11) + 0.25f;
      points.push_back(Point{prefix + std::to_string(i), v,
                             json({{"text", std::string(metadata_bytes, 'm')}}).dump()});
    }
    ASSERT_TRUE((*col)->Upsert(points).ok());
  }

  HttpResponse Post(const std::string& path, const json& body) {
    return c_->Call("POST", path, body.dump());
  }

  // Expects a 400 naming the limit, `what` and how to ask for less.
  static void ExpectRefused(const HttpResponse& r, const std::string& what,
                            const std::string& ask) {
    EXPECT_EQ(r.status, 400) << r.body.substr(0, 300);
    EXPECT_EQ(r.ErrorCode(), "InvalidArgument");
    const std::string message = r.Json()["error"].value("message", "");
    EXPECT_THAT(message, HasSubstr(what + " would take more than 65536 bytes"));
    EXPECT_THAT(message, HasSubstr("(max_response_bytes)"));
    EXPECT_THAT(message, HasSubstr(ask));
  }

  // Expects a 400 in Qdrant's shape naming the limit (and `what`).
  static void ExpectQdrantRefused(const HttpResponse& r, const std::string& what) {
    EXPECT_EQ(r.status, 400) << r.body.substr(0, 300);
    const json body = r.Json();
    ASSERT_TRUE(body.is_object() && body.contains("status") && body["status"].is_object())
        << r.body.substr(0, 300);
    const std::string message = body["status"].value("error", "");
    EXPECT_THAT(message, HasSubstr(what + " would take more than 65536 bytes"));
    EXPECT_THAT(message, HasSubstr("(max_response_bytes)"));
  }

  std::unique_ptr<TestServer> server_;
  std::unique_ptr<Connection> c_;
};

// One id asked many times: one entry per id asked, in order, and the repeats count.
TEST_F(ResponseLimitServerTest, GetWithARepeatedIdIsBounded) {
  Fill("docs", 4, 3, 10000);
  HttpResponse r = Post("/v1/collections/docs/get", {{"ids", {"p1", "zz", "p1", "p2", "p1"}}});
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 300);
  const json points = r.Json()["points"];
  ASSERT_EQ(points.size(), 5u);
  EXPECT_EQ(points[0]["id"], "p1");
  EXPECT_TRUE(points[1].is_null());
  EXPECT_EQ(points[2], points[0]);
  EXPECT_EQ(points[3]["id"], "p2");
  EXPECT_EQ(points[4], points[0]);
  EXPECT_EQ(points[0]["metadata"]["text"].get<std::string>().size(), 10000u);

  // 10 KB a time: 7 repeats fit in 64 KiB, 100 do not.
  r = Post("/v1/collections/docs/get", {{"ids", std::vector<std::string>(100, "p1")}});
  ExpectRefused(r, "the answer", "ask for fewer ids");
  r = Post("/v1/collections/docs/get",
           {{"ids", std::vector<std::string>(100, "p1")}, {"with_metadata", false}});
  EXPECT_EQ(r.status, 200) << r.body.substr(0, 300);
  EXPECT_EQ(r.Json()["points"].size(), 100u);
}

// Many queries with a large k: refused on what they ask for, before any search.
TEST_F(ResponseLimitServerTest, SearchBatchAskingTooMuchIsRefusedBeforeSearching) {
  Fill("docs", 2, 1000, 0);
  const std::vector<std::vector<float>> queries(100, std::vector<float>{1, 1});
  HttpResponse r = Post("/v1/collections/docs/search_batch", {{"vectors", queries}, {"k", 1000}});
  ExpectRefused(r, "100 queries of k 1000", "ask for a smaller \"k\" or fewer queries");
  r = Post("/v1/collections/docs/search_batch", {{"vectors", queries}, {"k", 3}});
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 300);
  EXPECT_EQ(r.Json()["results"].size(), 100u);
}

// Vectors count at least two bytes a number: 100 hits of 1,000 dimensions pass 64 KiB.
TEST_F(ResponseLimitServerTest, VectorsAskedForCount) {
  Fill("wide", 1000, 100, 0);
  const std::vector<float> query(1000, 1.0f);
  HttpResponse r =
      Post("/v1/collections/wide/search", {{"vector", query}, {"k", 100}, {"with_vectors", true}});
  ExpectRefused(r, "1 query of k 100", "\"with_vectors\"");
  r = Post("/v1/collections/wide/search", {{"vector", query}, {"k", 100}});
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 300);
  EXPECT_EQ(r.Json()["hits"].size(), 100u);

  r = Post("/v1/collections/wide/scroll", {{"limit", 100}, {"with_vectors", true}});
  ExpectRefused(r, "a page of 100 points", "ask for a smaller \"limit\"");
  r = Post("/v1/collections/wide/scroll", {{"limit", 5}, {"with_vectors", true}});
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 300);
  EXPECT_EQ(r.Json()["points"].size(), 5u);
}

// Large metadata cannot be told before the engine answers: the body is refused as it passes
// the limit.
TEST_F(ResponseLimitServerTest, LargeMetadataIsRefusedWhileBuilding) {
  Fill("docs", 2, 20, 5000);
  HttpResponse r = Post("/v1/collections/docs/search", {{"vector", {1, 1}}, {"k", 20}});
  ExpectRefused(r, "the answer", "\"with_metadata\" false");
  r = Post("/v1/collections/docs/search", {{"vector", {1, 1}}, {"k", 10}});
  EXPECT_EQ(r.status, 200) << r.body.substr(0, 300);
  r = Post("/v1/collections/docs/search_batch", {{"vectors", {{1, 1}, {2, 2}}}, {"k", 10}});
  ExpectRefused(r, "the answer", "fewer queries");
  r = Post("/v1/collections/docs/scroll", {{"limit", 20}});
  ExpectRefused(r, "the answer", "\"after\"");
  r = Post("/v1/collections/docs/scroll", {{"limit", 20}, {"with_metadata", false}});
  EXPECT_EQ(r.status, 200) << r.body.substr(0, 300);
  r = Post("/v1/collections/docs/get", {{"ids",
                                         {"p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9",
                                          "p10", "p11", "p12", "p13", "p14", "p15"}}});
  ExpectRefused(r, "the answer", "ask for fewer ids");
  // Far past the limit, the engine refuses before it copies it all: it holds at most twice
  // the limit for one request (the answer's text would take at least half its bytes).
  Fill("huge", 2, 30, 5000, "h");
  for (const char* path : {"/v1/collections/huge/search", "/collections/huge/points/query"}) {
    const bool qdrant = path[1] == 'c';
    r = Post(path, qdrant ? json{{"query", {1, 1}}, {"limit", 30}, {"with_payload", true}}
                          : json{{"vector", {1, 1}}, {"k", 30}});
    EXPECT_EQ(r.status, 400) << r.body.substr(0, 300);
    EXPECT_THAT(r.body, HasSubstr("more than 131072 bytes of ids, metadata and vectors"));
    EXPECT_THAT(r.body, HasSubstr("max_response_bytes"));
  }
}

// The Qdrant face: retrieve gives each point once (as Qdrant), and every answer listing
// points is bounded, while its tree is built and once more on its text.
TEST_F(ResponseLimitServerTest, QdrantAnswersAreBounded) {
  Fill("docs", 2, 20, 5000, "");
  const std::string c = "/collections/docs/points";
  HttpResponse r = Post(c, {{"ids", {1, 1, 2, 1}}});
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 300);
  ASSERT_EQ(r.Json()["result"].size(), 2u);
  EXPECT_EQ(r.Json()["result"][0]["id"], 1);
  EXPECT_EQ(r.Json()["result"][1]["id"], 2);
  r = Post(c, {{"ids", std::vector<int>(300, 1)}});
  EXPECT_EQ(r.status, 200) << r.body.substr(0, 300);

  std::vector<int> all(20);
  for (int i = 0; i < 20; ++i) all[i] = i;
  ExpectQdrantRefused(Post(c, {{"ids", all}}), "the answer");
  EXPECT_EQ(Post(c, {{"ids", all}, {"with_payload", false}}).status, 200);
  // A selection of keys is not counted while the tree is built: the text is checked.
  ExpectQdrantRefused(Post(c, {{"ids", all}, {"with_payload", {"text"}}}), "the answer");

  ExpectQdrantRefused(Post(c + "/scroll", {{"limit", 20}}), "the answer");
  EXPECT_EQ(Post(c + "/scroll", {{"limit", 5}}).status, 200);
  ExpectQdrantRefused(
      Post(c + "/query", {{"query", {1, 1}}, {"limit", 20}, {"with_payload", true}}), "the answer");
  EXPECT_EQ(Post(c + "/query", {{"query", {1, 1}}, {"limit", 5}, {"with_payload", true}}).status,
            200);
  // Five points of each of three searches: the budget is the batch's.
  const json search = {{"query", {1, 1}}, {"limit", 5}, {"with_payload", true}};
  ExpectQdrantRefused(Post(c + "/query/batch", {{"searches", {search, search, search}}}),
                      "the answer");

  // Vectors asked for: refused before the engine runs.
  Fill("wide", 1000, 100, 0, "");
  const std::string w = "/collections/wide/points";
  ExpectQdrantRefused(Post(w + "/scroll", {{"limit", 100}, {"with_vector", true}}),
                      "a page of 100 points");
  ExpectQdrantRefused(
      Post(w + "/query",
           {{"query", std::vector<float>(1000, 1.0f)}, {"limit", 100}, {"with_vector", true}}),
      "1 query of up to 100 points in all");
  EXPECT_EQ(Post(w + "/query", {{"query", std::vector<float>(1000, 1.0f)}, {"limit", 100}}).status,
            200);
}

// A batch of more than max_limit hits goes to the engine in parts: the same answers, and a
// bad query named by its place in the whole batch.
TEST(ResponseLimitBatchTest, LargeBatchesAreSearchedInParts) {
  ServerOptions options;
  options.max_limit = 100;
  TestServer server(options);
  ASSERT_NO_FATAL_FAILURE(server.Start());
  Connection c(server.port());
  auto col = server.db().CreateCollection("docs", 2, Metric::kL2);
  ASSERT_TRUE(col.ok()) << col.status().ToString();
  std::vector<Point> points;
  for (int i = 0; i < 500; ++i) {
    points.push_back(Point{"p" + std::to_string(i),
                           {static_cast<float>(i % 23), static_cast<float>(i % 17)},
                           "{\"i\":" + std::to_string(i) + "}"});
  }
  ASSERT_TRUE((*col)->Upsert(points).ok());
  std::vector<std::vector<float>> queries;
  for (int q = 0; q < 7; ++q) queries.push_back({static_cast<float>(q), 1.5f});
  // k 40: max_limit 100 hits make parts of two queries.
  HttpResponse r = c.Call("POST", "/v1/collections/docs/search_batch",
                          json({{"vectors", queries}, {"k", 40}}).dump());
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 300);
  const json results = r.Json()["results"];
  ASSERT_EQ(results.size(), queries.size());
  for (size_t q = 0; q < queries.size(); ++q) {
    const HttpResponse one = c.Call("POST", "/v1/collections/docs/search",
                                    json({{"vector", queries[q]}, {"k", 40}}).dump());
    ASSERT_EQ(one.status, 200) << one.body.substr(0, 300);
    EXPECT_EQ(results[q], one.Json()["hits"]) << "query " << q;
  }

  std::vector<float> flat;
  for (const auto& q : queries) flat.insert(flat.end(), q.begin(), q.end());
  flat[5 * 2 + 1] = std::numeric_limits<float>::quiet_NaN();  // query 5, in the third part
  const std::string whole_batch_message = [&] {
    auto direct = (*col)->SearchBatch(flat, SearchOptions{});
    return direct.ok() ? std::string() : direct.status().message();
  }();
  EXPECT_THAT(whole_batch_message, HasSubstr("query 5"));
  r = c.Call("POST", "/v1/collections/docs/search_batch",
             json({{"vectors_f32", Base64Floats(flat)}, {"dim", 2}, {"k", 40}}).dump());
  EXPECT_EQ(r.status, 400) << r.body.substr(0, 300);
  EXPECT_EQ(r.Json()["error"].value("message", ""), whole_batch_message);
}

}  // namespace
}  // namespace nearstore::server
