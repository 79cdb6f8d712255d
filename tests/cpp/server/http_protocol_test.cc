// HTTP/1.1 details of the server, spoken to over raw sockets: Expect: 100-continue, bodies in
// an encoding the server does not read, and the timeouts of each phase (a slow client that
// trickles its headers is cut off by request_timeout_ms, a quiet keep-alive connection only by
// idle_timeout_ms).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "http_test_util.h"

namespace nearstore::server {
namespace {

using namespace http_test;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

const char kKey[] = "a-read-write-key-0123456789";
const std::string kBody = R"({"name": "docs", "dim": 2})";

std::string Head(const std::string& headers, size_t length = kBody.size()) {
  return "POST /v1/collections HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n" +
         std::string("api-key: ") + kKey + "\r\nContent-Length: " + std::to_string(length) +
         "\r\n" + headers + "\r\n";
}

class HttpProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }

  void Start(ServerOptions options) {
    options.api_keys = {ApiKey{kKey, Access::kReadWrite, {}}};
    options.max_body_bytes = 4096;
    server_ = std::make_unique<TestServer>(options);
    ASSERT_NO_FATAL_FAILURE(server_->Start());
  }

  std::unique_ptr<TestServer> server_;
};

// The client waits for 100 Continue before it sends the body (curl waited a second for it).
TEST_F(HttpProtocolTest, ExpectContinueIsAnswered) {
  Connection c(server_->port());
  ASSERT_TRUE(c.Send(Head("Expect: 100-continue\r\n")));
  const auto start = std::chrono::steady_clock::now();
  HttpResponse r = c.Read();
  EXPECT_EQ(r.status, 100);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  ASSERT_TRUE(c.Send(kBody));
  r = c.Read();
  EXPECT_EQ(r.status, 201) << r.body;
  // The connection goes on: a second request, without the expectation.
  r = c.Call("GET", "/v1/collections/docs", "", std::string("api-key: ") + kKey + "\r\n");
  EXPECT_EQ(r.status, 200) << r.body;
}

// A request judged on its headers gets its final answer instead of 100 Continue.
TEST_F(HttpProtocolTest, ExpectContinueGetsTheFinalAnswerWhenRefused) {
  {
    Connection c(server_->port());
    std::string head = Head("Expect: 100-continue\r\n");
    head.replace(head.find(kKey), sizeof(kKey) - 1, "not-the-key-0123456789");
    ASSERT_TRUE(c.Send(head));
    EXPECT_EQ(c.Read().status, 401);
  }
  {
    Connection c(server_->port());
    ASSERT_TRUE(c.Send(Head("Expect: 100-continue\r\n", 5000)));
    EXPECT_EQ(c.Read().status, 413);
  }
  {
    Connection c(server_->port());
    ASSERT_TRUE(c.Send(Head("Expect: 100-continue\r\nContent-Encoding: gzip\r\n")));
    EXPECT_EQ(c.Read().status, 415);
  }
  {
    Connection c(server_->port());
    ASSERT_TRUE(c.Send(Head("Expect: something-else\r\n")));
    const HttpResponse r = c.Read();
    EXPECT_EQ(r.status, 417);
    EXPECT_EQ(r.ErrorCode(), "ExpectationFailed");
    EXPECT_THAT(r.body, HasSubstr("expected only 100-continue"));
  }
  // A body sent along with the expectation is read without waiting for anything.
  Connection c(server_->port());
  ASSERT_TRUE(c.Send(Head("Expect: 100-continue\r\n") + kBody));
  HttpResponse r = c.Read();
  if (r.status == 100) r = c.Read();
  EXPECT_EQ(r.status, 201) << r.body;
}

// A compressed body used to be read as plain JSON.
TEST_F(HttpProtocolTest, BodiesInAnEncodingNotReadAreRefused) {
  for (const char* coding : {"gzip", "deflate, identity", "br", "GZIP"}) {
    Connection c(server_->port());
    ASSERT_TRUE(c.Send(Head(std::string("Content-Encoding: ") + coding + "\r\n") + kBody));
    const HttpResponse r = c.Read();
    EXPECT_EQ(r.status, 415) << coding;
    EXPECT_EQ(r.ErrorCode(), "UnsupportedMediaType") << coding;
    EXPECT_THAT(r.body, HasSubstr("send the body uncompressed (identity)"));
    EXPECT_EQ(r.Header("accept-encoding"), "identity");
  }
  for (const char* coding : {"gzip, chunked", "deflate,chunked"}) {
    Connection c(server_->port());
    ASSERT_TRUE(c.Send("POST /v1/collections HTTP/1.1\r\nHost: t\r\napi-key: " + std::string(kKey) +
                       "\r\nTransfer-Encoding: " + coding + "\r\n\r\n" + "1a\r\n" + kBody +
                       "\r\n0\r\n\r\n"));
    const HttpResponse r = c.Read();
    EXPECT_EQ(r.status, 501) << coding;
    EXPECT_EQ(r.ErrorCode(), "NotImplemented") << coding;
    EXPECT_THAT(r.body, HasSubstr("Transfer-Encoding: chunked alone"));
  }
  EXPECT_EQ(server_->db().ListCollections().size(), 0u);
  // What is read as sent is served.
  Connection c(server_->port());
  ASSERT_TRUE(c.Send(Head("Content-Encoding: identity\r\n") + kBody));
  EXPECT_EQ(c.Read().status, 201);
  Connection chunked(server_->port());
  ASSERT_TRUE(
      chunked.Send("POST /v1/collections HTTP/1.1\r\nHost: t\r\napi-key: " + std::string(kKey) +
                   "\r\nTransfer-Encoding: chunked\r\n\r\n1a\r\n{\"name\": \"more\", "
                   "\"dim\": 2}\r\n0\r\n\r\n"));
  EXPECT_EQ(chunked.Read().status, 201);
}

// A client that trickles its headers a byte at a time is cut off request_timeout_ms after its
// first byte; it used to have idle_timeout_ms (a minute by default) for its headers.
TEST_F(HttpProtocolTest, TrickledHeadersAreCutOffByTheRequestTimeout) {
  ServerOptions options;
  options.request_timeout_ms = 300;
  options.idle_timeout_ms = 10000;
  server_.reset();
  Start(options);
  Connection c(server_->port());
  const std::string head = Head("X-Filler: " + std::string(200, 'x') + "\r\n");
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < head.size() - 2 && std::chrono::steady_clock::now() - start < 1500ms;
       ++i) {
    if (!c.Send(head.substr(i, 1))) break;  // closed for sending after the answer
    std::this_thread::sleep_for(20ms);
  }
  const HttpResponse r = c.Read();
  EXPECT_EQ(r.status, 408);
  EXPECT_THAT(r.body, HasSubstr("300 ms (request_timeout_ms)"));
}

// A keep-alive connection with nothing to say is idle, not slow: it waits idle_timeout_ms.
TEST_F(HttpProtocolTest, QuietConnectionsWaitTheIdleTimeout) {
  ServerOptions options;
  options.request_timeout_ms = 200;
  options.idle_timeout_ms = 10000;
  server_.reset();
  Start(options);
  Connection c(server_->port());
  ASSERT_EQ(c.Call("GET", "/healthz").status, 200);
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(c.Call("GET", "/healthz").status, 200);
  Connection fresh(server_->port());
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(fresh.Call("GET", "/healthz").status, 200);
}

}  // namespace
}  // namespace nearstore::server
