#include "server/http_server.h"

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "server/http_session.h"

namespace nearstore::server {

Method MethodOf(http::verb verb) {
  switch (verb) {
    case http::verb::get:
      return Method::kGet;
    case http::verb::post:
      return Method::kPost;
    case http::verb::put:
      return Method::kPut;
    case http::verb::patch:
      return Method::kPatch;
    case http::verb::delete_:
      return Method::kDelete;
    case http::verb::head:
      return Method::kHead;
    default:
      return Method::kOther;
  }
}

namespace {

std::string NowIso8601() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace

void HttpServer::Impl::AccessLog(const std::string& remote, const Request& r,
                                 const std::string& route, unsigned status, double seconds,
                                 size_t bytes_out) {
  if (!options_.access_log) return;
  const nlohmann::json line = {{"time", NowIso8601()},
                               {"remote", remote},
                               {"method", MethodName(r.method)},
                               {"path", r.path},
                               {"route", route},
                               {"status", status},
                               {"ms", seconds * 1e3},
                               {"bytes_in", r.body.size()},
                               {"bytes_out", bytes_out}};
  const std::string text =
      line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  base::MutexLock lock(log_mu_);
  std::fputs(text.c_str(), stderr);
}

void HttpServer::Impl::StartSession(tcp::socket socket) {
  // Responses go out as soon as written, not held back for the client's acknowledgement.
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  // Sessions count themselves: one over the limit is told so and closed.
  const bool refuse =
      metrics_->connections.load() >= static_cast<int64_t>(options_.max_connections);
  if (tls_.has_value()) {
    std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(this, std::move(socket), *tls_)
        ->Start(refuse);
  } else {
    std::make_shared<Session<beast::tcp_stream>>(this, std::move(socket))->Start(refuse);
  }
}

Status HttpServer::Impl::SetUpTls() {
  if (options_.tls_cert_file.empty() && options_.tls_key_file.empty()) return Status::Ok();
  if (options_.tls_cert_file.empty() || options_.tls_key_file.empty()) {
    return Status::InvalidArgument("TLS needs both a certificate file and a key file");
  }
  tls_.emplace(asio::ssl::context::tls_server);
  tls_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                    asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                    asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  beast::error_code ec;
  tls_->use_certificate_chain_file(options_.tls_cert_file, ec);
  if (ec) {
    return Status::InvalidArgument("TLS certificate file '" + options_.tls_cert_file +
                                   "' cannot be used: " + ec.message());
  }
  tls_->use_private_key_file(options_.tls_key_file, asio::ssl::context::pem, ec);
  if (ec) {
    return Status::InvalidArgument("TLS key file '" + options_.tls_key_file +
                                   "' cannot be used: " + ec.message());
  }
  return Status::Ok();
}

HttpServer::HttpServer(const Router* router, Authorizer authorizer, ServerOptions options,
                       Metrics* metrics)
    : impl_(std::make_unique<Impl>(router, std::move(authorizer), std::move(options), metrics)) {}

HttpServer::~HttpServer() = default;

Status HttpServer::Listen() { return impl_->Listen(); }
uint16_t HttpServer::port() const { return impl_->port_; }
void HttpServer::Run(bool handle_signals) { impl_->Run(handle_signals); }
void HttpServer::Drain() { impl_->Drain(); }
bool HttpServer::draining() const { return impl_->draining_.load(); }

}  // namespace nearstore::server
