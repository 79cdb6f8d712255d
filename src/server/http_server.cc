#include "server/http_server.h"

#include <array>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "server/json_io.h"

namespace nearstore::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

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

class HttpServer::Impl {
 public:
  Impl(const Router* router, Authorizer authorizer, ServerOptions options, Metrics* metrics)
      : router_(router),
        auth_(std::move(authorizer)),
        options_(std::move(options)),
        metrics_(metrics),
        workers_(options_.worker_threads > 0
                     ? options_.worker_threads
                     : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))),
        acceptor_(asio::make_strand(ioc_)),
        signals_(ioc_) {}

  Status Listen() {
    beast::error_code ec;
    const auto address = asio::ip::make_address(options_.address, ec);
    if (ec) {
      return Status::InvalidArgument("'" + options_.address + "' is not an IP address");
    }
    const tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::IOError("cannot listen on " + options_.address + ":" +
                             std::to_string(options_.port) + ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    return Status::Ok();
  }

  void Run(bool handle_signals) {
    if (handle_signals) {
      signals_.add(SIGINT);
      signals_.add(SIGTERM);
      signals_.async_wait([this](const beast::error_code& ec, int) {
        if (!ec) Drain();
      });
    }
    Accept();
    std::vector<std::thread> threads;
    for (int i = 1; i < options_.io_threads; ++i) threads.emplace_back([this] { ioc_.run(); });
    ioc_.run();
    for (auto& t : threads) t.join();
    workers_.join();
  }

  void Drain() {
    asio::post(ioc_, [this] {
      if (draining_.exchange(true)) return;
      beast::error_code ec;
      acceptor_.close(ec);
      signals_.cancel();
      drain_deadline_ = Clock::now() + std::chrono::milliseconds(options_.drain_timeout_ms);
      WaitForInFlight();
    });
  }

  // Stops the I/O threads once no request is in flight, or at the drain deadline. Idle
  // keep-alive connections are closed by the stop.
  void WaitForInFlight() {
    if (metrics_->in_flight.load() == 0 || Clock::now() >= drain_deadline_) {
      ioc_.stop();
      return;
    }
    auto timer = std::make_shared<asio::steady_timer>(ioc_, std::chrono::milliseconds(5));
    timer->async_wait([this, timer](const beast::error_code&) { WaitForInFlight(); });
  }

  void Accept() {
    acceptor_.async_accept(asio::make_strand(ioc_),
                           [this](beast::error_code ec, tcp::socket socket) {
                             if (ec) {
                               if (ec == asio::error::operation_aborted || draining_) return;
                             } else {
                               StartSession(std::move(socket));
                             }
                             if (!draining_) Accept();
                           });
  }

  void StartSession(tcp::socket socket);

  void AccessLog(const std::string& remote, const Request& r, const std::string& route,
                 unsigned status, double seconds, size_t bytes_out) {
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
    std::lock_guard lock(log_mu_);
    std::fputs(text.c_str(), stderr);
  }

  const Router* router_;
  Authorizer auth_;
  ServerOptions options_;
  Metrics* metrics_;
  asio::io_context ioc_;
  asio::thread_pool workers_;
  tcp::acceptor acceptor_;
  asio::signal_set signals_;
  uint16_t port_ = 0;
  std::atomic<bool> draining_{false};
  std::atomic<uint32_t> pending_{0};  // requests waiting for or on a worker
  Clock::time_point drain_deadline_;
  std::mutex log_mu_;
};

namespace {

// One connection: reads requests one after another (keep-alive), each judged on its headers
// before its body is read, runs it on the worker pool and writes the response.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl* server)
      : stream_(std::move(socket)), timer_(stream_.get_executor()), server_(server) {
    beast::error_code ec;
    const auto endpoint = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
    ++server_->metrics_->connections;
  }
  ~Session() { --server_->metrics_->connections; }

  // Serves the connection's requests; or, for a connection over max_connections (`refuse`),
  // answers 429 and closes it.
  void Start(bool refuse) {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this(), refuse] {
      if (!refuse) return self->ReadHeader();
      self->Finish(
          ErrorResponse(429, "TooManyConnections",
                        "the server has " + std::to_string(self->options().max_connections) +
                            " connections open, the most it accepts (max_connections)"),
          /*close=*/true);
    });
  }

 private:
  const ServerOptions& options() const { return server_->options_; }

  void ReadHeader() {
    header_.emplace();
    header_->header_limit(options().max_header_bytes);
    header_->body_limit(options().max_body_bytes);
    // Waiting for a new request is idle time; once bytes arrive, the request timeout applies.
    StartTimer(buffer_.size() > 0 ? options().request_timeout_ms : options().idle_timeout_ms);
    http::async_read_header(
        stream_, buffer_, *header_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    timer_.cancel();
    request_ = Request{};
    started_ = Clock::now();
    if (ec) return OnReadError(ec, /*in_body=*/false);
    const auto& h = header_->get();
    request_.method = MethodOf(h.method());
    const std::string_view target(h.target().data(), h.target().size());
    const size_t q = target.find('?');
    request_.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) request_.query = std::string(target.substr(q + 1));
    ++server_->metrics_->in_flight;
    in_flight_ = true;

    if (server_->draining_) {
      return Finish(ErrorResponse(503, "ShuttingDown", "the server is shutting down"), true);
    }
    Router::Match match = server_->router_->Find(request_.method, request_.path);
    if (match.route == nullptr) {
      if (match.path_known) {
        return Finish(ErrorResponse(405, "MethodNotAllowed",
                                    std::string(MethodName(request_.method)) +
                                        " is not allowed on " + request_.path),
                      true);
      }
      return Finish(ErrorResponse(404, "NotFound", "no route for " + request_.path), true);
    }
    route_ = match.route;
    if (!match.bad_name.empty()) {
      return Finish(
          ErrorResponse(
              400, "InvalidArgument",
              "'" + match.bad_name + "' is not a valid name: 1..128 characters of A-Z a-z 0-9 _ -"),
          true);
    }
    request_.params = std::move(match.params);
    if (!route_->open && server_->auth_.enabled()) {
      const auto api_key = h["api-key"];
      const auto authorization = h[http::field::authorization];
      const std::string_view presented = Authorizer::Presented(
          {api_key.data(), api_key.size()}, {authorization.data(), authorization.size()});
      const ApiKey* key = presented.empty() ? nullptr : server_->auth_.Find(presented);
      if (key == nullptr) {
        return Finish(ErrorResponse(401, "Unauthorized",
                                    presented.empty()
                                        ? "this route needs an API key: send it in an 'api-key' "
                                          "header or as 'Authorization: Bearer <key>'"
                                        : "the API key is not valid"),
                      true);
      }
      const auto it = request_.params.find("collection");
      const std::string collection = it == request_.params.end() ? "" : it->second;
      if (!Authorizer::Allows(*key, route_->access, collection)) {
        return Finish(ErrorResponse(403, "Forbidden",
                                    std::string("the API key may not ") +
                                        (route_->access == Access::kReadWrite ? "write" : "read") +
                                        (collection.empty() ? " here" : " '" + collection + "'")),
                      true);
      }
    }
    if (const auto length = header_->content_length();
        length && *length > options().max_body_bytes) {
      return Finish(TooLarge(), true);
    }
    body_.emplace(std::move(*header_));
    body_->body_limit(options().max_body_bytes);
    StartTimer(options().request_timeout_ms);
    http::async_read(
        stream_, buffer_, *body_,
        [self = shared_from_this()](beast::error_code read_ec, size_t) { self->OnBody(read_ec); });
  }

  void OnBody(beast::error_code ec) {
    timer_.cancel();
    if (ec) return OnReadError(ec, /*in_body=*/true);
    keep_alive_ = body_->get().keep_alive();
    request_.body = std::move(body_->get().body());
    if (server_->pending_.load() >= options().max_pending_requests) {
      return Finish(
          ErrorResponse(429, "TooManyRequests",
                        "the server has " + std::to_string(options().max_pending_requests) +
                            " requests waiting, the most it queues "
                            "(max_pending_requests); retry later"),
          true);
    }
    ++server_->pending_;
    asio::post(server_->workers_, [self = shared_from_this()] {
      Response response;
      try {
        response = self->route_->handler(self->request_);
      } catch (const std::exception& e) {
        response = ErrorResponse(500, "Internal", std::string("unexpected error: ") + e.what());
      }
      asio::post(self->stream_.get_executor(), [self, r = std::move(response)]() mutable {
        --self->server_->pending_;
        self->Finish(std::move(r), !self->keep_alive_ || self->server_->draining_);
      });
    });
  }

  Response TooLarge() const {
    return ErrorResponse(413, "PayloadTooLarge",
                         "the request body is larger than " +
                             std::to_string(options().max_body_bytes) +
                             " bytes, the most accepted (max_body_bytes)");
  }

  void OnReadError(beast::error_code ec, bool in_body) {
    // A peer that closed between requests, or an idle keep-alive connection timing out: no
    // request, no answer.
    const bool nothing_read = !in_body && buffer_.size() == 0 && !header_->got_some();
    if (nothing_read &&
        (ec == http::error::end_of_stream || timed_out_ || ec == asio::error::connection_reset)) {
      return Close(/*linger=*/false);
    }
    if (!in_flight_) {
      ++server_->metrics_->in_flight;
      in_flight_ = true;
    }
    if (timed_out_) {
      return Finish(ErrorResponse(408, "RequestTimeout",
                                  "the request was not received within " +
                                      std::to_string(options().request_timeout_ms) +
                                      " ms (request_timeout_ms)"),
                    true);
    }
    if (ec == http::error::header_limit) {
      return Finish(ErrorResponse(431, "HeadersTooLarge",
                                  "the request headers are larger than " +
                                      std::to_string(options().max_header_bytes) +
                                      " bytes (max_header_bytes)"),
                    true);
    }
    if (ec == http::error::body_limit) return Finish(TooLarge(), true);
    if (ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
        ec == asio::error::eof) {
      return Close(/*linger=*/false);  // the client went away mid-request: nobody to answer
    }
    Finish(ErrorResponse(400, "BadRequest", "malformed HTTP request: " + ec.message()), true);
  }

  void Finish(Response r, bool close) {
    close_after_write_ = close;
    status_ = r.status;
    route_label_ = route_ != nullptr ? route_->pattern : "";
    response_ = {};
    response_.result(r.status);
    response_.version(11);
    response_.set(http::field::server, "nearstore");
    response_.set(http::field::content_type, r.content_type);
    response_.keep_alive(!close);
    response_.body() = std::move(r.body);
    response_.prepare_payload();
    StartTimer(options().request_timeout_ms);
    http::async_write(
        stream_, response_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(beast::error_code ec) {
    timer_.cancel();
    const double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    server_->metrics_->Observe(MethodName(request_.method), route_label_, status_, seconds);
    server_->AccessLog(remote_, request_, route_label_, status_, seconds, response_.body().size());
    if (in_flight_) {
      --server_->metrics_->in_flight;
      in_flight_ = false;
    }
    route_ = nullptr;
    if (ec || timed_out_) return Close(/*linger=*/false);
    if (close_after_write_) return Close(/*linger=*/true);
    ReadHeader();
  }

  // The deadline of the current read or write: when it passes, the socket's operations are
  // cancelled (not the socket closed, so that a 408 can still be written).
  void StartTimer(uint32_t ms) {
    timed_out_ = false;
    timer_.expires_after(std::chrono::milliseconds(ms));
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return;  // cancelled: the operation finished in time
      self->timed_out_ = true;
      beast::error_code ignored;
      self->stream_.socket().cancel(ignored);
    });
  }

  // Closes the connection. With `linger`, after the response: the sending side is shut and
  // what the client still sends (an unread body) is read and dropped for up to a second, so
  // that the kernel does not answer it with a reset that would destroy the response before
  // the client reads it.
  void Close(bool linger) {
    if (in_flight_) {
      --server_->metrics_->in_flight;
      in_flight_ = false;
    }
    beast::error_code ec;
    if (!linger) {
      stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
      stream_.close();
      return;
    }
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    StartTimer(1000);
    Drain();
  }

  void Drain() {
    stream_.socket().async_read_some(asio::buffer(scratch_),
                                     [self = shared_from_this()](beast::error_code ec, size_t) {
                                       if (!ec && !self->timed_out_) return self->Drain();
                                       self->timer_.cancel();
                                       beast::error_code ignored;
                                       self->stream_.close();
                                     });
  }

  beast::tcp_stream stream_;
  asio::steady_timer timer_;
  bool timed_out_ = false;
  std::array<char, 4096> scratch_;  // bytes drained before closing
  HttpServer::Impl* server_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> header_;
  std::optional<http::request_parser<http::string_body>> body_;
  http::response<http::string_body> response_;
  Request request_;
  const Route* route_ = nullptr;
  std::string route_label_;
  unsigned status_ = 0;
  bool keep_alive_ = true;
  bool close_after_write_ = false;
  bool in_flight_ = false;
  Clock::time_point started_ = Clock::now();
};

}  // namespace

void HttpServer::Impl::StartSession(tcp::socket socket) {
  auto session = std::make_shared<Session>(std::move(socket), this);  // counts itself
  session->Start(metrics_->connections.load() > static_cast<int64_t>(options_.max_connections));
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
