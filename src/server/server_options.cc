#include "server/server_options.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "engine/validate.h"
#include "storage/json_text.h"

namespace nearstore::server {
namespace {

using nlohmann::json;

Status Bad(const std::string& path, const std::string& what) {
  return Status::InvalidArgument("config file '" + path + "': " + what);
}

// Reads `doc[key]` as an unsigned integer in [lo, hi] into `out` when present.
template <class T>
Status ReadNumber(const json& doc, const char* key, uint64_t lo, uint64_t hi,
                  const std::string& path, T* out) {
  if (!doc.contains(key)) return Status::Ok();
  const json& v = doc[key];
  if (!v.is_number_unsigned() || v.get<uint64_t>() < lo || v.get<uint64_t>() > hi) {
    return Bad(path, std::string("\"") + key + "\" must be an integer in " + std::to_string(lo) +
                         ".." + std::to_string(hi) + ", got " + v.dump());
  }
  *out = static_cast<T>(v.get<uint64_t>());
  return Status::Ok();
}

// Every key setting fails closed: a wrong type, an unknown field or access kind, a key without
// "key", an empty list of keys or of collections is refused, never read as "no limit".
Status ReadApiKeys(const json& keys, const std::string& path, std::vector<ApiKey>* out) {
  if (!keys.is_array()) return Bad(path, "\"api_keys\" must be a list of objects");
  if (keys.empty()) {
    return Bad(path,
               "\"api_keys\" is empty, which would leave every route open: leave it out to "
               "serve without keys, or list at least one key");
  }
  out->clear();
  for (size_t i = 0; i < keys.size(); ++i) {
    const json& k = keys[i];
    const std::string where = "api_keys[" + std::to_string(i) + "]";
    if (!k.is_object()) return Bad(path, where + " must be an object");
    ApiKey key;
    for (const auto& [name, value] : k.items()) {
      if (name == "key" && value.is_string()) {
        key.key = value.get<std::string>();
      } else if (name == "access" && value.is_string() &&
                 (value == "read-write" || value == "read-only")) {
        key.access = value == "read-only" ? Access::kReadOnly : Access::kReadWrite;
      } else if (name == "collections" && value.is_array()) {
        // In ApiKey an empty list means every collection; here it can only be a mistake.
        if (value.empty()) {
          return Bad(path, where +
                               ".collections is empty, which would grant no collection: leave "
                               "it out for every collection, or name the collections");
        }
        for (const auto& c : value) {
          if (!c.is_string()) return Bad(path, where + ".collections must hold names");
          key.collections.push_back(c.get<std::string>());
        }
      } else {
        return Bad(path, where + ": unknown key or bad value \"" + name +
                             "\" (expected \"key\": string, \"access\": \"read-write\" or "
                             "\"read-only\", \"collections\": list of names)");
      }
    }
    if (!k.contains("key")) return Bad(path, where + " has no \"key\"");
    out->push_back(std::move(key));
  }
  return Status::Ok();
}

// The first member name given twice in one object of `text` ("" when none). A JSON parser
// keeps the last of them, so {"access": "read-only", "access": "read-write"} would silently
// read as read-write. `text` was parsed already (its depth checked): this walk is safe.
std::string DuplicateKey(const std::string& text) {
  std::vector<std::set<std::string>> open;  // the names seen in each object open
  std::string duplicate;
  const json ignored = json::parse(
      text,
      [&](int, json::parse_event_t event, json& parsed) {
        if (event == json::parse_event_t::object_start) {
          open.emplace_back();
        } else if (event == json::parse_event_t::object_end) {
          open.pop_back();
        } else if (event == json::parse_event_t::key && duplicate.empty() &&
                   !open.back().insert(parsed.get<std::string>()).second) {
          duplicate = parsed.get<std::string>();
        }
        return true;
      },
      /*allow_exceptions=*/false);
  return duplicate;
}

// Why `key` can never be presented in a header, or "" when it can: headers carry printable
// ASCII, and lose spaces at either end.
std::string UnpresentableKey(const std::string& key) {
  for (const char c : key) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte > 0x7e) {
      return "holds a control character or a byte outside printable ASCII, which an HTTP "
             "header cannot carry";
    }
  }
  if (!key.empty() && (key.front() == ' ' || key.back() == ' ')) {
    return "begins or ends with a space, which an HTTP header drops";
  }
  return "";
}

}  // namespace

Status LoadConfigFile(const std::string& path, ServerOptions* o) {
  std::ifstream in(path);
  if (!in) return Status::InvalidArgument("config file '" + path + "' cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = storage::ParseJson(text.str(), kMaxJsonDepth, "its text");
  if (!parsed.ok()) return Bad(path, parsed.status().message());
  const json& doc = *parsed;
  if (!doc.is_object()) return Bad(path, "expected a JSON object of settings");
  if (const std::string twice = DuplicateKey(text.str()); !twice.empty()) {
    return Bad(path, "\"" + twice + "\" is given twice in one object");
  }
  static const std::set<std::string> kKnown = {"address",
                                               "port",
                                               "io_threads",
                                               "worker_threads",
                                               "api_keys",
                                               "max_body_bytes",
                                               "max_header_bytes",
                                               "max_batch_points",
                                               "max_limit",
                                               "max_response_bytes",
                                               "max_connections",
                                               "max_pending_requests",
                                               "request_timeout_ms",
                                               "idle_timeout_ms",
                                               "drain_timeout_ms",
                                               "busy_poll_us",
                                               "access_log",
                                               "tls_cert_file",
                                               "tls_key_file"};
  for (const auto& [key, value] : doc.items()) {
    if (!kKnown.contains(key)) return Bad(path, "unknown setting \"" + key + "\"");
  }
  for (auto [key, out] :
       {std::pair{"address", &o->address}, std::pair{"tls_cert_file", &o->tls_cert_file},
        std::pair{"tls_key_file", &o->tls_key_file}}) {
    if (!doc.contains(key)) continue;
    if (!doc[key].is_string()) return Bad(path, std::string("\"") + key + "\" must be a string");
    *out = doc[key].get<std::string>();
  }
  NEARSTORE_RETURN_IF_ERROR(ReadNumber(doc, "port", 0, 65535, path, &o->port));
  NEARSTORE_RETURN_IF_ERROR(ReadNumber(doc, "io_threads", 1, 256, path, &o->io_threads));
  NEARSTORE_RETURN_IF_ERROR(ReadNumber(doc, "worker_threads", 0, 1024, path, &o->worker_threads));
  NEARSTORE_RETURN_IF_ERROR(
      ReadNumber(doc, "max_body_bytes", 1024, uint64_t{1} << 34, path, &o->max_body_bytes));
  NEARSTORE_RETURN_IF_ERROR(
      ReadNumber(doc, "max_header_bytes", 1024, 1 << 20, path, &o->max_header_bytes));
  NEARSTORE_RETURN_IF_ERROR(
      ReadNumber(doc, "max_batch_points", 1, 10'000'000, path, &o->max_batch_points));
  NEARSTORE_RETURN_IF_ERROR(ReadNumber(doc, "max_limit", 1, 100'000, path, &o->max_limit));
  NEARSTORE_RETURN_IF_ERROR(
      ReadNumber(doc, "max_response_bytes", 1024, uint64_t{1} << 34, path, &o->max_response_bytes));
  NEARSTORE_RETURN_IF_ERROR(
      ReadNumber(doc, "max_connections", 1, 1'000'000, path, &o->max_connections));
  NEARSTORE_RETURN_IF_ERROR(
      ReadNumber(doc, "max_pending_requests", 1, 1'000'000, path, &o->max_pending_requests));
  NEARSTORE_RETURN_IF_ERROR(
      ReadNumber(doc, "request_timeout_ms", 1, 3'600'000, path, &o->request_timeout_ms));
  NEARSTORE_RETURN_IF_ERROR(
      ReadNumber(doc, "idle_timeout_ms", 1, 3'600'000, path, &o->idle_timeout_ms));
  NEARSTORE_RETURN_IF_ERROR(
      ReadNumber(doc, "drain_timeout_ms", 0, 3'600'000, path, &o->drain_timeout_ms));
  NEARSTORE_RETURN_IF_ERROR(ReadNumber(doc, "busy_poll_us", 0, 100'000, path, &o->busy_poll_us));
  if (doc.contains("access_log")) {
    if (!doc["access_log"].is_boolean()) return Bad(path, "\"access_log\" must be true or false");
    o->access_log = doc["access_log"].get<bool>();
  }
  if (doc.contains("api_keys"))
    NEARSTORE_RETURN_IF_ERROR(ReadApiKeys(doc["api_keys"], path, &o->api_keys));
  return Status::Ok();
}

Status ValidateOptions(const ServerOptions& o) {
  if (o.io_threads < 1) return Status::InvalidArgument("io threads must be at least 1");
  if (o.worker_threads < 0) return Status::InvalidArgument("worker threads must be 0 or more");
  if (o.max_response_bytes < 1024) {
    return Status::InvalidArgument("max_response_bytes must be at least 1024, got " +
                                   std::to_string(o.max_response_bytes));
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < o.api_keys.size(); ++i) {
    const ApiKey& k = o.api_keys[i];
    // Named by place, never shown: the message may end up in a log.
    const std::string which = "API key #" + std::to_string(i + 1) + " (of those configured)";
    if (k.key.size() < 16) {
      return Status::InvalidArgument(which +
                                     " is too short: an API key must be at least 16 "
                                     "characters long");
    }
    if (const std::string why = UnpresentableKey(k.key); !why.empty()) {
      return Status::InvalidArgument(which + " " + why + ": no request could present it");
    }
    if (!seen.insert(k.key).second) return Status::InvalidArgument(which + " is listed twice");
    for (const auto& c : k.collections) {
      if (Status s = engine::ValidateCollectionName(c); !s.ok()) {
        return Status::InvalidArgument("an API key names a bad collection: " + s.message());
      }
    }
  }
  return Status::Ok();
}

}  // namespace nearstore::server
