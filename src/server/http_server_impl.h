// HttpServer::Impl: the listener, the thread pools and what every connection shares (the
// router, keys, options, metrics, drain state). Internal to src/server.
#pragma once

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "base/mutex.h"
#include "server/http_server.h"

namespace nearstore::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

class HttpServer::Impl {
 public:
  Impl(const Router* router, Authorizer authorizer, ServerOptions options, Metrics* metrics)
      : router_(router),
        auth_(std::move(authorizer)),
        options_(std::move(options)),
        metrics_(metrics),
        contexts_(MakeContexts(options_.io_threads)),
        workers_(options_.worker_threads > 0
                     ? options_.worker_threads
                     : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))),
        acceptor_(*contexts_.front()),
        signals_(*contexts_.front()) {}

  // One io_context per I/O thread, run by that thread alone: each thread waits on its own
  // epoll and runs its connections' handlers itself, so a request is never handed from the
  // thread that saw its bytes to another (a shared io_context run by several threads wakes a
  // second thread for the handlers: about five futex calls per request). Connections are
  // dealt to the contexts in turn.
  static std::vector<std::unique_ptr<asio::io_context>> MakeContexts(int n) {
    std::vector<std::unique_ptr<asio::io_context>> out;
    for (int i = 0; i < std::max(1, n); ++i) out.push_back(std::make_unique<asio::io_context>(1));
    return out;
  }
  asio::io_context& main_context() { return *contexts_.front(); }

  // TLS: the certificate chain and key from the options (InvalidArgument naming the file).
  Status SetUpTls();

  Status Listen() {
    if (Status s = SetUpTls(); !s.ok()) return s;
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
    // A context without connections has no work, and its run() would return at once.
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
    for (auto& c : contexts_) keep_running.push_back(asio::make_work_guard(*c));
    std::vector<std::thread> threads;
    for (size_t i = 1; i < contexts_.size(); ++i) {
      threads.emplace_back([this, i] { RunContext(*contexts_[i]); });
    }
    RunContext(main_context());
    for (auto& t : threads) t.join();
    workers_.join();
  }

  // Runs `context` until it is stopped; with busy_poll_us, after each event it keeps polling
  // (without sleeping) until that long passes with nothing to do.
  void RunContext(asio::io_context& context) {
    if (options_.busy_poll_us == 0) {
      context.run();
      return;
    }
    const auto spin = std::chrono::microseconds(options_.busy_poll_us);
    while (context.run_one() > 0) {  // 0: stopped (a work guard keeps it from running dry)
      auto until = Clock::now() + spin;
      while (!context.stopped() && Clock::now() < until) {
        if (context.poll() > 0) until = Clock::now() + spin;
      }
    }
  }

  void Drain() {
    asio::post(main_context(), [this] {
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
      for (auto& c : contexts_) c->stop();
      return;
    }
    auto timer = std::make_shared<asio::steady_timer>(main_context(), std::chrono::milliseconds(5));
    timer->async_wait([this, timer](const beast::error_code&) { WaitForInFlight(); });
  }

  void Accept() {
    asio::io_context& context = *contexts_[next_context_++ % contexts_.size()];
    acceptor_.async_accept(context, [this](beast::error_code ec, tcp::socket socket) {
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
                 unsigned status, double seconds, size_t bytes_out);

  const Router* router_;
  Authorizer auth_;
  ServerOptions options_;
  Metrics* metrics_;
  std::vector<std::unique_ptr<asio::io_context>> contexts_;  // one per I/O thread
  size_t next_context_ = 0;  // the context of the next connection (the listener's thread only)
  asio::thread_pool workers_;
  tcp::acceptor acceptor_;
  asio::signal_set signals_;
  uint16_t port_ = 0;
  std::atomic<bool> draining_{false};
  std::atomic<uint32_t> pending_{0};  // requests waiting for or on a worker
  Clock::time_point drain_deadline_;
  // Serialises the access log's lines on stderr (it guards no member: what it orders is the
  // writes to a stream outside the class).
  base::Mutex log_mu_;
  std::optional<asio::ssl::context> tls_;  // set when the options name a certificate
};

}  // namespace nearstore::server
