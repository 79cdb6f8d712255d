#include "server/router.h"

#include "engine/validate.h"

namespace nearstore::server {
namespace {

std::vector<std::string> Split(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 1;  // paths start with '/'
  while (start <= path.size()) {
    const size_t end = std::min(path.find('/', start), path.size());
    parts.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

bool IsParam(const std::string& part) {
  return part.size() > 2 && part.front() == '{' && part.back() == '}';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

const char* MethodName(Method method) {
  switch (method) {
    case Method::kGet:
      return "GET";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kPatch:
      return "PATCH";
    case Method::kDelete:
      return "DELETE";
    case Method::kHead:
      return "HEAD";
    case Method::kOther:
      break;
  }
  return "OTHER";
}

bool PercentDecode(std::string_view s, std::string* out) {
  out->clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out->push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return false;
    const int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

bool IsValidName(std::string_view name) { return engine::ValidateCollectionName(name).ok(); }

Route& Router::Add(Method method, std::string pattern, Access access, Handler handler, bool open) {
  std::vector<std::string> parts = Split(pattern);
  Route r{method, std::move(pattern), access, open, std::move(handler), std::move(parts)};
  return routes_.emplace_back(std::move(r));
}

Router::Match Router::Find(Method method, std::string_view path) const {
  Match best;
  if (path.empty() || path.front() != '/') return best;
  const std::vector<std::string> parts = Split(path);
  // Among the patterns the path fits, only those with the most literal segments count, so
  // ".../points/delete" is that route and not ".../points/{id}" with id "delete".
  int most_literals = -1;
  for (const auto& route : routes_) {
    if (route.parts.size() != parts.size()) continue;
    std::map<std::string, std::string> params;
    std::string bad_name;
    bool matches = true;
    int literals = 0;
    for (size_t i = 0; i < parts.size() && matches; ++i) {
      if (IsParam(route.parts[i])) {
        // An empty segment names nothing: no route ("/v1/collections/" is not a collection).
        matches = !parts[i].empty();
        std::string decoded;
        if (!PercentDecode(parts[i], &decoded) || !IsValidName(decoded)) {
          bad_name = parts[i];
        }
        params[route.parts[i].substr(1, route.parts[i].size() - 2)] = std::move(decoded);
      } else {
        matches = route.parts[i] == parts[i];
        ++literals;
      }
    }
    if (!matches || literals < most_literals) continue;
    if (literals > most_literals) {
      most_literals = literals;
      best = Match{};
    }
    if (route.method != method) {
      best.path_known = true;
      best.allowed.push_back(route.method);
      continue;
    }
    if (best.route != nullptr) continue;  // the first route added wins a tie
    best.route = &route;
    best.bad_name = std::move(bad_name);
    best.params = std::move(params);
  }
  if (best.route != nullptr) {
    best.path_known = false;
    best.allowed.clear();
  }
  return best;
}

}  // namespace nearstore::server
