// The Qdrant-compatible face (qdrant_api.cc, qdrant_request.h) through its routes, without a
// socket: every wrong type and every unknown or unhonoured field is a 400 in Qdrant's error
// shape naming the field (no exception escapes a handler), the fields Qdrant's clients send
// routinely are accepted, the unnamed vector may be named "", integers are checked at their
// full width, and the batch limits hold. Also the payload selectors and MMR of qdrant_compat.h
// against references written out here.
#include "server/qdrant_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "nearstore/database.h"
#include "server/qdrant_compat.h"
#include "server/router.h"

namespace nearstore::server {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

class QdrantApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::OpenInMemory();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    AddQdrantRoutes(db_.get(), options_, &router_);
    Ok(Method::kPut, "/collections/c", R"({"vectors": {"size": 3, "distance": "Cosine"}})");
    json points = json::array();
    for (int i = 0; i < 30; ++i) {
      points.push_back({{"id", i},
                        {"vector", {1.0 + i % 3, 0.5 * (i % 5), 0.25 * (i % 7)}},
                        {"payload", {{"n", i}, {"tag", i % 2 ? "odd" : "even"}}}});
    }
    Ok(Method::kPut, "/collections/c/points", json{{"points", points}}.dump());
  }
  void TearDown() override { EXPECT_TRUE(db_->Close().ok()); }

  // Calls the route for `method` and `target` (a path, maybe with ?query) with `body`; no
  // exception may come out of the handler.
  Response Call(Method method, const std::string& target, const std::string& body) {
    const size_t q = target.find('?');
    Request r;
    r.method = method;
    r.path = target.substr(0, q);
    r.query = q == std::string::npos ? "" : target.substr(q + 1);
    r.body = body;
    const Router::Match m = router_.Find(method, r.path);
    EXPECT_NE(m.route, nullptr) << target;
    if (m.route == nullptr) return Response{404, "", ""};
    r.params = m.params;
    Response out;
    EXPECT_NO_THROW(out = m.route->handler(r)) << target << " " << body;
    return out;
  }

  // The answer's "result", after checking it is a 200 in Qdrant's envelope.
  json Ok(Method method, const std::string& target, const std::string& body) {
    const Response r = Call(method, target, body);
    EXPECT_EQ(r.status, 200u) << target << " " << body << " -> " << r.body;
    const json doc = json::parse(r.body, nullptr, false);
    EXPECT_EQ(doc.value("status", json()), "ok") << r.body;
    return doc.value("result", json());
  }

  // The error message, after checking the answer is a 400 in Qdrant's error shape.
  std::string Refused(Method method, const std::string& target, const std::string& body) {
    const Response r = Call(method, target, body);
    EXPECT_EQ(r.status, 400u) << target << " " << body << " -> " << r.body;
    const json doc = json::parse(r.body, nullptr, false);
    const bool shaped = doc.is_object() && doc.contains("status") && doc["status"].is_object() &&
                        doc["status"].contains("error") && doc["status"]["error"].is_string() &&
                        doc.contains("time");
    EXPECT_TRUE(shaped) << target << " " << body << " -> " << r.body;
    return shaped ? doc["status"]["error"].get<std::string>() : "";
  }

  std::vector<json> Ids(const json& points) {
    std::vector<json> ids;
    for (const auto& p : points) ids.push_back(p["id"]);
    return ids;
  }

  ServerOptions options_;
  std::unique_ptr<Database> db_;
  Router router_;
};

constexpr Method kGet = Method::kGet, kPost = Method::kPost, kPut = Method::kPut,
                 kDelete = Method::kDelete;

// A body of one route and the field its error must name.
struct Bad {
  Method method;
  const char* path;
  const char* body;
  const char* names;
};

TEST_F(QdrantApiTest, WrongTypesAreRefusedWith400InQdrantShape) {
  const Bad cases[] = {
      {kPost, "/collections/c/points/query", R"({"query": [1, 0, 0], "limit": "two"})", "limit"},
      {kPost, "/collections/c/points/query", R"({"query": [1, 0, 0], "limit": -1})", "limit"},
      {kPost, "/collections/c/points/query", R"({"query": [1, 0, 0], "limit": 2.5})", "limit"},
      {kPost, "/collections/c/points/query", R"({"query": [1, 0, 0], "offset": "1"})", "offset"},
      {kPost, "/collections/c/points/query", R"({"query": [1, 0, 0], "params": {"hnsw_ef": "x"}})",
       "params.hnsw_ef"},
      {kPost, "/collections/c/points/query", R"({"query": [1, 0, 0], "params": 5})", "params"},
      {kPost, "/collections/c/points/query", R"({"query": [1, 0, 0], "score_threshold": "nan"})",
       "score_threshold"},
      {kPost, "/collections/c/points/query", R"({"query": [1, 0, 0], "with_payload": "yes"})",
       "with_payload"},
      {kPost, "/collections/c/points/query", R"({"query": [1, 0, 0], "with_payload": [1]})",
       "with_payload[0]"},
      {kPost, "/collections/c/points/query", R"({"query": [1, 0, 0], "with_vector": "yes"})",
       "with_vector"},
      {kPost, "/collections/c/points/query", R"({"query": [1, 0, 0], "filter": "x"})", "filter"},
      {kPost, "/collections/c/points/query", R"({"query": true})", "query"},
      {kPost, "/collections/c/points/query",
       R"({"query": {"nearest": [1, 0, 0], "mmr": {"diversity": "high"}}})", "query.mmr.diversity"},
      {kPost, "/collections/c/points/query",
       R"({"query": {"nearest": [1, 0, 0], "mmr": {"diversity": 1.5}}})", "query.mmr.diversity"},
      {kPost, "/collections/c/points/query/batch", R"({"searches": {}})", "searches"},
      {kPost, "/collections/c/points/query/batch",
       R"({"searches": [{"query": [1, 0, 0], "limit": "x"}]})", "searches[0].limit"},
      {kPost, "/collections/c/points/scroll", R"({"limit": "x"})", "limit"},
      {kPost, "/collections/c/points/scroll", R"({"with_payload": 3})", "with_payload"},
      {kPost, "/collections/c/points/scroll", R"({"offset": -1})", "offset"},
      {kPost, "/collections/c/points/count", R"({"exact": "yes"})", "exact"},
      {kPost, "/collections/c/points", R"({"ids": "x"})", "ids"},
      {kPost, "/collections/c/points", R"({"ids": [1], "with_vector": 1})", "with_vector"},
      {kPut, "/collections/c/points", R"({"points": "x"})", "points"},
      {kPut, "/collections/c/points",
       R"({"points": [{"id": 1, "vector": [1, 0, 0], "payload": "x"}]})", "points[0].payload"},
      {kPut, "/collections/c/points",
       R"({"batch": {"ids": [1], "vectors": [[1, 0, 0]], "payloads": "x"}})", "batch.payloads"},
      {kPost, "/collections/c/points/delete", R"({"points": "x"})", "points"},
      {kPost, "/collections/c/points/payload", R"({"payload": 1, "points": [1]})", "payload"},
      {kPost, "/collections/c/points/payload/delete", R"({"keys": [1], "points": [1]})", "keys[0]"},
      {kPut, "/collections/d", R"({"vectors": {"size": "3", "distance": "Cosine"}})",
       "vectors.size"},
      {kPut, "/collections/d",
       R"({"vectors": {"size": 3, "distance": "Cosine"}, "hnsw_config": {"m": "x"}})",
       "hnsw_config.m"},
      {kPut, "/collections/d",
       R"({"vectors": {"size": 3, "distance": "Cosine"}, "shard_number": "1"})", "shard_number"},
      {kPut, "/collections/c/index", R"({"field_name": 1})", "field_name"},
      {kPut, "/collections/c/index", R"({"field_name": "n", "field_schema": 3})", "field_schema"},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(Refused(c.method, c.path, c.body), HasSubstr(std::string("'") + c.names + "'"))
        << c.path << " " << c.body;
  }
}

TEST_F(QdrantApiTest, UnknownFieldsAreRefusedByName) {
  const Bad cases[] = {
      {kPost, "/collections/c/points/query", R"({"query": [1, 0, 0], "limmit": 3})", "limmit"},
      {kPost, "/collections/c/points/query", R"({"query": [1, 0, 0], "params": {"ef": 3}})",
       "params.ef"},
      {kPost, "/collections/c/points/scroll", R"({"page": 1})", "page"},
      {kPost, "/collections/c/points/count", R"({"filters": {}})", "filters"},
      {kPost, "/collections/c/points", R"({"ids": [1], "payload": true})", "payload"},
      {kPut, "/collections/c/points", R"({"points": [{"id": 1, "vector": [1, 0, 0], "meta": {}}]})",
       "points[0].meta"},
      {kPut, "/collections/c/points", R"({"batch": {"ids": [1], "vectors": [[1, 0, 0]], "x": 1}})",
       "batch.x"},
      {kPost, "/collections/c/points/delete", R"({"points": [1], "wait": true})", "wait"},
      {kPost, "/collections/c/points/payload", R"({"payload": {}, "points": [1], "x": 1})", "x"},
      {kPut, "/collections/d",
       R"({"vectors": {"size": 3, "distance": "Cosine"}, "sparse_vectors_config": {}})",
       "sparse_vectors_config"},
      {kPut, "/collections/d", R"({"vectors": {"size": 3, "distance": "Cosine", "dims": 3}})",
       "vectors.dims"},
      {kPut, "/collections/c/index", R"({"field_name": "n", "type": "keyword"})", "type"},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(Refused(c.method, c.path, c.body),
                HasSubstr(std::string("unknown field '") + c.names + "'"))
        << c.path << " " << c.body;
  }
}

TEST_F(QdrantApiTest, UnsupportedPartsAreRefusedByName) {
  const Bad cases[] = {
      {kPut, "/collections/d",
       R"({"vectors": {"size": 3, "distance": "Cosine"}, "sparse_vectors": {"s": {}}})",
       "sparse_vectors"},
      {kPut, "/collections/d", R"({"vectors": {"a": {"size": 3, "distance": "Cosine"}}})",
       "named vectors are not supported"},
      {kPut, "/collections/d",
       R"({"vectors": {"size": 3, "distance": "Cosine"}, "shard_number": 2})", "shard_number"},
      {kPut, "/collections/d",
       R"({"vectors": {"size": 3, "distance": "Cosine", "datatype": "uint8"}})",
       "vectors.datatype"},
      {kPut, "/collections/d",
       R"({"vectors": {"size": 3, "distance": "Cosine"}, "quantization_config": {"product": {}}})",
       "product"},
      {kPost, "/collections/c/points/query",
       R"({"query": [1, 0, 0], "prefetch": [{"query": [1, 0, 0]}]})", "prefetch"},
      {kPost, "/collections/c/points/query", R"({"query": [1, 0, 0], "using": "image"})",
       "'using' names the vector \"image\""},
      {kPost, "/collections/c/points/query", R"({"query": [1, 0, 0], "shard_key": "a"})",
       "shard_key"},
      {kPost, "/collections/c/points/query", R"({"query": [1, 0, 0], "params": {"exact": true}})",
       "params.exact"},
      {kPost, "/collections/c/points/query",
       R"({"query": 1, "lookup_from": {"collection": "other"}})", "lookup_from.collection"},
      {kPost, "/collections/c/points/query", R"({"query": {"recommend": {"positive": [1]}}})",
       "'query.recommend' is not supported"},
      {kPost, "/collections/c/points/query", R"({"query": {"indices": [1], "values": [1.0]}})",
       "sparse"},
      {kPost, "/collections/c/points/scroll", R"({"order_by": "n"})", "order_by"},
      {kPut, "/collections/c/points", R"({"points": [{"id": 1, "vector": {"image": [1, 0, 0]}}]})",
       "named vectors are not supported"},
      {kPut, "/collections/c/points",
       R"({"points": [{"id": 1, "vector": [1, 0, 0]}], "update_mode": "insert_only"})",
       "update_mode"},
      {kPost, "/collections/c/points/payload",
       R"({"payload": {"a": 1}, "points": [1], "key": "x"})", "'key'"},
      {kPut, "/collections/c/index",
       R"({"field_name": "n", "field_schema": {"type": "keyword", "is_tenant": true}})",
       "field_schema.is_tenant"},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(Refused(c.method, c.path, c.body), HasSubstr(c.names)) << c.path << " " << c.body;
  }
}

// What qdrant-client (1.19, 1.20), langchain-qdrant and llama-index's Qdrant store send,
// recorded from their requests, with the defaults they may spell out.
TEST_F(QdrantApiTest, WhatQdrantClientsSendIsAccepted) {
  Ok(kPut, "/collections/lc",
     R"({"vectors": {"": {"size": 3, "distance": "Cosine"}}, "sparse_vectors": {}})");
  Ok(kPut, "/collections/d?timeout=30",
     R"({"vectors": {"size": 3, "distance": "Dot", "on_disk": false, "datatype": "float32",
         "hnsw_config": {"m": 8}}, "shard_number": 1, "replication_factor": 1,
         "write_consistency_factor": 1, "on_disk_payload": true, "sharding_method": "auto",
         "hnsw_config": {"ef_construct": 64, "full_scan_threshold": 10000},
         "optimizers_config": {}, "wal_config": {}, "strict_mode_config": {"enabled": false},
         "quantization_config": {"scalar": {"type": "int8", "always_ram": true}}})");
  const json info = Ok(kGet, "/collections/d", "");
  EXPECT_EQ(info["config"]["hnsw_config"]["m"], 8);  // the vector's own settings win
  EXPECT_EQ(info["config"]["hnsw_config"]["ef_construct"], 64);
  EXPECT_EQ(info["config"]["quantization_config"], json::parse(R"({"scalar": {"type": "int8"}})"));

  Ok(kPut, "/collections/lc/points?wait=true",
     R"({"points": [{"id": 1, "vector": {"": [1, 0, 0]}, "payload": {"page_content": "a"}},
                    {"id": "00000000-0000-0000-0000-000000000002", "vector": {"": [0, 1, 0]}}],
         "shard_key": null, "update_filter": null, "update_mode": "upsert"})");
  Ok(kPut, "/collections/lc/points?wait=false&ordering=strong",
     R"({"batch": {"ids": [3, 4], "vectors": {"": [[0, 0, 1], [1, 1, 0]]}, "payloads": null}})");
  const json hits = Ok(kPost, "/collections/lc/points/query?consistency=majority&timeout=5",
                       R"({"query": {"nearest": [1, 0.1, 0]}, "using": "", "limit": 2,
                           "offset": 0, "with_payload": true, "with_vector": false,
                           "params": {"hnsw_ef": 32, "exact": false, "indexed_only": false,
                                      "quantization": {"ignore": false, "rescore": true,
                                                       "oversampling": 2.0}},
                           "score_threshold": null, "prefetch": [], "shard_key": null,
                           "filter": null})");
  EXPECT_EQ(Ids(hits["points"]), (std::vector<json>{1, 4}));
  EXPECT_EQ(hits["points"][0]["payload"], json::parse(R"({"page_content": "a"})"));
  const json by_id = Ok(kPost, "/collections/lc/points/query",
                        R"({"query": {"nearest": 1}, "lookup_from": {"collection": "lc",
                            "vector": ""}, "limit": 1, "with_vector": [""]})");
  EXPECT_EQ(Ids(by_id["points"]), (std::vector<json>{4}));
  EXPECT_EQ(by_id["points"][0]["vector"].size(), 3u);
  const json got = Ok(kPost, "/collections/lc/points",
                      R"({"ids": [1, "00000000-0000-0000-0000-000000000002"],
                          "with_payload": true, "with_vector": [""], "shard_key": null})");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1]["id"], "00000000-0000-0000-0000-000000000002");
  EXPECT_EQ(got[1]["vector"], json::parse("[0.0, 1.0, 0.0]"));
  Ok(kPut, "/collections/lc/points/vectors?wait=true",
     R"({"points": [{"id": 3, "vector": {"": [0, 0, 2]}}]})");
  EXPECT_EQ(Ok(kGet, "/collections/lc/points/3", "")["vector"], json::parse("[0.0, 0.0, 1.0]"));
  EXPECT_EQ(Ok(kPost, "/collections/lc/points/count", R"({"exact": false})")["count"], 4);
  Ok(kPost, "/collections/lc/points/delete?wait=true", R"({"points": [1], "shard_key": null})");
  EXPECT_EQ(Ok(kPost, "/collections/lc/points/count", R"({"exact": true})")["count"], 3);
  Ok(kPut, "/collections/lc/index?wait=true",
     R"({"field_name": "doc_id", "field_schema": {"type": "keyword", "is_tenant": false}})");
  Ok(kDelete, "/collections/lc/index/doc_id?wait=true", "");
  Ok(kDelete, "/collections/lc?timeout=10", "");
}

TEST_F(QdrantApiTest, QueryParametersAreChecked) {
  EXPECT_THAT(Refused(kPost, "/collections/c/points/query?limit=3", R"({"query": [1, 0, 0]})"),
              HasSubstr("unknown query parameter 'limit'"));
  EXPECT_THAT(Refused(kPut, "/collections/c/points?wait=maybe",
                      R"({"points": [{"id": 1, "vector": [1, 0, 0]}]})"),
              HasSubstr("'wait' must be true or false"));
  EXPECT_THAT(Refused(kPost, "/collections/c/points/count?wait=true", "{}"),
              HasSubstr("unknown query parameter 'wait'"));
  EXPECT_THAT(Refused(kPost, "/collections/c/points/count?timeout=0", "{}"),
              HasSubstr("'timeout'"));
  EXPECT_THAT(Refused(kPost, "/collections/c/points/count?consistency=most", "{}"),
              HasSubstr("'consistency'"));
  Ok(kPost, "/collections/c/points/count?consistency=2&timeout=1", "{}");
}

TEST_F(QdrantApiTest, IntegersAreCheckedAtFullWidth) {
  // 2^64 - 1 + 10 wraps to 9 in 64 bits: the sum must not be what is checked.
  EXPECT_THAT(Refused(kPost, "/collections/c/points/query",
                      R"({"query": [1, 0, 0], "limit": 10, "offset": 18446744073709551615})"),
              HasSubstr("'offset'"));
  EXPECT_THAT(Refused(kPost, "/collections/c/points/query",
                      R"({"query": [1, 0, 0], "limit": 18446744073709551615})"),
              HasSubstr("'limit'"));
  EXPECT_THAT(Refused(kPost, "/collections/c/points/query",
                      R"({"query": [1, 0, 0], "limit": 10, "offset": 18446744073709551616})"),
              HasSubstr("'offset'"));
  EXPECT_THAT(Refused(kPost, "/collections/c/points/query",
                      R"({"query": [1, 0, 0], "limit": 60000, "offset": 50000})"),
              HasSubstr("max_limit"));
  EXPECT_THAT(Refused(kPost, "/collections/c/points/query",
                      R"({"query": [1, 0, 0], "params": {"hnsw_ef": 4294967297}})"),
              HasSubstr("'params.hnsw_ef'"));
  EXPECT_THAT(Refused(kPost, "/collections/c/points/scroll", R"({"limit": 4294967306})"),
              HasSubstr("'limit'"));
  EXPECT_THAT(
      Refused(kPut, "/collections/d", R"({"vectors": {"size": 4294967299, "distance": "Cosine"}})"),
      HasSubstr("'vectors.size'"));
  EXPECT_THAT(Refused(kPut, "/collections/d", R"({"vectors": {"size": 3, "distance": "Cosine"},
                                                  "hnsw_config": {"m": 4294967312}})"),
              HasSubstr("'hnsw_config.m'"));
}

TEST_F(QdrantApiTest, BatchLimitsHoldForEveryListOfIds) {
  json ids = json::array();
  for (uint32_t i = 0; i <= options_.max_batch_points; ++i) ids.push_back(i);
  const std::string over = std::to_string(options_.max_batch_points + 1) + " entries";
  EXPECT_THAT(Refused(kPost, "/collections/c/points/delete", json{{"points", ids}}.dump()),
              HasSubstr(over));
  EXPECT_THAT(Refused(kPost, "/collections/c/points", json{{"ids", ids}}.dump()), HasSubstr(over));
  EXPECT_THAT(Refused(kPost, "/collections/c/points/payload",
                      json{{"payload", json::object()}, {"points", ids}}.dump()),
              HasSubstr(over));
  EXPECT_EQ(Ok(kPost, "/collections/c/points/count", "{}")["count"], 30);  // nothing deleted
}

TEST_F(QdrantApiTest, ScrollPagesAreTenPointsByDefault) {
  for (const char* body : {"", "{}", R"({"limit": null})"}) {
    const json page = Ok(kPost, "/collections/c/points/scroll", body);
    EXPECT_EQ(page["points"].size(), 10u) << body;
    EXPECT_FALSE(page["next_page_offset"].is_null()) << body;
  }
}

TEST_F(QdrantApiTest, PayloadSelectorsAndDottedDeletes) {
  Ok(kPost, "/collections/c/points/payload",
     R"({"payload": {"meta": {"lang": "fr", "year": 2020}}, "points": [4]})");
  const json include = Ok(kPost, "/collections/c/points",
                          R"({"ids": [4], "with_payload": {"include": ["n", "meta.lang"]}})");
  EXPECT_EQ(include[0]["payload"], json::parse(R"({"n": 4, "meta": {"lang": "fr"}})"));
  const json exclude = Ok(kPost, "/collections/c/points",
                          R"({"ids": [4], "with_payload": {"exclude": ["tag", "meta.year"]}})");
  EXPECT_EQ(exclude[0]["payload"], json::parse(R"({"n": 4, "meta": {"lang": "fr"}})"));
  // Paths into arrays (a[].b, a[0]) are not followed: refused, not silently matched by nothing.
  EXPECT_THAT(Refused(kPost, "/collections/c/points",
                      R"({"ids": [4], "with_payload": {"include": ["tags[].a"]}})"),
              HasSubstr("'with_payload.include[0]' = \"tags[].a\""));
  EXPECT_THAT(Refused(kPost, "/collections/c/points/payload/delete",
                      R"({"keys": ["n", "meta[0]"], "points": [4]})"),
              HasSubstr("'keys[1]'"));
  Ok(kPost, "/collections/c/points/payload/delete", R"({"keys": ["meta.lang"], "points": [4]})");
  EXPECT_EQ(Ok(kGet, "/collections/c/points/4", "")["payload"],
            json::parse(R"({"n": 4, "tag": "even", "meta": {"year": 2020}})"));
}

// ---------------------------------------------------------------------------------------------
// MMR against a reference that builds the whole similarity matrix first.

std::vector<size_t> ReferenceMmr(Metric metric, const std::vector<float>& q,
                                 const std::vector<std::vector<float>>& c, double lambda,
                                 size_t n) {
  auto sim = [&](const std::vector<float>& a, const std::vector<float>& b) {
    double dot = 0, na = 0, nb = 0, sq = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      dot += double{a[i]} * b[i];
      na += double{a[i]} * a[i];
      nb += double{b[i]} * b[i];
      sq += (double{a[i]} - b[i]) * (double{a[i]} - b[i]);
    }
    return metric == Metric::kCosine ? dot / std::sqrt(na * nb)
           : metric == Metric::kDot  ? dot
                                     : -sq;
  };
  std::vector<std::vector<double>> matrix(c.size(), std::vector<double>(c.size()));
  for (size_t i = 0; i < c.size(); ++i) {
    for (size_t j = 0; j < c.size(); ++j) matrix[i][j] = sim(c[i], c[j]);
  }
  std::vector<size_t> picked;
  std::vector<bool> taken(c.size());
  while (picked.size() < std::min(n, c.size())) {
    size_t best = 0;
    double best_score = -INFINITY;
    bool found = false;
    for (size_t i = 0; i < c.size(); ++i) {
      if (taken[i]) continue;
      double closest = -INFINITY;
      for (size_t j : picked) closest = std::max(closest, matrix[i][j]);
      const double s =
          picked.empty() ? sim(q, c[i]) : lambda * sim(q, c[i]) - (1 - lambda) * closest;
      if (!found || s > best_score) {
        best = i;
        best_score = s;
        found = true;
      }
    }
    taken[best] = true;
    picked.push_back(best);
  }
  return picked;
}

TEST(MaximalMarginalRelevanceTest, MatchesTheReference) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  for (Metric metric : {Metric::kCosine, Metric::kDot, Metric::kL2}) {
    for (double lambda : {0.0, 0.3, 0.5, 1.0}) {
      std::vector<std::vector<float>> c(40, std::vector<float>(6));
      for (auto& v : c) {
        for (auto& x : v) x = normal(rng);
      }
      std::vector<float> q(6);
      for (auto& x : q) x = normal(rng);
      std::vector<std::span<const float>> spans(c.begin(), c.end());
      EXPECT_EQ(qdrant::MaximalMarginalRelevance(metric, q, spans, lambda, 12),
                ReferenceMmr(metric, q, c, lambda, 12))
          << MetricName(metric) << " " << lambda;
    }
  }
  // Relevance only (lambda 1): the candidates by similarity to the query.
  const std::vector<std::vector<float>> line = {{1, 0}, {3, 0}, {2, 0}};
  std::vector<std::span<const float>> spans(line.begin(), line.end());
  EXPECT_EQ(qdrant::MaximalMarginalRelevance(Metric::kL2, std::vector<float>{2.2f, 0}, spans, 1, 3),
            (std::vector<size_t>{2, 1, 0}));
  EXPECT_TRUE(
      qdrant::MaximalMarginalRelevance(Metric::kL2, std::vector<float>{0, 0}, {}, 1, 3).empty());
}

TEST_F(QdrantApiTest, MmrQueriesPickFromTheCandidates) {
  // Diversity 0 is plain relevance: the nearest points in order.
  const json nearest =
      Ok(kPost, "/collections/c/points/query", R"({"query": [1, 0.2, 0.1], "limit": 5})");
  const json relevance =
      Ok(kPost, "/collections/c/points/query",
         R"({"query": {"nearest": [1, 0.2, 0.1], "mmr": {"diversity": 0, "candidates_limit": 20}},
             "limit": 5})");
  EXPECT_EQ(Ids(relevance["points"]), Ids(nearest["points"]));
  // Points come back with their query scores and from the candidates only.
  const json candidates = Ok(kPost, "/collections/c/points/query",
                             R"({"query": [1, 0.2, 0.1], "limit": 8, "with_vector": true})");
  const json diverse =
      Ok(kPost, "/collections/c/points/query",
         R"({"query": {"nearest": [1, 0.2, 0.1], "mmr": {"diversity": 0.9, "candidates_limit": 8}},
             "limit": 4})");
  ASSERT_EQ(diverse["points"].size(), 4u);
  std::vector<std::vector<float>> vectors;
  for (const auto& p : candidates["points"]) vectors.push_back(p["vector"]);
  const auto want = ReferenceMmr(Metric::kCosine, {1, 0.2f, 0.1f}, vectors, 0.1, 4);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(diverse["points"][i]["id"], candidates["points"][want[i]]["id"]);
    EXPECT_EQ(diverse["points"][i]["score"], candidates["points"][want[i]]["score"]);
  }
  EXPECT_THAT(Refused(kPost, "/collections/c/points/query",
                      R"({"query": {"nearest": [1, 0, 0], "mmr": {"candidates_limit": 100000}},
                          "limit": 100000})"),
              HasSubstr("too much work"));
}

}  // namespace
}  // namespace nearstore::server
