#include "server/api_keys.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>

namespace nearstore::server {

Authorizer::Authorizer(std::vector<ApiKey> keys) : keys_(std::move(keys)) {
  for (const auto& k : keys_) digests_.push_back(Sha256(k.key));
}

Authorizer::Digest Authorizer::Sha256(std::string_view text) {
  Digest d{};
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), d.data(), &len, EVP_sha256(), nullptr);
  return d;
}

const ApiKey* Authorizer::Find(std::string_view presented) const {
  const Digest d = Sha256(presented);
  const ApiKey* found = nullptr;
  // Every key is compared, whichever matches.
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (CRYPTO_memcmp(d.data(), digests_[i].data(), d.size()) == 0) found = &keys_[i];
  }
  return found;
}

std::string_view Authorizer::Presented(std::string_view api_key_header,
                                       std::string_view authorization_header) {
  if (!api_key_header.empty()) return api_key_header;
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization_header.size() > kBearer.size() &&
      std::equal(kBearer.begin(), kBearer.end(), authorization_header.begin(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) ==
               std::tolower(static_cast<unsigned char>(b));
      })) {
    return authorization_header.substr(kBearer.size());
  }
  return {};
}

bool Authorizer::Allows(const ApiKey& key, Access needed, std::string_view collection) {
  if (needed == Access::kReadWrite && key.access != Access::kReadWrite) return false;
  if (key.collections.empty()) return true;
  return !collection.empty() && std::find(key.collections.begin(), key.collections.end(),
                                          collection) != key.collections.end();
}

}  // namespace nearstore::server
