// The `nearstore` command: tools for a database directory.
//
//   nearstore info PATH [--json]     collections, counts, segments, sizes
//   nearstore verify PATH [--json]   checks every file and checksum, read-only
//   nearstore serve PATH [options]   serves the database over HTTP (docs/SERVER.md)
//
// Exit codes: 0 success (verify: everything intact); 1 failure (info: the database could not
// be read; verify: damage found); 2 usage error (unknown verb or option, missing PATH, PATH not
// a database) or a check that could not run at all.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "cli/info.h"
#include "nearstore/verify.h"
#include "server/serve.h"
#include "storage/env.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

int ReportError(const char* verb, const nearstore::Status& status) {
  std::fprintf(stderr, "nearstore %s: %s\n", verb, status.ToString().c_str());
  return status.code() == nearstore::StatusCode::kInvalidArgument ? kExitUsage : kExitFailed;
}

int RunInfo(const std::string& path, bool json) {
  auto summary = nearstore::cli::GatherInfo(path);
  if (!summary.ok()) return ReportError("info", summary.status());
  if (!summary->opened) {
    // On stderr too, so that a script reading --json still learns why counts are missing.
    std::fprintf(stderr,
                 "nearstore info: note: the database is locked by another process (%s); "
                 "reading the MANIFEST and file sizes without opening it\n",
                 summary->lock_message.c_str());
  }
  const std::string text =
      json ? nearstore::cli::InfoToJson(*summary) : nearstore::cli::FormatInfo(*summary);
  std::fputs(text.c_str(), stdout);
  return kExitOk;
}

int RunVerify(const std::string& path, bool json) {
  auto report = nearstore::VerifyDatabase(path);
  if (!report.ok()) {
    std::fprintf(stderr, "nearstore verify: %s\n", report.status().ToString().c_str());
    return kExitUsage;  // nothing was checked
  }
  const std::string text = json ? nearstore::VerifyReportToJson(*report, path)
                                : nearstore::FormatVerifyReport(*report, path);
  std::fputs(text.c_str(), stdout);
  return report->damaged() ? kExitFailed : kExitOk;
}

int RunServe(const std::string& path, const std::string& config,
             const nearstore::server::ServerOptions& flags, const CLI::App& serve,
             const std::vector<std::string>& keys, const std::vector<std::string>& read_keys) {
  // The config file first, then the flags given on the command line over it.
  nearstore::server::ServerOptions options;
  if (!config.empty()) {
    if (auto s = nearstore::server::LoadConfigFile(config, &options); !s.ok()) {
      return ReportError("serve", s);
    }
  }
  if (serve.count("--address") > 0) options.address = flags.address;
  if (serve.count("--port") > 0) options.port = flags.port;
  if (serve.count("--io-threads") > 0) options.io_threads = flags.io_threads;
  if (serve.count("--worker-threads") > 0) options.worker_threads = flags.worker_threads;
  if (serve.count("--max-body-bytes") > 0) options.max_body_bytes = flags.max_body_bytes;
  if (serve.count("--max-response-bytes") > 0) {
    options.max_response_bytes = flags.max_response_bytes;
  }
  if (serve.count("--max-connections") > 0) options.max_connections = flags.max_connections;
  if (serve.count("--request-timeout-ms") > 0) {
    options.request_timeout_ms = flags.request_timeout_ms;
  }
  if (serve.count("--busy-poll-us") > 0) options.busy_poll_us = flags.busy_poll_us;
  if (serve.count("--no-access-log") > 0) options.access_log = false;
  if (serve.count("--tls-cert") > 0) options.tls_cert_file = flags.tls_cert_file;
  if (serve.count("--tls-key") > 0) options.tls_key_file = flags.tls_key_file;
  for (const auto& k : keys)
    options.api_keys.push_back({k, nearstore::server::Access::kReadWrite, {}});
  for (const auto& k : read_keys) {
    options.api_keys.push_back({k, nearstore::server::Access::kReadOnly, {}});
  }
  if (auto s = nearstore::server::Serve(path, options); !s.ok()) return ReportError("serve", s);
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"nearstore: tools for a nearstore database directory."};
  app.set_version_flag("--version", std::string("nearstore 0.1.0"));
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 success; 1 failure (verify: damage found); 2 usage error.\n"
      "Run 'nearstore VERB --help' for the details and options of a verb.");

  std::string path;
  bool json = false;

  CLI::App* info =
      app.add_subcommand("info", "Collections, counts, segments and sizes of a database");
  info->footer(
      "Opens the database and prints, per collection and in total: dimension, metric, live\n"
      "points, segments, rows in segments and in the memtable, and bytes on disk (segments and\n"
      "logs). Opening runs recovery (a torn log tail is trimmed, leftover files are removed).\n"
      "If another process has the database open, says so and reads the MANIFEST, the logs and\n"
      "the file sizes instead, without opening it (live counts are then unknown).\n"
      "Exit codes: 0 success; 1 the database could not be read; 2 usage error or PATH is not\n"
      "a database.");
  info->add_option("PATH", path, "database directory")->required();
  info->add_flag("--json", json, "print JSON instead of a table");

  CLI::App* verify = app.add_subcommand(
      "verify", "Checks every file and checksum of a database (read-only, no lock needed)");
  verify->footer(
      "Reads the MANIFEST, verifies every section checksum of every listed segment and every\n"
      "record of every write-ahead log still needed, and checks that the files agree with the\n"
      "MANIFEST. Read-only: takes no lock and changes nothing, so it may run while another\n"
      "process uses the database. One line per file:\n"
      "  OK       intact\n"
      "  DAMAGED  damaged (with the reason): opening would fail or data is lost\n"
      "  WARNING  a torn log tail: a write a crash interrupted, which recovery drops\n"
      "  NOTE     a leftover or unknown file, which the next open removes or ignores\n"
      "Exit codes: 0 intact (warnings and notes allowed); 1 damage found; 2 usage error or\n"
      "PATH is not a database.");
  verify->add_option("PATH", path, "database directory")->required();
  verify->add_flag("--json", json, "print JSON instead of one line per file");

  CLI::App* serve = app.add_subcommand("serve", "Serves a database over HTTP (docs/SERVER.md)");
  serve->footer(
      "Opens the database directory (as the embedded API does: one data format) and serves it\n"
      "until SIGTERM or SIGINT, then answers the requests in flight, syncs and closes the\n"
      "database and exits 0. Settings come from --config (a JSON file; docs/SERVER.md lists\n"
      "its keys), then from the flags, which win. Without any API key every route is open:\n"
      "bind to 127.0.0.1 (the default) or give keys.\n"
      "Exit codes: 0 drained and closed; 1 the database could not be opened or served;\n"
      "2 usage error or a bad setting.");
  serve->add_option("PATH", path, "database directory")->required();
  std::string config;
  nearstore::server::ServerOptions flags;
  std::vector<std::string> keys, read_keys;
  serve->add_option("--config", config, "JSON config file");
  serve->add_option("--address", flags.address, "address to listen on (default 127.0.0.1)");
  serve->add_option("--port", flags.port, "port (default 6333; 0 = any free port)");
  serve->add_option("--io-threads", flags.io_threads,
                    "threads reading and writing connections and running short reads "
                    "(default: one per core, at least 2)");
  serve->add_option("--worker-threads", flags.worker_threads,
                    "threads running writes, batches and scans (0 = one per core)");
  serve->add_option("--busy-poll-us", flags.busy_poll_us,
                    "microseconds an I/O thread polls for the next request before sleeping "
                    "(default 0; lower latency for more CPU)");
  serve->add_option("--max-body-bytes", flags.max_body_bytes, "largest request body accepted");
  serve->add_option("--max-response-bytes", flags.max_response_bytes,
                    "largest response body sent (default 64 MiB; larger answers get 400)");
  serve->add_option("--max-connections", flags.max_connections, "most connections open at once");
  serve->add_option("--request-timeout-ms", flags.request_timeout_ms,
                    "time allowed to send one request");
  serve->add_option("--tls-cert", flags.tls_cert_file, "TLS certificate chain (PEM)");
  serve->add_option("--tls-key", flags.tls_key_file, "TLS private key (PEM)");
  serve->add_option("--api-key", keys, "a read-write API key (repeatable)");
  serve->add_option("--read-only-key", read_keys, "a read-only API key (repeatable)");
  bool no_access_log = false;
  serve->add_flag("--no-access-log", no_access_log, "no JSON line per request on stderr");

  // CLI11 reports an unknown verb as "A subcommand is required"; say what was wrong instead.
  const std::string_view verb = argc > 1 ? argv[1] : "";
  if (argc > 1 && argv[1][0] != '-' && verb != "info" && verb != "verify" && verb != "serve") {
    std::fprintf(
        stderr, "nearstore: unknown verb '%s'; expected 'info', 'verify' or 'serve' (see --help)\n",
        argv[1]);
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints help, version or the error with a usage hint
    return rc == 0 ? kExitOk : kExitUsage;
  }

  if (info->parsed()) return RunInfo(path, json);
  if (verify->parsed()) return RunVerify(path, json);
  if (serve->parsed()) return RunServe(path, config, flags, *serve, keys, read_keys);
  return kExitUsage;  // unreachable: require_subcommand(1)
}
