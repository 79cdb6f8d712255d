// The OpenAPI 3 description of everything the server serves (api/openapi.json in the
// repository, compiled in), served at /openapi.json.
#pragma once

#include <string_view>

namespace nearstore::server {

std::string_view OpenApiJson();

}  // namespace nearstore::server
