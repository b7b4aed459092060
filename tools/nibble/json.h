// JSON output helpers shared by the `nibble` commands that print --json.
#pragma once

#include <string>
#include <string_view>

namespace nibble::cli {

// JSON string literal (nlohmann-json): quotes, backslash and characters below U+0020 escaped;
// bytes that are not valid UTF-8 become U+FFFD so the output always parses.
std::string json_string(std::string_view s);

}  // namespace nibble::cli
