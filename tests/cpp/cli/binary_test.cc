// The `nearstore` binary itself: help, exit codes, and what it prints.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "test_db.h"

namespace nearstore::cli {
namespace {

using testing::BuildDatabase;
using testing::TempDir;

struct CliRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `nearstore ARGS` (built next to this test; path from CMake) through the shell.
CliRun RunCli(const std::string& args) {
  const std::string command = std::string(NEARSTORE_CLI_BINARY) + " " + args + " 2>&1";
  CliRun run;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) run.output.append(buf, n);
  const int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

TEST(BinaryTest, HelpForEveryVerb) {
  CliRun top = RunCli("--help");
  EXPECT_EQ(top.exit_code, 0) << top.output;
  EXPECT_NE(top.output.find("info"), std::string::npos) << top.output;
  EXPECT_NE(top.output.find("verify"), std::string::npos) << top.output;
  for (const char* verb : {"info", "verify"}) {
    CliRun r = RunCli(std::string(verb) + " --help");
    EXPECT_EQ(r.exit_code, 0) << verb << ": " << r.output;
    EXPECT_NE(r.output.find("PATH"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("--json"), std::string::npos) << r.output;
  }
  CliRun version = RunCli("--version");
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.output.find("nearstore"), std::string::npos);
}

TEST(BinaryTest, UsageErrorsExitWith2) {
  EXPECT_EQ(RunCli("").exit_code, 2);
  CliRun unknown = RunCli("frobnicate /tmp");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.output.find("unknown verb 'frobnicate'"), std::string::npos) << unknown.output;
  EXPECT_EQ(RunCli("verify").exit_code, 2);  // PATH missing
  EXPECT_EQ(RunCli("info").exit_code, 2);
  EXPECT_EQ(RunCli("verify --bogus /tmp").exit_code, 2);  // unknown option
  TempDir tmp("cli_usage");
  CliRun missing = RunCli("verify " + Quote(tmp.path()));
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find("does not exist"), std::string::npos) << missing.output;
  EXPECT_EQ(RunCli("info " + Quote(tmp.path())).exit_code, 2);
  EXPECT_FALSE(std::filesystem::exists(tmp.path()));  // info created nothing
}

TEST(BinaryTest, VerifyExitCodes) {
  TempDir tmp("cli_verify");
  BuildDatabase(tmp.path());
  CliRun clean = RunCli("verify " + Quote(tmp.path()));
  EXPECT_EQ(clean.exit_code, 0) << clean.output;
  EXPECT_NE(clean.output.find("OK      MANIFEST"), std::string::npos) << clean.output;
  EXPECT_EQ(clean.output.find("DAMAGED"), std::string::npos) << clean.output;

  CliRun json = RunCli("verify --json " + Quote(tmp.path()));
  EXPECT_EQ(json.exit_code, 0) << json.output;
  EXPECT_EQ(nlohmann::json::parse(json.output)["ok"], true);

  const std::string seg = testing::FindFiles(tmp.path(), "seg-").at(0);
  const std::string path = tmp.path() + "/" + seg;
  testing::FlipByte(path, std::filesystem::file_size(path) / 2);
  CliRun damaged = RunCli("verify " + Quote(tmp.path()));
  EXPECT_EQ(damaged.exit_code, 1) << damaged.output;
  EXPECT_NE(damaged.output.find("DAMAGED " + seg), std::string::npos) << damaged.output;
}

TEST(BinaryTest, InfoPrintsCollectionsAndFallsBackWhenLocked) {
  TempDir tmp("cli_info");
  BuildDatabase(tmp.path());
  CliRun info = RunCli("info " + Quote(tmp.path()));
  EXPECT_EQ(info.exit_code, 0) << info.output;
  EXPECT_NE(info.output.find("docs"), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("cosine"), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("total"), std::string::npos) << info.output;

  CliRun json = RunCli("info --json " + Quote(tmp.path()));  // nothing on stderr when it opens
  ASSERT_EQ(json.exit_code, 0) << json.output;
  auto doc = nlohmann::json::parse(json.output);
  EXPECT_EQ(doc["opened"], true);
  EXPECT_EQ(doc["collections"][0]["name"], "docs");
  EXPECT_EQ(doc["collections"][0]["live"], 109);

  // This process holds the lock: the binary must say so and still answer.
  auto db = Database::Open(tmp.path());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  CliRun locked = RunCli("info " + Quote(tmp.path()));
  EXPECT_EQ(locked.exit_code, 0) << locked.output;
  EXPECT_NE(locked.output.find("locked by another process"), std::string::npos) << locked.output;
  EXPECT_NE(locked.output.find("docs"), std::string::npos) << locked.output;
  // verify needs no lock.
  CliRun verify = RunCli("verify " + Quote(tmp.path()));
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
}

}  // namespace
}  // namespace nearstore::cli
