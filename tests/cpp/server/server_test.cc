// The server's building blocks without a socket: Router and PercentDecode, the Authorizer of
// API keys, the config file and ValidateOptions, and the Prometheus text of Metrics.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "nearstore/database.h"
#include "server/api_keys.h"
#include "server/metrics.h"
#include "server/router.h"
#include "server/server_options.h"

namespace nearstore::server {
namespace {

using ::testing::HasSubstr;

// ---------------------------------------------------------------------------------------------
// Router

Handler Answer(unsigned status) {
  return [status](const Request&) { return Response{status, "", "text/plain"}; };
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add(Method::kGet, "/", Access::kReadOnly, Answer(200));
    router_.Add(Method::kGet, "/v1/collections", Access::kReadOnly, Answer(201));
    router_.Add(Method::kPost, "/v1/collections", Access::kReadWrite, Answer(202));
    router_.Add(Method::kGet, "/v1/collections/{collection}", Access::kReadOnly, Answer(203));
    router_.Add(Method::kPost, "/v1/collections/{collection}/search", Access::kReadOnly,
                Answer(204));
    router_.Add(Method::kGet, "/healthz", Access::kReadOnly, Answer(205), /*open=*/true);
  }

  // The status the matched route's handler answers (0 when no route matched).
  unsigned Served(const Router::Match& m) const {
    return m.route == nullptr ? 0 : m.route->handler(Request{}).status;
  }

  Router router_;
};

TEST_F(RouterTest, MatchesLiteralRoutesByMethod) {
  auto m = router_.Find(Method::kGet, "/v1/collections");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/v1/collections");
  EXPECT_EQ(m.route->access, Access::kReadOnly);
  EXPECT_EQ(Served(m), 201u);
  EXPECT_TRUE(m.params.empty());
  EXPECT_TRUE(m.bad_name.empty());

  m = router_.Find(Method::kPost, "/v1/collections");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->access, Access::kReadWrite);
  EXPECT_EQ(Served(m), 202u);

  m = router_.Find(Method::kGet, "/");
  EXPECT_EQ(Served(m), 200u);

  m = router_.Find(Method::kGet, "/healthz");
  ASSERT_NE(m.route, nullptr);
  EXPECT_TRUE(m.route->open);
  EXPECT_FALSE(router_.Find(Method::kGet, "/").route->open);
}

TEST_F(RouterTest, MatchesParameters) {
  auto m = router_.Find(Method::kGet, "/v1/collections/docs");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/v1/collections/{collection}");
  EXPECT_EQ(Served(m), 203u);
  EXPECT_TRUE(m.bad_name.empty());
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params.at("collection"), "docs");

  m = router_.Find(Method::kPost, "/v1/collections/my_docs-2.v1/search");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(Served(m), 204u);
  EXPECT_EQ(m.params.at("collection"), "my_docs-2.v1");
}

TEST_F(RouterTest, WrongMethodOnAKnownPathIs405) {
  auto m = router_.Find(Method::kDelete, "/v1/collections");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.path_known);

  m = router_.Find(Method::kGet, "/v1/collections/docs/search");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.path_known);

  m = router_.Find(Method::kHead, "/healthz");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.path_known);
}

TEST_F(RouterTest, UnknownPathsMatchNothing) {
  for (const char* path : {"/nope", "/v1", "/v1/collections/docs/search/more", "/v1/collection",
                           "/V1/collections", "", "v1/collections", "/healthz/"}) {
    SCOPED_TRACE(path);
    const auto m = router_.Find(Method::kGet, path);
    EXPECT_EQ(m.route, nullptr);
    EXPECT_FALSE(m.path_known);
    EXPECT_TRUE(m.params.empty());
  }
}

TEST_F(RouterTest, DecodesParameters) {
  auto m = router_.Find(Method::kGet, "/v1/collections/my%2Ddocs");
  ASSERT_NE(m.route, nullptr);
  EXPECT_TRUE(m.bad_name.empty());
  EXPECT_EQ(m.params.at("collection"), "my-docs");

  m = router_.Find(Method::kGet, "/v1/collections/%41b%63");
  ASSERT_NE(m.route, nullptr);
  EXPECT_TRUE(m.bad_name.empty());
  EXPECT_EQ(m.params.at("collection"), "Abc");
}

TEST_F(RouterTest, InvalidNamesAreReportedRaw) {
  const std::string too_long(129, 'a');
  for (const std::string& segment :
       std::vector<std::string>{"%4", "%zz", "abc%", "..", ".", "%2E%2E", "a%2Fb", "a%2fb", "a%20b",
                                "a%00b", "%C3%A9", too_long}) {
    SCOPED_TRACE(segment);
    const auto m = router_.Find(Method::kGet, "/v1/collections/" + segment);
    ASSERT_NE(m.route, nullptr);  // the route is known: the answer is 400, not 404
    EXPECT_EQ(m.bad_name, segment);
  }
  const std::string longest(128, 'a');
  const auto m = router_.Find(Method::kGet, "/v1/collections/" + longest);
  ASSERT_NE(m.route, nullptr);
  EXPECT_TRUE(m.bad_name.empty());
  EXPECT_EQ(m.params.at("collection"), longest);
}

// An empty parameter segment ("/v1/collections/", "/v1/collections//search") names
// nothing: no route matches (404), and no handler sees an unvalidated name.
TEST_F(RouterTest, EmptyParameterIsNotAValidName) {
  for (const char* path : {"/v1/collections/", "/v1/collections//search"}) {
    SCOPED_TRACE(path);
    const Method method = std::string(path).ends_with("search") ? Method::kPost : Method::kGet;
    const auto m = router_.Find(method, path);
    EXPECT_TRUE(m.route == nullptr || !m.bad_name.empty())
        << "route " << m.route->pattern << " matched with collection '" << m.params.at("collection")
        << "' and no bad_name";
  }
}

TEST(MethodNameTest, NamesEveryMethod) {
  EXPECT_STREQ(MethodName(Method::kGet), "GET");
  EXPECT_STREQ(MethodName(Method::kPost), "POST");
  EXPECT_STREQ(MethodName(Method::kPut), "PUT");
  EXPECT_STREQ(MethodName(Method::kPatch), "PATCH");
  EXPECT_STREQ(MethodName(Method::kDelete), "DELETE");
  EXPECT_STREQ(MethodName(Method::kHead), "HEAD");
  EXPECT_STREQ(MethodName(Method::kOther), "OTHER");
}

TEST(PercentDecodeTest, DecodesValidSequences) {
  struct Case {
    std::string in, out;
  };
  const Case cases[] = {
      {"", ""},         {"abc", "abc"},    {"%41", "A"},
      {"%4a%4A", "JJ"}, {"a%2Fb", "a/b"},  {"%25", "%"},
      {"%2541", "%41"},  // decoded once only
      {"+", "+"},        // not form encoding
      {"%7e%7E", "~~"}, {"x%ff", "x\xff"}, {std::string("%00", 3), std::string("\0", 1)},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    std::string out = "junk left over";
    ASSERT_TRUE(PercentDecode(c.in, &out));
    EXPECT_EQ(out, c.out);
  }
}

TEST(PercentDecodeTest, RefusesMalformedSequences) {
  for (const char* in :
       {"%", "%4", "a%", "ab%4", "%zz", "%g1", "%1g", "%%41", "100%", "% 41", "%-1", "%+1"}) {
    SCOPED_TRACE(in);
    std::string out;
    EXPECT_FALSE(PercentDecode(in, &out));
  }
}

TEST(IsValidNameTest, FollowsTheEngineRule) {
  for (const std::string& name :
       std::vector<std::string>{"a", "docs", "A-Z_0.9", "...", ".a", std::string(128, 'x')}) {
    EXPECT_TRUE(IsValidName(name)) << name;
  }
  for (const std::string& name :
       std::vector<std::string>{"", ".", "..", "a/b", "a b", "é", "a\\b", std::string(129, 'x'),
                                std::string("a\0b", 3)}) {
    EXPECT_FALSE(IsValidName(name)) << name;
  }
}

// ---------------------------------------------------------------------------------------------
// Authorizer

const char kRwKey[] = "rw-key-0123456789abcdef";
const char kRoKey[] = "ro-key-0123456789abcdef";
const char kLimitedKey[] = "limited-key-0123456789";

std::vector<ApiKey> Keys() {
  return {ApiKey{kRwKey, Access::kReadWrite, {}}, ApiKey{kRoKey, Access::kReadOnly, {}},
          ApiKey{kLimitedKey, Access::kReadWrite, {"docs", "faq"}}};
}

TEST(AuthorizerTest, FindsTheKeyPresented) {
  const Authorizer auth(Keys());
  EXPECT_TRUE(auth.enabled());
  for (const char* key : {kRwKey, kRoKey, kLimitedKey}) {
    const ApiKey* found = auth.Find(key);
    ASSERT_NE(found, nullptr) << key;
    EXPECT_EQ(found->key, key);
  }
  EXPECT_EQ(auth.Find(kRoKey)->access, Access::kReadOnly);
  EXPECT_EQ(auth.Find(kRwKey)->access, Access::kReadWrite);
  EXPECT_THAT(auth.Find(kLimitedKey)->collections, ::testing::ElementsAre("docs", "faq"));
  // The same pointer each time: the Authorizer's own copy.
  EXPECT_EQ(auth.Find(kRwKey), auth.Find(std::string(kRwKey)));
}

TEST(AuthorizerTest, RefusesOtherKeys) {
  const Authorizer auth(Keys());
  const std::string rw = kRwKey;
  for (const std::string& presented :
       std::vector<std::string>{std::string("unknown-key-0123456789"), std::string(),
                                rw.substr(0, rw.size() - 1), rw.substr(0, 6), rw + "x", " " + rw,
                                "RW-KEY-0123456789ABCDEF", std::string(kRwKey, 3)}) {
    EXPECT_EQ(auth.Find(presented), nullptr) << "'" << presented << "'";
  }
}

TEST(AuthorizerTest, WithoutKeysNothingIsFound) {
  const Authorizer auth({});
  EXPECT_FALSE(auth.enabled());
  EXPECT_EQ(auth.Find(""), nullptr);
  EXPECT_EQ(auth.Find(kRwKey), nullptr);
}

TEST(AuthorizerTest, PresentedPrefersTheApiKeyHeader) {
  EXPECT_EQ(Authorizer::Presented("k1", "Bearer k2"), "k1");
  EXPECT_EQ(Authorizer::Presented("k1", ""), "k1");
  EXPECT_EQ(Authorizer::Presented("", "Bearer k2"), "k2");
  EXPECT_EQ(Authorizer::Presented("", "bearer k2"), "k2");
  EXPECT_EQ(Authorizer::Presented("", "BEARER k2"), "k2");
  EXPECT_EQ(Authorizer::Presented("", "bEaReR some key"), "some key");
}

TEST(AuthorizerTest, PresentedRefusesOtherSchemes) {
  for (const char* authorization : {"", "Basic k2", "Bearer", "Bearer ", "Bearerk2", "Bearer\tk2",
                                    "Token k2", "k2", " Bearer k2", "Bearer_k2"}) {
    EXPECT_EQ(Authorizer::Presented("", authorization), "") << "'" << authorization << "'";
  }
}

TEST(AuthorizerTest, AllowsByAccessAndCollection) {
  const auto keys = Keys();
  const ApiKey& rw = keys[0];
  const ApiKey& ro = keys[1];
  const ApiKey& limited = keys[2];

  EXPECT_TRUE(Authorizer::Allows(rw, Access::kReadOnly, "docs"));
  EXPECT_TRUE(Authorizer::Allows(rw, Access::kReadWrite, "docs"));
  EXPECT_TRUE(Authorizer::Allows(rw, Access::kReadWrite, ""));

  EXPECT_TRUE(Authorizer::Allows(ro, Access::kReadOnly, "docs"));
  EXPECT_TRUE(Authorizer::Allows(ro, Access::kReadOnly, ""));
  EXPECT_FALSE(Authorizer::Allows(ro, Access::kReadWrite, "docs"));
  EXPECT_FALSE(Authorizer::Allows(ro, Access::kReadWrite, ""));

  EXPECT_TRUE(Authorizer::Allows(limited, Access::kReadWrite, "docs"));
  EXPECT_TRUE(Authorizer::Allows(limited, Access::kReadOnly, "faq"));
  EXPECT_FALSE(Authorizer::Allows(limited, Access::kReadOnly, "other"));
  EXPECT_FALSE(Authorizer::Allows(limited, Access::kReadOnly, "doc"));
  EXPECT_FALSE(Authorizer::Allows(limited, Access::kReadOnly, "docs2"));
  EXPECT_FALSE(Authorizer::Allows(limited, Access::kReadOnly, ""));  // listing, creating
  EXPECT_FALSE(Authorizer::Allows(limited, Access::kReadWrite, ""));

  const ApiKey limited_ro{"x", Access::kReadOnly, {"docs"}};
  EXPECT_TRUE(Authorizer::Allows(limited_ro, Access::kReadOnly, "docs"));
  EXPECT_FALSE(Authorizer::Allows(limited_ro, Access::kReadWrite, "docs"));
}

// ---------------------------------------------------------------------------------------------
// Config file and ValidateOptions

// A config file with `text` in the test's temporary directory, removed at the end.
class ConfigFile {
 public:
  explicit ConfigFile(const std::string& text) {
    static std::atomic<int> counter{0};
    path_ = (std::filesystem::temp_directory_path() /
             ("nearstore_server_test_" + std::to_string(::getpid()) + "_" +
              std::to_string(counter++) + ".json"))
                .string();
    std::ofstream(path_) << text;
  }
  ~ConfigFile() { std::filesystem::remove(path_); }
  ConfigFile(const ConfigFile&) = delete;
  ConfigFile& operator=(const ConfigFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(LoadConfigFileTest, ReadsEverySetting) {
  const ConfigFile file(R"({
    "address": "0.0.0.0", "port": 8080, "io_threads": 3, "worker_threads": 5,
    "max_body_bytes": 2048, "max_header_bytes": 4096, "max_batch_points": 7, "max_limit": 9,
    "max_connections": 11, "max_pending_requests": 13, "request_timeout_ms": 15,
    "idle_timeout_ms": 17, "drain_timeout_ms": 0, "busy_poll_us": 19, "access_log": false,
    "api_keys": [
      {"key": "a-long-random-read-write-key"},
      {"key": "a-long-random-read-only-key", "access": "read-only"},
      {"key": "a-key-for-two-collections", "access": "read-write", "collections": ["docs", "faq"]}
    ]})");
  ServerOptions o;
  const Status s = LoadConfigFile(file.path(), &o);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(o.address, "0.0.0.0");
  EXPECT_EQ(o.port, 8080);
  EXPECT_EQ(o.io_threads, 3);
  EXPECT_EQ(o.worker_threads, 5);
  EXPECT_EQ(o.max_body_bytes, 2048u);
  EXPECT_EQ(o.max_header_bytes, 4096u);
  EXPECT_EQ(o.max_batch_points, 7u);
  EXPECT_EQ(o.max_limit, 9u);
  EXPECT_EQ(o.max_connections, 11u);
  EXPECT_EQ(o.max_pending_requests, 13u);
  EXPECT_EQ(o.request_timeout_ms, 15u);
  EXPECT_EQ(o.idle_timeout_ms, 17u);
  EXPECT_EQ(o.drain_timeout_ms, 0u);
  EXPECT_EQ(o.busy_poll_us, 19u);
  EXPECT_FALSE(o.access_log);
  ASSERT_EQ(o.api_keys.size(), 3u);
  EXPECT_EQ(o.api_keys[0].key, "a-long-random-read-write-key");
  EXPECT_EQ(o.api_keys[0].access, Access::kReadWrite);
  EXPECT_TRUE(o.api_keys[0].collections.empty());
  EXPECT_EQ(o.api_keys[1].key, "a-long-random-read-only-key");
  EXPECT_EQ(o.api_keys[1].access, Access::kReadOnly);
  EXPECT_EQ(o.api_keys[2].access, Access::kReadWrite);
  EXPECT_THAT(o.api_keys[2].collections, ::testing::ElementsAre("docs", "faq"));
  EXPECT_TRUE(ValidateOptions(o).ok());
}

TEST(LoadConfigFileTest, KeysNotInTheFileKeepTheirValue) {
  const ConfigFile file(R"({"port": 0})");
  ServerOptions o;
  o.address = "10.1.2.3";
  o.max_limit = 42;
  o.api_keys = {ApiKey{"kept-key-0123456789", Access::kReadOnly, {}}};
  ASSERT_TRUE(LoadConfigFile(file.path(), &o).ok());
  EXPECT_EQ(o.port, 0);
  EXPECT_EQ(o.address, "10.1.2.3");
  EXPECT_EQ(o.max_limit, 42u);
  ASSERT_EQ(o.api_keys.size(), 1u);
  EXPECT_EQ(o.api_keys[0].key, "kept-key-0123456789");

  const ConfigFile empty("{}");
  ServerOptions defaults;
  ASSERT_TRUE(LoadConfigFile(empty.path(), &defaults).ok());
  EXPECT_EQ(defaults.port, 6333);
  EXPECT_TRUE(defaults.access_log);
}

// The message LoadConfigFile gives for a file holding `text` ("" when it is accepted).
std::string ConfigError(const std::string& text) {
  const ConfigFile file(text);
  ServerOptions o;
  const Status s = LoadConfigFile(file.path(), &o);
  if (s.ok()) return "";
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr(file.path()));  // names the file
  return s.message();
}

TEST(LoadConfigFileTest, RefusesUnknownSettingsNamingThem) {
  EXPECT_THAT(ConfigError(R"({"port": 1, "colour": "blue"})"),
              HasSubstr("unknown setting \"colour\""));
  EXPECT_THAT(ConfigError(R"({"Port": 1})"), HasSubstr("unknown setting \"Port\""));
}

TEST(LoadConfigFileTest, RefusesWrongTypesNamingTheKey) {
  EXPECT_THAT(ConfigError(R"({"port": "80"})"), HasSubstr("\"port\" must be an integer"));
  EXPECT_THAT(ConfigError(R"({"port": 80.5})"), HasSubstr("\"port\" must be an integer"));
  EXPECT_THAT(ConfigError(R"({"port": true})"), HasSubstr("\"port\""));
  EXPECT_THAT(ConfigError(R"({"address": 5})"), HasSubstr("\"address\" must be a string"));
  EXPECT_THAT(ConfigError(R"({"access_log": 1})"), HasSubstr("\"access_log\" must be true"));
  EXPECT_THAT(ConfigError(R"({"max_limit": null})"), HasSubstr("\"max_limit\""));
  EXPECT_THAT(ConfigError(R"({"api_keys": {"key": "x"}})"),
              HasSubstr("\"api_keys\" must be a list"));
  EXPECT_THAT(ConfigError(R"({"api_keys": ["a-long-random-key-1234"]})"),
              HasSubstr("api_keys[0] must be an object"));
  EXPECT_THAT(ConfigError(R"({"api_keys": [{"key": "a-long-random-key-1234"}, {"key": 5}]})"),
              HasSubstr("api_keys[1]"));
  EXPECT_THAT(ConfigError(R"({"api_keys": [{"key": "a-long-random-key-1234", "acess": "x"}]})"),
              HasSubstr("\"acess\""));
  EXPECT_THAT(
      ConfigError(R"({"api_keys": [{"key": "a-long-random-key-1234", "access": "admin"}]})"),
      HasSubstr("\"access\""));
  EXPECT_THAT(
      ConfigError(R"({"api_keys": [{"key": "a-long-random-key-1234", "collections": [1]}]})"),
      HasSubstr("api_keys[0].collections must hold names"));
  EXPECT_THAT(
      ConfigError(R"({"api_keys": [{"key": "a-long-random-key-1234", "collections": "docs"}]})"),
      HasSubstr("\"collections\""));
}

TEST(LoadConfigFileTest, RefusesOutOfRangeNumbers) {
  EXPECT_EQ(ConfigError(R"({"port": 65535})"), "");
  EXPECT_THAT(ConfigError(R"({"port": 65536})"),
              HasSubstr("\"port\" must be an integer in 0..65535, got 65536"));
  EXPECT_THAT(ConfigError(R"({"port": -1})"), HasSubstr("\"port\" must be an integer in 0..65535"));
  EXPECT_THAT(ConfigError(R"({"port": 18446744073709551615})"), HasSubstr("\"port\""));
  EXPECT_THAT(ConfigError(R"({"io_threads": 0})"), HasSubstr("\"io_threads\""));
  EXPECT_THAT(ConfigError(R"({"max_body_bytes": 1023})"), HasSubstr("\"max_body_bytes\""));
  EXPECT_THAT(ConfigError(R"({"max_limit": 100001})"), HasSubstr("\"max_limit\""));
  EXPECT_THAT(ConfigError(R"({"request_timeout_ms": 0})"), HasSubstr("\"request_timeout_ms\""));
}

TEST(LoadConfigFileTest, RefusesFilesThatAreNotAJsonObject) {
  EXPECT_THAT(ConfigError(""), HasSubstr("not valid JSON"));
  EXPECT_THAT(ConfigError("{\"port\": 1"), HasSubstr("not valid JSON"));
  EXPECT_THAT(ConfigError("port = 1"), HasSubstr("not valid JSON"));
  EXPECT_THAT(
      ConfigError("{\"port\": " + std::string(100000, '[') + std::string(100000, ']') + "}"),
      HasSubstr("nests deeper than 64"));
  EXPECT_THAT(ConfigError("[1, 2]"), HasSubstr("expected a JSON object"));
  EXPECT_THAT(ConfigError("8080"), HasSubstr("expected a JSON object"));
}

TEST(LoadConfigFileTest, RefusesAMissingFile) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("nearstore_server_test_missing_" + std::to_string(::getpid())))
                               .string();
  ServerOptions o;
  const Status s = LoadConfigFile(path, &o);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr(path));
  EXPECT_THAT(s.message(), HasSubstr("cannot be read"));
}

// The TLS settings docs/SERVER.md lists are read from the config file.
TEST(LoadConfigFileTest, ReadsTheTlsFiles) {
  const ConfigFile file(R"({"tls_cert_file": "/etc/cert.pem", "tls_key_file": "/etc/key.pem"})");
  ServerOptions o;
  const Status s = LoadConfigFile(file.path(), &o);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(o.tls_cert_file, "/etc/cert.pem");
  EXPECT_EQ(o.tls_key_file, "/etc/key.pem");
}

TEST(ValidateOptionsTest, ChecksKeysAndThreads) {
  ServerOptions o;
  EXPECT_TRUE(ValidateOptions(o).ok());

  o.api_keys = {ApiKey{std::string(16, 'k'), Access::kReadWrite, {}}};
  EXPECT_TRUE(ValidateOptions(o).ok());

  o.api_keys = {ApiKey{std::string(15, 'k'), Access::kReadWrite, {}}};
  Status s = ValidateOptions(o);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("at least 16 characters"));

  o.api_keys = {ApiKey{"", Access::kReadWrite, {}}};
  EXPECT_FALSE(ValidateOptions(o).ok());

  o.api_keys = {ApiKey{"the-same-key-0123456789", Access::kReadWrite, {}},
                ApiKey{"another-key-0123456789", Access::kReadWrite, {}},
                ApiKey{"the-same-key-0123456789", Access::kReadOnly, {}}};
  s = ValidateOptions(o);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("listed twice"));
  // The message never shows the key itself.
  EXPECT_THAT(s.message(), ::testing::Not(HasSubstr("the-same-key")));

  o.api_keys.clear();
  o.io_threads = 0;
  EXPECT_FALSE(ValidateOptions(o).ok());
  o.io_threads = 1;
  o.worker_threads = -1;
  EXPECT_FALSE(ValidateOptions(o).ok());
  o.worker_threads = 0;
  EXPECT_TRUE(ValidateOptions(o).ok());
}

// Key settings fail closed: what would grant everything or nothing by mistake is refused at
// start, naming what was wrong.
TEST(LoadConfigFileTest, RefusesKeySettingsThatWouldFailOpen) {
  // An empty list of collections used to mean every collection, with read-write access.
  EXPECT_THAT(
      ConfigError(R"({"api_keys": [{"key": "a-long-random-key-1234", "collections": []}]})"),
      HasSubstr("api_keys[0].collections is empty, which would grant no collection"));
  // An empty list of keys leaves every route open: refused rather than taken as configured.
  EXPECT_THAT(ConfigError(R"({"api_keys": []})"), HasSubstr("\"api_keys\" is empty"));
  EXPECT_THAT(ConfigError(R"({"api_keys": [{"access": "read-only"}]})"),
              HasSubstr("api_keys[0] has no \"key\""));
  EXPECT_THAT(ConfigError(R"({"api_keys": [{"key": null}]})"), HasSubstr("\"key\""));
  EXPECT_THAT(ConfigError(R"({"api_keys": [{"key": "a-long-random-key-1234", "access": 1}]})"),
              HasSubstr("\"access\""));
  EXPECT_THAT(
      ConfigError(R"({"api_keys": [{"key": "a-long-random-key-1234", "access": "READ-ONLY"}]})"),
      HasSubstr("\"access\""));
  // A JSON parser keeps the last of two members of one name: refused, not read as the last.
  EXPECT_THAT(ConfigError(R"({"api_keys": [{"key": "a-long-random-key-1234",
                                            "access": "read-only", "access": "read-write"}]})"),
              HasSubstr("\"access\" is given twice in one object"));
  EXPECT_THAT(ConfigError(R"({"port": 1, "port": 2})"), HasSubstr("\"port\" is given twice"));
  EXPECT_THAT(ConfigError(R"({"api_keys": [{"key": "a-long-random-key-1234"},
                                           {"key": "another-long-key-12345"}]})"),
              "");  // the same names in two objects are no repeat
}

// A key a request can never present (an HTTP header drops spaces at its ends and cannot carry
// control characters) is refused at start, saying why, and not shown.
TEST(ValidateOptionsTest, RefusesKeysAHeaderCannotCarry) {
  for (const std::string& key : std::vector<std::string>{
           std::string(16, ' '), " leading-space-0123456789", "trailing-space-0123456789 ",
           "tab\tinside-0123456789", std::string("nul\0inside-0123456789", 22),
           "line\r\nbreak-0123456789", "delete\x7f-0123456789", "caf\xc3\xa9-key-0123456789"}) {
    ServerOptions o;
    o.api_keys = {ApiKey{"a-good-key-0123456789", Access::kReadWrite, {}},
                  ApiKey{key, Access::kReadOnly, {}}};
    const Status s = ValidateOptions(o);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << "'" << key << "'";
    EXPECT_THAT(s.message(), HasSubstr("API key #2")) << "'" << key << "'";
    EXPECT_THAT(s.message(), HasSubstr("no request could present it")) << "'" << key << "'";
    EXPECT_THAT(s.message(), ::testing::Not(HasSubstr("0123456789")));
  }
  ServerOptions o;
  o.api_keys = {ApiKey{"a key with inner spaces 01", Access::kReadWrite, {}}};
  EXPECT_TRUE(ValidateOptions(o).ok());
}

// The collections a key is limited to must be valid names.
TEST(ValidateOptionsTest, ChecksTheCollectionNamesOfKeys) {
  for (const char* bad : {"..", "a/b", ""}) {
    ServerOptions o;
    o.api_keys = {ApiKey{"a-long-random-key-0123", Access::kReadWrite, {"docs", bad}}};
    EXPECT_FALSE(ValidateOptions(o).ok()) << "collection '" << bad << "'";
  }
}

// ---------------------------------------------------------------------------------------------
// Metrics

// The lines of `text` that start with `prefix`.
std::vector<std::string> LinesStartingWith(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(prefix)) out.push_back(line);
  }
  return out;
}

// The number at the end of the single line starting with `prefix` (NaN when not exactly one).
double Value(const std::string& text, const std::string& prefix) {
  const auto lines = LinesStartingWith(text, prefix);
  if (lines.size() != 1) {
    ADD_FAILURE() << lines.size() << " lines start with " << prefix << " in:\n" << text;
    return std::nan("");
  }
  return std::strtod(lines[0].c_str() + lines[0].rfind(' ') + 1, nullptr);
}

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::OpenInMemory();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    auto col = db_->CreateCollection("docs", 2, Metric::kL2);
    ASSERT_TRUE(col.ok()) << col.status().ToString();
    const std::vector<Point> points = {
        {"a", {1, 0}, "{}"}, {"b", {0, 1}, "{}"}, {"c", {1, 1}, "{}"}};
    ASSERT_TRUE((*col)->Upsert(points).ok());
    ASSERT_TRUE(db_->CreateCollection("empty", 4, Metric::kCosine).ok());
  }
  void TearDown() override {
    if (db_) {
      EXPECT_TRUE(db_->Close().ok());
    }
  }

  std::unique_ptr<Database> db_;
  Metrics metrics_;
};

TEST_F(MetricsTest, CountsRequestsByMethodRouteAndStatus) {
  metrics_.Observe("GET", "/v1/collections", 200, 0.0002);
  metrics_.Observe("GET", "/v1/collections", 200, 0.0002);
  metrics_.Observe("GET", "/v1/collections", 200, 10.0);  // over every bucket
  metrics_.Observe("POST", "/v1/collections/{collection}/search", 400, 0.003);
  metrics_.Observe("GET", "", 404, 0.00001);
  const std::string text = metrics_.Render(db_.get());

  EXPECT_THAT(text, HasSubstr("# TYPE nearstore_http_requests_total counter\n"));
  EXPECT_THAT(text, HasSubstr("\nnearstore_http_requests_total{method=\"GET\",route=\"/v1/"
                              "collections\",status=\"200\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("\nnearstore_http_requests_total{method=\"POST\",route=\"/v1/"
                              "collections/{collection}/search\",status=\"400\"} 1\n"));
  EXPECT_THAT(
      text,
      HasSubstr("\nnearstore_http_requests_total{method=\"GET\",route=\"\",status=\"404\"} 1\n"));
  EXPECT_EQ(LinesStartingWith(text, "nearstore_http_requests_total{").size(), 3u);
}

TEST_F(MetricsTest, HistogramBucketsAreCumulative) {
  metrics_.Observe("GET", "/v1/collections", 200, 0.0002);
  metrics_.Observe("GET", "/v1/collections", 200, 0.0002);
  metrics_.Observe("GET", "/v1/collections", 200, 0.04);
  metrics_.Observe("GET", "/v1/collections", 200, 10.0);  // over every bucket
  metrics_.Observe("POST", "/other", 201, 0.5);
  const std::string text = metrics_.Render(db_.get());
  EXPECT_THAT(text, HasSubstr("# TYPE nearstore_http_request_duration_seconds histogram\n"));

  const std::string labels = "method=\"GET\",route=\"/v1/collections\"";
  const auto buckets = LinesStartingWith(
      text, "nearstore_http_request_duration_seconds_bucket{" + labels + ",le=\"");
  ASSERT_EQ(buckets.size(), 15u) << text;
  double last_le = -1;
  double last_count = 0;
  std::vector<double> counts;
  for (size_t i = 0; i < buckets.size(); ++i) {
    const std::string& line = buckets[i];
    const size_t le_at = line.find("le=\"") + 4;
    const std::string le = line.substr(le_at, line.find('"', le_at) - le_at);
    const double count = std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr);
    counts.push_back(count);
    EXPECT_GE(count, last_count) << line;
    last_count = count;
    if (i + 1 == buckets.size()) {
      EXPECT_EQ(le, "+Inf") << line;
    } else {
      const double bound = std::strtod(le.c_str(), nullptr);
      EXPECT_GT(bound, last_le) << line;
      last_le = bound;
    }
  }
  EXPECT_EQ(counts.front(), 0);  // le=0.0001
  EXPECT_EQ(counts[1], 2);       // le=0.00025
  EXPECT_EQ(counts[13], 3);      // le=5: the 10 s request is in none
  EXPECT_EQ(counts.back(), 4);   // +Inf: all of them
  EXPECT_DOUBLE_EQ(last_le, 5.0);
  EXPECT_EQ(Value(text, "nearstore_http_request_duration_seconds_count{" + labels + "}"), 4);
  EXPECT_NEAR(Value(text, "nearstore_http_request_duration_seconds_sum{" + labels + "}"), 10.0404,
              1e-9);
  EXPECT_EQ(Value(text,
                  "nearstore_http_request_duration_seconds_bucket{method=\"POST\",route=\"/other\","
                  "le=\"+Inf\"}"),
            1);
}

TEST_F(MetricsTest, GaugesOfConnectionsAndCollections) {
  metrics_.connections = 3;
  metrics_.in_flight = 2;
  const std::string text = metrics_.Render(db_.get());
  EXPECT_EQ(Value(text, "nearstore_http_connections "), 3);
  EXPECT_EQ(Value(text, "nearstore_http_requests_in_flight "), 2);
  EXPECT_THAT(text, HasSubstr("# TYPE nearstore_collection_points gauge\n"));
  EXPECT_EQ(Value(text, "nearstore_collection_points{collection=\"docs\"}"), 3);
  EXPECT_EQ(Value(text, "nearstore_collection_points{collection=\"empty\"}"), 0);
  EXPECT_EQ(Value(text, "nearstore_collection_memtable_rows{collection=\"docs\"}"), 3);
  EXPECT_EQ(LinesStartingWith(text, "nearstore_collection_segments{").size(), 2u);
  EXPECT_EQ(LinesStartingWith(text, "nearstore_collection_disk_bytes{").size(), 2u);
  // Nothing observed: no request series, but the TYPE lines are there.
  EXPECT_TRUE(LinesStartingWith(text, "nearstore_http_requests_total{").empty());
}

TEST_F(MetricsTest, EscapesLabelValues) {
  metrics_.Observe("GET", "a\"b\\c\nd", 200, 0.001);
  const std::string text = metrics_.Render(db_.get());
  EXPECT_THAT(text, HasSubstr("route=\"a\\\"b\\\\c\\nd\",status=\"200\"} 1\n"));
}

TEST_F(MetricsTest, ObserveFromManyThreads) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this] {
      for (int i = 0; i < 250; ++i) metrics_.Observe("GET", "/", 200, 0.001);
    });
  }
  for (auto& t : threads) t.join();
  const std::string text = metrics_.Render(db_.get());
  EXPECT_EQ(Value(text, "nearstore_http_requests_total{method=\"GET\",route=\"/\",status=\"200\"}"),
            1000);
}

}  // namespace
}  // namespace nearstore::server
