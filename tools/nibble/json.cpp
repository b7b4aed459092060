#include "json.h"

#include <nlohmann/json.hpp>

namespace nibble::cli {

std::string json_string(std::string_view s) {
  // error_handler_t::replace: bytes that are not valid UTF-8 become U+FFFD.
  return nlohmann::json(std::string(s))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace nibble::cli
