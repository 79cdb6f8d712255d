// Router: the routes of the server, matched on method and path. A route's pattern is a path
// whose segments are literals or parameters ("/v1/collections/{collection}/search"); a
// parameter matches one URL-decoded segment that is a valid collection name (1..128 bytes of
// letters, digits, '_', '-', '.', not "." or ".."): names are validated before any handler
// sees them. (No file is ever named from a name: collection directories are numbered.)
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "server/server_options.h"

namespace nearstore::server {

enum class Method { kGet, kPost, kPut, kPatch, kDelete, kHead, kOther };
const char* MethodName(Method method);

struct Request {
  Method method = Method::kGet;
  std::string path;                           // without the query
  std::string query;                          // after '?', undecoded ("" when none)
  std::map<std::string, std::string> params;  // decoded path parameters
  // The x-nearstore-collection header: the incarnation of the collection the client's handle
  // names ("" = any), so that a handle to a dropped collection is not served by a new one.
  std::string incarnation;
  std::string body;
};

struct Response {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers{};  // more headers (e.g. Allow)
};

using Handler = std::function<Response(const Request&)>;

// Where a route's handler runs.
// - kQueued: on the bounded worker pool (writes, batches, scans, maintenance), so that long
//   work never holds up the I/O threads reading other connections.
// - kInline: on the I/O thread that read the request, for short reads (one search, one lookup,
//   health). Handing such a request to a worker and its answer back costs two thread wake-ups:
//   on a 2-core VM, 0.62 ms per search against 0.38 inline (bench/server/run.py).
enum class Work { kQueued, kInline };

struct Route {
  Method method;
  std::string pattern;  // also the route's label in metrics and the access log
  Access access;        // what a key needs
  bool open = false;    // served without a key (health checks)
  Handler handler;
  std::vector<std::string> parts;  // the pattern split at '/'
  Work work = Work::kQueued;
};

class Router {
 public:
  // The route added, whose `work` the caller may set.
  Route& Add(Method method, std::string pattern, Access access, Handler handler, bool open = false);

  struct Match {
    const Route* route = nullptr;  // null: no route
    bool path_known = false;       // some route has this path with another method (405)
    std::vector<Method> allowed;   // then, the methods it has (the Allow header of a 405)
    std::string bad_name;          // a parameter's segment (never empty) was not a valid name (400)
    std::map<std::string, std::string> params;
  };
  Match Find(Method method, std::string_view path) const;

 private:
  std::vector<Route> routes_;
};

// `s` with %XX sequences decoded; false when a sequence is malformed.
bool PercentDecode(std::string_view s, std::string* out);
// Whether `name` is a valid collection name (the engine's rule).
bool IsValidName(std::string_view name);

}  // namespace nearstore::server
