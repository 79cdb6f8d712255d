// Session: one client connection of the HTTP server, over plain TCP or TLS (Stream is
// beast::tcp_stream or beast::ssl_stream<beast::tcp_stream>). Internal to src/server.
#pragma once

#include <array>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>
#include <string>
#include <type_traits>

#include "server/http_server_impl.h"
#include "server/json_io.h"

namespace nearstore::server {

namespace http = beast::http;

Method MethodOf(http::verb verb);

// One connection: reads requests one after another (keep-alive), each judged on its headers
// before its body is read, runs it (on the worker pool, or for short reads on this I/O thread:
// Route::work) and writes the response.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;
  static constexpr size_t kReadBufferBytes = 16 * 1024;

  // `stream_args`: what the stream is made of (the socket; for TLS, the socket and context).
  template <class... Args>
  explicit Session(HttpServer::Impl* server, Args&&... stream_args)
      : stream_(std::forward<Args>(stream_args)...),
        timer_(stream_.get_executor()),
        server_(server) {
    beast::error_code ec;
    const auto endpoint = Socket().remote_endpoint(ec);
    if (!ec) remote_ = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
    ++server_->metrics_->connections;
  }
  ~Session() { --server_->metrics_->connections; }

  // Serves the connection's requests; or, for a connection over max_connections (`refuse`),
  // answers 429 and closes it.
  void Start(bool refuse) {
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this(), refuse] {
      if constexpr (kTls) {
        self->StartTimer(self->options().request_timeout_ms);
        self->stream_.async_handshake(asio::ssl::stream_base::server,
                                      [self, refuse](beast::error_code ec) {
                                        self->StopTimer();
                                        if (ec) return self->Close(/*linger=*/false);
                                        self->Serve(refuse);
                                      });
      } else {
        self->Serve(refuse);
      }
    });
  }

 private:
  tcp::socket& Socket() { return beast::get_lowest_layer(stream_).socket(); }

  void Serve(bool refuse) {
    // Beast reads at most the buffer's free capacity, and at least 512 bytes: an empty buffer
    // read a 3 KB search request in six recv calls.
    buffer_.reserve(kReadBufferBytes);
    if (!refuse) return ReadHeader();
    Finish(ErrorResponse(429, "TooManyConnections",
                         "the server has " + std::to_string(options().max_connections) +
                             " connections open, the most it accepts (max_connections)"),
           /*close=*/true);
  }

  const ServerOptions& options() const { return server_->options_; }

  // Timeouts (a slow-loris defence): waiting for a request's first byte is idle time
  // (idle_timeout_ms); from that byte the whole request, headers and body, must arrive within
  // request_timeout_ms (one deadline, not one per phase), and its response is then written
  // within request_timeout_ms.
  void ReadHeader() {
    header_.emplace();
    header_->header_limit(options().max_header_bytes);
    header_->body_limit(options().max_body_bytes);
    if (buffer_.size() > 0) return ReadRestOfHeader();  // the next request began arriving
    StartTimer(options().idle_timeout_ms);
    stream_.async_read_some(buffer_.prepare(kReadBufferBytes),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              self->StopTimer();
                              if (ec) return self->OnHeader(ec);
                              self->buffer_.commit(n);
                              self->ReadRestOfHeader();
                            });
  }

  void ReadRestOfHeader() {
    request_deadline_ = Clock::now() + std::chrono::milliseconds(options().request_timeout_ms);
    StartTimerAt(request_deadline_);
    http::async_read_header(
        stream_, buffer_, *header_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    StopTimer();
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
        std::string allow;
        for (Method m : match.allowed)
          allow += (allow.empty() ? "" : ", ") + std::string(MethodName(m));
        Response r = ErrorResponse(405, "MethodNotAllowed",
                                   std::string(h.method_string()) + " is not allowed on " +
                                       request_.path + "; allowed: " + allow);
        r.headers.emplace_back("Allow", allow);
        return Finish(std::move(r), true);
      }
      return Finish(ErrorResponse(404, "NotFound", "no route for " + request_.path), true);
    }
    route_ = match.route;
    if (!match.bad_name.empty()) {
      return Finish(
          ErrorResponse(
              400, "InvalidArgument",
              "'" + match.bad_name +
                  "' is not a valid collection name: 1..128 letters, digits, '_', '-' or '.', "
                  "not '.' or '..'"),
          true);
    }
    request_.params = std::move(match.params);
    const auto incarnation = h["x-nearstore-collection"];
    request_.incarnation.assign(incarnation.data(), incarnation.size());
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
    if (auto refused = RefusedEncoding(h)) return Finish(std::move(*refused), true);
    if (const auto length = header_->content_length();
        length && *length > options().max_body_bytes) {
      return Finish(TooLarge(), true);
    }
    // Expect: 100-continue (curl sends it before a body over 1 MiB, and waits a second for
    // the answer before sending anyway): the request was judged on its headers, so the
    // client is told to send the body, or was given the final answer above instead.
    const auto expect = h[http::field::expect];
    if (!expect.empty() && h.version() >= 11) {
      if (!beast::iequals(expect, "100-continue")) {
        return Finish(ErrorResponse(417, "ExpectationFailed",
                                    "'Expect: " + std::string(expect) +
                                        "' is not supported; expected only 100-continue"),
                      true);
      }
      if (!header_->is_done() && buffer_.size() == 0) {  // no body, or it is coming already
        StartTimerAt(request_deadline_);
        return asio::async_write(
            stream_, asio::buffer(kContinue),
            [self = this->shared_from_this()](beast::error_code write_ec, size_t) {
              self->StopTimer();
              if (write_ec || self->timed_out_) return self->Close(false);
              self->ReadBody();
            });
      }
    }
    ReadBody();
  }

  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

  void ReadBody() {
    body_.emplace(std::move(*header_));
    body_->body_limit(options().max_body_bytes);
    StartTimerAt(request_deadline_);
    http::async_read(stream_, buffer_, *body_,
                     [self = this->shared_from_this()](beast::error_code read_ec, size_t) {
                       self->OnBody(read_ec);
                     });
  }

  // The answer to a body in an encoding the server does not read, or nullopt. A body is read
  // as sent: a content coding other than identity (gzip...) gets 415, a transfer coding
  // other than chunked 501 (RFC 9112 6.1), rather than the compressed bytes read as JSON.
  static std::optional<Response> RefusedEncoding(const http::request_header<>& h) {
    const auto transfer = h[http::field::transfer_encoding];
    for (const auto& coding : http::token_list(transfer)) {
      if (beast::iequals(coding, "chunked")) continue;
      return ErrorResponse(501, "NotImplemented",
                           "'Transfer-Encoding: " + std::string(transfer) +
                               "' is not supported; send the body with Content-Length, or with "
                               "Transfer-Encoding: chunked alone");
    }
    const auto content = h[http::field::content_encoding];
    for (const auto& coding : http::token_list(content)) {
      if (beast::iequals(coding, "identity")) continue;
      Response r = ErrorResponse(415, "UnsupportedMediaType",
                                 "'Content-Encoding: " + std::string(content) +
                                     "' is not supported; send the body uncompressed (identity)");
      r.headers.emplace_back("Accept-Encoding", "identity");
      return r;
    }
    return std::nullopt;
  }

  void OnBody(beast::error_code ec) {
    StopTimer();
    if (ec) return OnReadError(ec, /*in_body=*/true);
    keep_alive_ = body_->get().keep_alive();
    request_.body = std::move(body_->get().body());
    if (route_->work == Work::kInline) {
      return Finish(Run(), !keep_alive_ || server_->draining_);
    }
    if (server_->pending_.load() >= options().max_pending_requests) {
      return Finish(
          ErrorResponse(429, "TooManyRequests",
                        "the server has " + std::to_string(options().max_pending_requests) +
                            " requests waiting, the most it queues "
                            "(max_pending_requests); retry later"),
          true);
    }
    ++server_->pending_;
    asio::post(server_->workers_, [self = this->shared_from_this()] {
      Response response = self->Run();
      asio::post(self->stream_.get_executor(), [self, r = std::move(response)]() mutable {
        --self->server_->pending_;
        self->Finish(std::move(r), !self->keep_alive_ || self->server_->draining_);
      });
    });
  }

  // The route's answer to the request read.
  Response Run() const {
    try {
      return route_->handler(request_);
    } catch (const std::exception& e) {
      return ErrorResponse(500, "Internal", std::string("unexpected error: ") + e.what());
    }
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
    for (const auto& [name, value] : r.headers) response_.set(name, value);
    response_.body() = std::move(r.body);
    response_.prepare_payload();
    StartTimer(options().request_timeout_ms);
    http::async_write(
        stream_, response_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(beast::error_code ec) {
    StopTimer();
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
  //
  // The timer is lazy: moving the deadline later does not touch it (it wakes at the earlier
  // time, sees the later deadline and sleeps again), and stopping it only clears the deadline.
  // Re-arming a timer per read and write cost three timerfd_settime calls per request, and
  // each can wake another I/O thread; with request_timeout_ms <= idle_timeout_ms, a busy
  // keep-alive connection now arms its timer about once per request_timeout_ms.
  void StartTimer(uint32_t ms) { StartTimerAt(Clock::now() + std::chrono::milliseconds(ms)); }
  void StartTimerAt(Clock::time_point deadline) {
    timed_out_ = false;
    deadline_ = deadline;
    if (timer_armed_ && timer_.expiry() <= deadline_) return;
    ArmTimer();
  }
  void StopTimer() { deadline_ = Clock::time_point::max(); }

  void ArmTimer() {
    timer_armed_ = true;
    timer_.expires_at(deadline_);  // a wait already pending completes as aborted
    // A weak reference: a pending wait must not keep a closed connection alive; destroying
    // the session cancels the wait.
    timer_.async_wait([weak = this->weak_from_this()](beast::error_code ec) {
      const auto self = weak.lock();
      if (ec || self == nullptr) return;  // re-armed (or the session is gone)
      self->timer_armed_ = false;
      if (self->deadline_ == Clock::time_point::max()) return;  // nothing to time now
      if (Clock::now() < self->deadline_) return self->ArmTimer();
      self->timed_out_ = true;
      beast::error_code ignored;
      self->Socket().cancel(ignored);
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
      Socket().shutdown(tcp::socket::shutdown_both, ec);
      Socket().close(ec);
      return;
    }
    StartTimer(1000);
    if constexpr (kTls) {
      // TLS says goodbye with close_notify, which the shutdown sends and waits for.
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        self->StopTimer();
        beast::error_code ignored;
        self->Socket().close(ignored);
      });
    } else {
      Socket().shutdown(tcp::socket::shutdown_send, ec);
      DrainInput();
    }
  }

  void DrainInput() {
    Socket().async_read_some(asio::buffer(scratch_),
                             [self = this->shared_from_this()](beast::error_code ec, size_t) {
                               if (!ec && !self->timed_out_) return self->DrainInput();
                               self->StopTimer();
                               beast::error_code ignored;
                               self->Socket().close(ignored);
                             });
  }

  Stream stream_;
  asio::steady_timer timer_;
  Clock::time_point deadline_ = Clock::time_point::max();  // max: none
  Clock::time_point request_deadline_;  // the current request must have arrived by then
  bool timer_armed_ = false;            // a wait is pending on timer_
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

}  // namespace nearstore::server
