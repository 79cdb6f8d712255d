// The `nearstore` command: tools for a database directory.
//
//   nearstore info PATH [--json]     collections, counts, segments, sizes
//   nearstore verify PATH [--json]   checks every file and checksum, read-only
//
// Exit codes: 0 success (verify: everything intact); 1 failure (info: the database could not
// be read; verify: damage found); 2 usage error (unknown verb or option, missing PATH, PATH not
// a database) or a check that could not run at all.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <string_view>

#include "cli/info.h"
#include "cli/verify.h"
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
  auto report = nearstore::cli::VerifyDatabase(nearstore::storage::PosixEnv(), path);
  if (!report.ok()) {
    std::fprintf(stderr, "nearstore verify: %s\n", report.status().ToString().c_str());
    return kExitUsage;  // nothing was checked
  }
  const std::string text = json ? nearstore::cli::VerifyReportToJson(*report, path)
                                : nearstore::cli::FormatVerifyReport(*report, path);
  std::fputs(text.c_str(), stdout);
  return report->damaged() ? kExitFailed : kExitOk;
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

  // CLI11 reports an unknown verb as "A subcommand is required"; say what was wrong instead.
  if (argc > 1 && argv[1][0] != '-' && std::string_view(argv[1]) != "info" &&
      std::string_view(argv[1]) != "verify") {
    std::fprintf(stderr, "nearstore: unknown verb '%s'; expected 'info' or 'verify' (see --help)\n",
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
  return kExitUsage;  // unreachable: require_subcommand(1)
}
