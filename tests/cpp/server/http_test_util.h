// Test helpers for the HTTP server's tests: a client connection over plain POSIX sockets on
// 127.0.0.1 (every read gives up after two seconds: nothing can hang), and the routes of
// `nearstore serve` over an in-memory database, served on a free port.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "nearstore/database.h"
#include "server/http_server.h"
#include "server/native_api.h"
#include "server/qdrant_api.h"
#include "server/serve.h"

namespace nearstore::server::http_test {

using nlohmann::json;
using namespace std::chrono_literals;

struct HttpResponse {
  int status = 0;                              // 0: no (complete) response
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;

  json Json() const { return json::parse(body, nullptr, /*allow_exceptions=*/false); }
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  std::string ErrorCode() const {
    const json j = Json();
    return j.is_object() && j.contains("error") ? j["error"].value("code", "") : "";
  }
};

// One client connection; every read gives up after two seconds.
class Connection {
 public:
  explicit Connection(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return;
    timeval tv{2, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~Connection() {
    if (fd_ >= 0) ::close(fd_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool connected() const { return fd_ >= 0; }

  bool Send(const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  // The next response (status 0 when the connection closed or timed out first).
  HttpResponse Read() {
    HttpResponse r;
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return r;
    }
    const std::string head = buffer_.substr(0, end);
    buffer_.erase(0, end + 4);
    size_t line_end = head.find("\r\n");
    const std::string status_line = head.substr(0, line_end);
    if (!status_line.starts_with("HTTP/1.1 ") || status_line.size() < 12) return r;
    while (line_end != std::string::npos) {
      const size_t next = head.find("\r\n", line_end + 2);
      const std::string line = head.substr(line_end + 2, next - line_end - 2);
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const size_t value_at = line.find_first_not_of(' ', colon + 1);
        r.headers[name] = value_at == std::string::npos ? "" : line.substr(value_at);
      }
      line_end = next;
    }
    const size_t length = std::stoul(
        r.headers.count("content-length") != 0 ? r.headers["content-length"] : std::string("0"));
    while (buffer_.size() < length) {
      if (!Fill()) return HttpResponse{};
    }
    r.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    r.status = std::stoi(status_line.substr(9, 3));
    return r;
  }

  HttpResponse Call(const std::string& method, const std::string& path,
                    const std::string& body = "", const std::string& headers = "") {
    std::string request = method + " " + path + " HTTP/1.1\r\nHost: test\r\n" + headers;
    if (!body.empty() || method == "POST") {
      request +=
          "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\n";
    }
    request += "\r\n" + body;
    if (!Send(request)) return HttpResponse{};
    return Read();
  }

  // Whether the server closes the connection (EOF or reset) before the timeout, with no
  // more bytes sent.
  bool ClosedByServer() {
    if (!buffer_.empty()) return false;
    char c;
    const ssize_t n = ::recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  bool Fill() {
    char chunk[4096];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buffer_;
};

// The routes of `nearstore serve` over an in-memory database, served on a free port by a
// thread running HttpServer::Run until Stop() (or destruction) drains it.
class TestServer {
 public:
  explicit TestServer(ServerOptions options) : options_(std::move(options)) {
    options_.address = "127.0.0.1";
    options_.port = 0;
    options_.access_log = false;
    options_.io_threads = 2;
    options_.worker_threads = 2;
  }
  ~TestServer() {
    Stop();
    if (db_) {
      EXPECT_TRUE(db_->Close().ok());
    }
  }

  void Start() {
    auto db = Database::OpenInMemory();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    AddServiceRoutes(
        db_.get(), &metrics_, [this] { return server_->draining(); }, &router_);
    AddNativeRoutes(db_.get(), options_, &router_);
    AddQdrantRoutes(db_.get(), options_, &router_);
    server_ =
        std::make_unique<HttpServer>(&router_, Authorizer(options_.api_keys), options_, &metrics_);
    const Status s = server_->Listen();
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_NE(server_->port(), 0);
    thread_ = std::thread([this] {
      server_->Run(/*handle_signals=*/false);
      returned_ = true;
    });
  }

  // Drains and waits for Run to return.
  void Stop() {
    if (!thread_.joinable()) return;
    server_->Drain();
    thread_.join();
  }

  // Whether Run returns within `timeout` of a Drain().
  bool DrainReturnsWithin(std::chrono::milliseconds timeout) {
    server_->Drain();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!returned_ && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
    }
    return returned_;
  }

  uint16_t port() const { return server_->port(); }
  HttpServer& server() { return *server_; }
  Database& db() { return *db_; }

 private:
  ServerOptions options_;
  std::unique_ptr<Database> db_;
  Metrics metrics_;
  Router router_;
  std::unique_ptr<HttpServer> server_;
  std::atomic<bool> returned_{false};
  std::thread thread_;
};

inline std::string Base64Floats(const std::vector<float>& values) {
  std::string out(4 * ((values.size() * sizeof(float) + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(values.data()),
                                static_cast<int>(values.size() * sizeof(float)));
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace nearstore::server::http_test
