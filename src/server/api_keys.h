// Authorizer: which API key a request presents, and what that key may do.
//
// Keys are kept as SHA-256 digests and a presented key is compared with every configured one
// in constant time (CRYPTO_memcmp of digests), so neither its length nor how much of it is
// right shows in the time an answer takes.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "server/server_options.h"

namespace nearstore::server {

class Authorizer {
 public:
  explicit Authorizer(std::vector<ApiKey> keys);

  // Whether any key is configured (without keys every request is allowed).
  bool enabled() const { return !keys_.empty(); }
  // The configured key equal to `presented`, or nullptr.
  const ApiKey* Find(std::string_view presented) const;
  // The key presented in an `api-key` header, or else in `Authorization: Bearer <key>`.
  static std::string_view Presented(std::string_view api_key_header,
                                    std::string_view authorization_header);
  // Whether `key` may do what needs `needed` on `collection` ("" = no collection in
  // particular: listing, creating; a key limited to some collections may not).
  static bool Allows(const ApiKey& key, Access needed, std::string_view collection);

 private:
  using Digest = std::array<unsigned char, 32>;
  static Digest Sha256(std::string_view text);
  std::vector<ApiKey> keys_;
  std::vector<Digest> digests_;
};

}  // namespace nearstore::server
